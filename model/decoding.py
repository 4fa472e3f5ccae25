"""Decoding a text report's bytes: UTF-8, UTF-16 (with or without BOM), GB18030/GBK or Big5.

Chinese reports reach analysts in every encoding Windows has used: UTF-8 (with or without BOM),
Notepad's "Unicode" (UTF-16, usually with a BOM), GBK/GB18030 from mainland systems and Big5 from
Taiwan, Hong Kong and Macau. UTF-8 is so structured that a strict decode is proof enough. GB18030
and Big5 accept almost any byte pairs, so a Big5 file also "decodes" as GB18030 (to nonsense); the
two are told apart by which decoding yields the more common characters (GB2312's and Big5's own
"frequently used" blocks). A file none of them decodes is refused on the line of the first bad byte
under the encoding that fits the rest of the file best.

Example:
    >>> decode_text(Path("r.txt"), "平陽縣科技局".encode("big5"))
    '平陽縣科技局'
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from govtag.errors import GovtagError

# (codec, name in messages, first bytes of its frequently used characters and punctuation): GB2312's
# symbol rows A1-A3 and hanzi levels 1-2 (B0-F7); Big5's symbols and level-1 hanzi (A1-C6).
_LEGACY = (("gb18030", "GB18030", range(0xA1, 0xF8)), ("big5", "Big5", range(0xA1, 0xC7)))
_COMMON_CODEC = {"gb18030": "gb2312", "big5": "big5"}
_MIN_COMMON = 0.7
# Text has no control characters besides tab, line breaks and form feed; UTF-16 read with the wrong
# byte order, or binary data read as UTF-16, is full of them (and of unassigned code points).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff]")
_EXPECTED = "expected a UTF-8, UTF-16, GB18030/GBK or Big5 text file (re-save it as UTF-8)"


def decode_text(path: Path, raw: bytes) -> str:
    """Decode a text report, trying UTF-16 with BOM, UTF-8, UTF-16 without BOM, GB18030 and Big5.

    Args:
        path: the file, named in error messages.
        raw: its bytes.

    Returns:
        The decoded text.

    Raises:
        GovtagError: binary data, or bytes no supported encoding reads as plausible Chinese text;
            the message names the line of the first undecodable byte.

    Example:
        >>> decode_text(Path("r.txt"), "全年完成任务。".encode("gb18030"))
        '全年完成任务。'
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Notepad's "Unicode"
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw:  # never in UTF-8 or legacy text; UTF-16 has one beside every ASCII character
        text = _utf16_without_bom(raw)
        if text is None:
            raise GovtagError(f"{path}: looks like a binary file (it contains NUL bytes); {_EXPECTED}")
        return text
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    decoded = []
    for codec, _, lead in _LEGACY:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        decoded.append((_common_share(text, codec, lead), text))
    share, text = max(decoded, default=(0.0, ""))
    if share >= _MIN_COMMON:
        return text
    stray = _stray_byte(raw, anything_decoded=bool(decoded))
    if stray and stray[2] == "UTF-8":
        raise GovtagError(f"{path}:{stray[0]}: byte 0x{stray[1]:02x} is not valid UTF-8 though the rest of the file "
                          "is; remove the stray byte or re-save the file as UTF-8")
    if stray:
        raise GovtagError(f"{path}:{stray[0]}: byte 0x{stray[1]:02x} is valid in no supported encoding (the "
                          f"nearest is {stray[2]}){_guess(raw)}; {_EXPECTED}")
    # it decodes, but to rare characters no report uses (e.g. Latin-1 "café" read as GB18030)
    raise GovtagError(f"{path}: is neither UTF-8 nor plausible GB18030 or Big5 Chinese text{_guess(raw)}; "
                      f"{_EXPECTED}")


def _utf16_without_bom(raw: bytes) -> str | None:
    """The text if ``raw`` is UTF-16 without BOM: ASCII characters (digits, line breaks) put a NUL
    in every other byte, on the odd side for little-endian and the even side for big-endian."""
    if len(raw) % 2:
        return None
    odd, even = raw[1::2].count(0), raw[0::2].count(0)
    codec = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _common_share(text: str, codec: str, lead: range) -> float:
    """Share of the non-ASCII characters of (a sample of) ``text`` that are frequently used ones."""
    wide = [c for c in text[:20000] if ord(c) > 127]
    if not wide:
        return 1.0
    common = 0
    for c in wide:
        b = c.encode(_COMMON_CODEC[codec], errors="ignore")
        common += len(b) == 2 and b[0] in lead
    return common / len(wide)


def _stray_byte(raw: bytes, anything_decoded: bool) -> tuple[int, int, str] | None:
    """(line, byte, encoding) of the first undecodable byte of a file in one encoding but for a few
    stray bytes: UTF-8 with at most one bad spot per 1000 bytes, or else, when no encoding reads
    the file at all, the one with the fewest bad spots. None when the file is not of that kind."""
    failures = []  # (bad spots, first bad byte, name); every codec here fails strictly
    for codec, name in [("utf-8", "UTF-8"), *((codec, name) for codec, name, _ in _LEGACY)]:
        try:
            raw.decode(codec)
        except UnicodeDecodeError as e:
            failures.append((raw.decode(codec, errors="replace").count("\ufffd"), e.start, name))
    if failures[0][0] <= max(1, len(raw) // 1000):
        best = failures[0]
    elif anything_decoded:
        return None
    else:
        best = min(failures)
    _, start, name = best
    return raw.count(b"\n", 0, start) + 1, raw[start], name


def _guess(raw: bytes) -> str:
    """' (it looks like cp1252)' from charset-normalizer, for error messages only."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:20000]).best()
    except Exception:  # a guess for a message must never hide the real error
        return ""
    return f" (it looks like {best.encoding})" if best is not None else ""
