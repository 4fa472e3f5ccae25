"""Reading report files into normalised text: plain text, Word, PDF and saved web pages.

Every reader ends in :func:`normalise`, which changes whitespace and line endings only, so offsets
into its result point at what the user wrote. What each format contributes:

* ``.txt``: any encoding :mod:`govtag.decoding` knows (UTF-8, UTF-16, GB18030/GBK, Big5).
* ``.docx``: paragraphs and table rows in document order; a row is one line with its cells
  separated by tabs, so an indicator stays on one line with its target and result and is tagged as
  one record (a cell alone, "21.6亿元", says nothing a model can tag).
* ``.pdf``: the text layer, page by page, with pdfplumber. Measured by ``scripts/bench.py segment
  --pdf-compare 20`` on 20 corpus reports made into PDFs: laid out plainly, pypdf (7 ms a file),
  pdfminer.six (28 ms) and pdfplumber (54 ms) all give the exact text; with the characters spaced
  out as in justified text (Word and WPS exports), pypdf and pdfminer.six put about 18,100 spaces
  between Chinese characters ("平 阳 县") and pdfplumber, with a gap threshold relative to the font
  size, none. pdfminer.six also put a running header below the page's first line. pdfplumber is
  the slowest, and still far below a second per report.
* ``.html``/``.htm`` and ``.mhtml``/``.mht`` (a page saved whole by a browser): the main text,
  found by trafilatura, which leaves out menus and side bars; what it lets through (buttons,
  banners) is marked as page chrome by the segmenter.
* ``.doc`` (Word 97) cannot be read; the message says to save it as .docx or PDF.

Example:
    >>> read_document("data/reports/pingyang-keji-2022.txt")[:15]
    '县政府部门工作总结范文推选3篇'
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from govtag.decoding import decode_text
from govtag.errors import GovtagError

READABLE = (".txt", ".docx", ".pdf", ".html", ".htm", ".mhtml", ".mht")
# What a folder or pattern of reports is searched for. ".doc" is in it so that a Word 97 file among
# the reports is reported (save it as .docx) rather than passed over in silence.
SUFFIXES = READABLE + (".doc",)
# Everything str.splitlines() treats as a line break; normalise() turns each into "\n".
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the start of every Word 97 (.doc) file
# A gap of half a character before a new character means a space; justified Chinese text spaces
# its characters out by up to that much (pdfplumber's default, 3 points, splits it at 12-point size).
_PDF_GAP = 0.5


def normalise(text: str) -> str:
    """Normalise whitespace and line endings only, so offsets still point at what the user wrote.

    Every line break (``\\r\\n``, ``\\r``, ``\\u2028`` and the other breaks ``str.splitlines`` knows)
    becomes ``\\n``; whitespace at the start and end of each line (spaces, tabs, ``\\u3000``, NBSP…) is
    stripped; blank lines are dropped, as is any break at the start or end of the text. Whitespace
    inside a line and every other character (punctuation width, quotes, digits) are left exactly
    as they were: no NFKC.

    Args:
        text: decoded report text.

    Returns:
        The normalised text: non-empty lines joined by ``\\n``, no trailing newline.

    Example:
        >>> normalise("\\u3000\\u3000一、工作总结\\r\\n\\r\\n  全年完成任务。 \\n")
        '一、工作总结\\n全年完成任务。'
    """
    text = text.replace("\r\n", "\n")
    lines = (line.strip() for line in re.split(f"[{BREAKS}]", text))
    return "\n".join(line for line in lines if line)


def read_document(path: str | Path) -> str:
    """Read a report in any supported format and return its normalised text.

    Args:
        path: the report file (see ``READABLE``).

    Returns:
        The normalised text (see :func:`normalise`), never empty.

    Raises:
        GovtagError: the file is missing, a folder or not a regular file (a pipe), empty, binary,
            not decodable, of an unsupported type, a ``.doc``, corrupt, or a PDF with no text layer.

    Example:
        >>> read_document("data/reports/pingyang-keji-2022.txt")[:9]
        '县政府部门工作总结'
    """
    path = Path(path)
    raw = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix == ".doc" or (suffix == ".docx" and raw.startswith(_OLE)):
        raise GovtagError(f"{path}: is a Word 97 (.doc) file, which govtag cannot read; open it in Word or WPS "
                          "and save it as .docx (or export a PDF)")
    if not raw:
        text = ""
    elif suffix == ".docx":
        text = _read_docx(path)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix in (".html", ".htm"):
        text = _main_text(path, raw)
    elif suffix in (".mhtml", ".mht"):
        text = _main_text(path, _mhtml_page(path, raw))
    else:
        text = decode_text(path, raw)
    text = normalise(text)
    if not text:
        raise GovtagError(f"{path}: the file is empty or only whitespace; expected the text of a report")
    return text


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, after checking that it is a regular file of a supported type."""
    expected = f"expected a report file in one of {', '.join(READABLE)}"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise GovtagError(f"{path}: no such file; {expected}") from None
    except OSError as e:
        raise GovtagError(f"{path}: cannot be read ({e.strerror or e}); {expected}") from None
    if stat.S_ISDIR(mode):
        raise GovtagError(f"{path}: is a folder; {expected}")
    if not stat.S_ISREG(mode):  # a pipe or a device: reading it could wait for ever
        raise GovtagError(f"{path}: is not a regular file (a pipe, socket or device); {expected}")
    if path.suffix.lower() not in SUFFIXES:
        raise GovtagError(f"{path}: unsupported file type '{path.suffix or '(none)'}'; {expected}")
    try:
        return path.read_bytes()
    except OSError as e:
        raise GovtagError(f"{path}: cannot be read ({e.strerror or e}); expected a readable file") from None


def _read_docx(path: Path) -> str:
    """Paragraphs and table rows in document order, one line each."""
    try:
        import docx

        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises zipfile, lxml and KeyError errors for broken files
        raise GovtagError(f"{path}: not a readable .docx file ({type(e).__name__}); "
                          "expected a Word document saved as .docx") from None
    return "\n".join(_block_lines(document))


def _block_lines(container) -> list[str]:
    """Lines of a document or table cell: each paragraph, and each table row as its cells' texts
    joined by tabs. A cell merged across columns is read once; one merged down from the row above
    ("continue") holds nothing of its own."""
    from docx.table import Table, _Cell

    lines = []
    for block in container.iter_inner_content():
        if not isinstance(block, Table):
            lines.append(block.text)
            continue
        for row in block.rows:
            cells = [_Cell(tc, block) for tc in row._tr.tc_lst if tc.vMerge != "continue"]
            # a cell's own paragraphs and nested tables stay on the row's line, separated by spaces
            lines.append("\t".join(" ".join(line.strip() for line in _block_lines(c)).strip() for c in cells))
    return lines


def _read_pdf(path: Path) -> str:
    """The text layer, page by page; a scanned PDF (images only) ends in one sentence."""
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            pages = [page.extract_text(x_tolerance_ratio=_PDF_GAP) or "" for page in pdf.pages]
    except Exception as e:  # pdfminer raises its own syntax, password and EOF errors for bad files
        reason = "it is password-protected" if "password" in repr(e).lower() else type(e).__name__
        raise GovtagError(f"{path}: not a readable PDF ({reason}); expected an unprotected PDF with a text "
                          "layer") from None
    if not any(page.strip() for page in pages):
        raise GovtagError(f"{path}: the PDF has no text layer (a scan of {len(pages)} page(s)?); run it through "
                          "OCR (e.g. in WPS or Acrobat) and save the text as .txt or .docx")
    return "\n".join(pages)


def _mhtml_page(path: Path, raw: bytes) -> str | bytes:
    """The HTML part of a page saved whole (MHTML: a MIME message holding the page and its images)."""
    import email
    import email.policy

    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True) or b""
            try:  # browsers re-encode the page and name the encoding here, not always in its <meta>
                return html.decode(part.get_content_charset() or "", "strict")
            except (LookupError, UnicodeDecodeError):
                return html  # trafilatura detects the encoding of bytes
    raise GovtagError(f"{path}: holds no web page (no text/html part); expected a page saved as .mhtml")


def _main_text(path: Path, html: str | bytes) -> str:
    """The page's main text (trafilatura), or all its text when it finds no main part."""
    import trafilatura

    text = trafilatura.extract(html, include_tables=True, favor_recall=True, deduplicate=False)
    if not text:
        text = trafilatura.html2txt(html)
    return text or ""
