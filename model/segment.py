"""Reading reports and splitting them into sentence records with heading paths and offsets.

A report is read (``.txt`` in UTF-8, UTF-8 with BOM, UTF-16 with BOM or GB18030/GBK, or ``.docx``),
normalised (whitespace and line endings only), and cut into records: the title line, headings
(``一、…`` level 1, ``（一）…`` level 2, ``1.…`` level 3 on its own line) and sentences. Segmentation is
lossless: the records' texts, in order, with the whitespace dropped between them, rebuild the
normalised text, and ``text == normalised[start:end]`` for every record.

Example:
    >>> [s.text for s in segment_text("一、2022年工作总结(一)抓指标。全年完成任务；超额。")]
    ['一、2022年工作总结', '(一)抓指标。', '全年完成任务；超额。']
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from govtag.errors import GovtagError

SUPPORTED = (".txt", ".docx")
TERMINATORS = "。！？!?"
# Characters that stay with the sentence they follow: closing quotes/brackets, further terminators
# ("？！", "。。") and ellipses. ASCII quotes are ambiguous and handled by parity (see _sentence_end).
_TRAILERS = set(TERMINATORS + "”’」』）)】》〉］]｝}〕…⋯")
# Everything str.splitlines() treats as a line break; normalise() turns each into "\n".
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_STOP = re.compile(f"[{re.escape(TERMINATORS + _BREAKS)}]")
_WS = re.compile(r"\s*")
_NUM = "一二三四五六七八九十"
# Level 1 "一、" but not "一、二产融合" (a list of numerals, not a heading).
_L1 = re.compile(f"[{_NUM}]{{1,3}}、(?![{_NUM}])")
_L2 = re.compile(f"[（(][{_NUM}]{{1,3}}[）)]")
_L2_FIRST = re.compile(r"[（(]一[）)]")
# Only accepted as a whole short line without terminators: in flowing text "第一部分" or "1." are
# far more often part of a sentence or a list item than a heading.
_PART = re.compile(f"第[{_NUM}]{{1,3}}(部分|章)")
_L3 = re.compile(r"[0-9０-９]{1,2}[.．、](?![0-9])")
# Words that end a level-1 heading glued to its body ("二、2023年工作思路深入学习…"). Compounds come
# first so "目标任务完成情况" is taken whole rather than cut after "目标".
_HEAD_WORDS = sorted("""工作总结 总结 回顾 思路 计划 打算 安排 要点 情况 成效 问题 不足 措施 举措 目标 做法 体会
    建议 经验 成绩 设想 原因 主要工作 目标任务 完成情况 进展情况 开展情况 落实情况 推进情况 执行情况
    运行情况""".split(), key=len, reverse=True)
_HEAD_WORD = re.compile("|".join(_HEAD_WORDS))
# After a heading word these mean the heading goes on ("问题和不足", "做法及成效", "问题，…").
_CONTINUES = set("的和及与、暨并或等之") | set("，,；;：:") | _TRAILERS
_CLAUSE_END = re.compile(f"[，,；;：:{re.escape(TERMINATORS + _BREAKS)}]")
_TITLE_WORDS = re.compile("总结|报告|计划|要点|思路|打算|材料|汇报|情况|自评|述职|回顾|安排|方案|规划|讲话|发言|通报")
_MAX_TITLE = 60
_GLUE_WINDOW = 30


@dataclass(frozen=True)
class Sentence:
    """One record of a report: a title line, a heading or a sentence.

    ``section`` is the heading path above the record (a heading is not in its own path);
    ``start``/``end`` index the normalised text, so ``text == normalised[start:end]``.

    Example:
        >>> Sentence("平阳县科技局工作总结", 3, "全年新增高企42家。", ["一、2022年工作总结"], False, 40, 50).to_dict()["text"]
        '全年新增高企42家。'
    """

    doc: str
    index: int
    text: str
    section: list[str]
    is_heading: bool
    start: int
    end: int

    def to_dict(self) -> dict:
        """The record as a plain dict with exactly the dataclass fields (``section`` copied)."""
        return asdict(self)


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
    lines = (line.strip() for line in re.split(f"[{_BREAKS}]", text))
    return "\n".join(line for line in lines if line)


def detect_title(normalised_text: str, fallback: str) -> str:
    """The report's title: its first line when that reads as a title, else ``fallback``.

    A title is at most 60 characters, has no sentence punctuation (。！？!?；;) and does not end in
    a comma or colon, is not a heading (``一、``, ``（一）``…), and names a report genre (总结, 报告,
    计划, 思路, 汇报, 情况, 自评, 述职…).

    Args:
        normalised_text: output of :func:`normalise`.
        fallback: returned when the first line is not a title (usually the file stem).

    Returns:
        The title.

    Example:
        >>> detect_title("平阳县科技局2022年工作总结\\n2022年，县科技局坚持创新。", "pingyang")
        '平阳县科技局2022年工作总结'
    """
    first = re.split(f"[{_BREAKS}]", normalised_text.strip(), maxsplit=1)[0].strip()
    if not first or len(first) > _MAX_TITLE or re.search(f"[{TERMINATORS}；;]|[，,：:]$", first):
        return fallback
    if any(p.match(first) for p in (_L1, _L2, _PART, _L3)) or not _TITLE_WORDS.search(first):
        return fallback
    return first


def segment_text(text: str, doc: str | None = None, fallback_title: str = "") -> list[Sentence]:
    """Split normalised report text into title, heading and sentence records.

    Sentences end at 。！？!? together with the closing quotes/brackets and further terminators
    right after them, or at a line break; ；; do not end a sentence. Headings are records of their
    own and set the section path; a new level-1 heading resets the lower levels.

    Args:
        text: normalised text (see :func:`normalise`); other text still segments losslessly.
        doc: the report title; ``None`` detects it with :func:`detect_title`.
        fallback_title: the title when none is detected (usually the file stem).

    Returns:
        The records in order, ``index`` counting from 0.

    Example:
        >>> [(s.text, s.section) for s in segment_text("二、2023年工作思路深入学习。(一)抓指标。")][1:]
        [('深入学习。', ['二、2023年工作思路']), ('(一)抓指标。', ['二、2023年工作思路'])]
    """
    title = detect_title(text, fallback_title) if doc is None else doc
    out: list[Sentence] = []
    levels: dict[int, str] = {}
    pos, n = 0, len(text)
    while True:
        prev, pos = pos, _WS.match(text, pos).end()
        if pos >= n:
            return out
        line_start = prev == 0 or any(c in _BREAKS for c in text[prev:pos])
        level, end = _next_record(text, pos, line_start)
        while end > pos and text[end - 1].isspace():  # records never end in whitespace
            end -= 1
        if level:
            levels = {k: v for k, v in levels.items() if k < level}
        out.append(Sentence(title, len(out), text[pos:end], [levels[k] for k in sorted(levels)],
                            bool(level), pos, end))
        if level:
            levels[level] = text[pos:end]
        pos = end


def _next_record(text: str, pos: int, line_start: bool) -> tuple[int, int]:
    """(heading level or 0, end) of the record starting at ``pos`` (a non-space character).

    Every record starts at a line start, after a sentence end or after a heading, so a heading
    marker found here is never in the middle of a sentence ("实现一、二产融合" stays one sentence).
    """
    stop = _STOP.search(text, pos)
    s = stop.start() if stop else len(text)
    on_break = s == len(text) or text[s] in _BREAKS
    end = s if on_break else _sentence_end(text, pos, s)  # the first sentence (or the line)
    if line_start and on_break and end - pos <= _MAX_TITLE and (_PART.match(text, pos) or _L3.match(text, pos)):
        return (1 if _PART.match(text, pos) else 3), end
    if _L2.match(text, pos):
        return 2, end
    m = _L1.match(text, pos)
    if not m:
        return 0, end
    if on_break:
        if end - pos <= _MAX_TITLE:
            return 1, end  # a short line of its own, no terminator: all of it
        return 1, _glued_heading_end(text, m.end(), s, end, words=True)
    # A line holding just this sentence shows no sign of lost line breaks, and a heading word would
    # cut a heading like "一、工作目标明确，成效显著。" in two; only a "（一）" splits it.
    after = _WS.match(text, end).end()
    alone = after >= len(text) or any(c in _BREAKS for c in text[end:after])
    return 1, _glued_heading_end(text, m.end(), s, end, words=not alone)


def _glued_heading_end(text: str, body: int, stop: int, fallback: int, words: bool) -> int:
    """Where a level-1 heading glued to the following text ends (web copies drop line breaks).

    ``body`` is just after the "一、" marker and ``stop`` the first terminator or line break. The
    heading ends before a "（一）" that follows it, else (when ``words``) after the earliest heading
    word ("总结", "思路", "情况"…) within 30 characters, before any comma, and not followed by words
    that carry the heading on ("和", "及", "的"…); adjacent heading words ("目标任务" + "完成情况")
    are taken together. With neither, it ends with its first sentence (``fallback``), like a level 2.
    """
    sub = _L2_FIRST.search(text, body, min(stop, body + 2 * _GLUE_WINDOW))
    if sub and sub.start() > body:
        return sub.start()
    if not words:
        return fallback
    clause = _CLAUSE_END.search(text, body)
    limit = min(clause.start() if clause else len(text), body + _GLUE_WINDOW)
    found = list(_HEAD_WORD.finditer(text, body, limit))
    i = 0
    while i < len(found):
        end = found[i].end()
        while i + 1 < len(found) and found[i + 1].start() == end:
            i += 1
            end = found[i].end()
        if end < len(text) and text[end] not in _CONTINUES:
            return end
        i += 1
    return fallback


def _sentence_end(text: str, start: int, term: int) -> int:
    """End of the sentence from ``start`` whose terminator is at ``term``, closers included.

    An ASCII quote after the terminator closes the sentence's quote only when the sentence so far
    holds an odd number of them; otherwise it opens the next sentence's quotation.
    """
    j = term + 1
    while j < len(text):
        c = text[j]
        if c in _TRAILERS or (c in "\"'" and text.count(c, start, j) % 2 == 1):
            j += 1
        else:
            break
    return j


def read_document(path: str | Path) -> str:
    """Read a ``.txt`` or ``.docx`` report and return its normalised text.

    Text files are decoded as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which
    covers GBK and GB2312), tried strictly in that order; ``.docx`` paragraphs are joined with "\\n".

    Args:
        path: the report file.

    Returns:
        The normalised text (see :func:`normalise`), never empty.

    Raises:
        GovtagError: the file is missing, a folder, empty, binary, not decodable, of an
            unsupported type or a corrupt ``.docx``.

    Example:
        >>> read_document("data/reports/pingyang-keji-2022.txt")[:19]
        '县政府部门工作总结范文推选3篇县政府部'
    """
    path = Path(path)
    if not path.exists():
        raise GovtagError(f"{path}: no such file; expected a report in one of {', '.join(SUPPORTED)}")
    if path.is_dir():
        raise GovtagError(f"{path}: is a folder; expected a report file in one of {', '.join(SUPPORTED)}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise GovtagError(f"{path}: unsupported file type '{path.suffix or '(none)'}'; "
                          f"expected one of {', '.join(SUPPORTED)} (save Word files as .docx, PDFs as .txt)")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise GovtagError(f"{path}: cannot be read ({e.strerror or e}); expected a readable file") from None
    text = _read_docx(path) if suffix == ".docx" and raw else _decode(path, raw)
    text = normalise(text)
    if not text:
        raise GovtagError(f"{path}: the file is empty or only whitespace; expected the text of a report")
    return text


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode": full of NUL bytes, yet text
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw:
        raise GovtagError(f"{path}: looks like a binary file (it contains NUL bytes); "
                          "expected a UTF-8 or GB18030 text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise GovtagError(f"{path}:{line}: bytes that are neither UTF-8 nor GB18030{_guess(raw)}; "
                          "expected a UTF-8 or GB18030 text file (re-save it as UTF-8)") from None
    # GB18030 accepts almost any byte pairs, so Latin-1 "café" decodes to rare characters; real
    # Chinese text is mostly in the common GB2312 set.
    sample = text[:20000]
    wide = sum(1 for c in sample if ord(c) > 127)
    common = (len(sample.encode("gb2312", errors="ignore")) - (len(sample) - wide)) // 2
    if wide and common < 0.7 * wide:
        raise GovtagError(f"{path}: is neither UTF-8 nor plausible GB18030 Chinese text{_guess(raw)}; "
                          "expected a UTF-8 or GB18030 text file (re-save it as UTF-8)")
    return text


def _guess(raw: bytes) -> str:
    """' (it looks like cp1252)' from charset-normalizer, for error messages only."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:20000]).best()
    except Exception:  # a guess for a message must never hide the real error
        return ""
    return f" (it looks like {best.encoding})" if best is not None else ""


def _read_docx(path: Path) -> str:
    try:
        import docx

        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises zipfile, lxml and KeyError errors for broken files
        raise GovtagError(f"{path}: not a readable .docx file ({type(e).__name__}); "
                          "expected a Word document saved as .docx") from None
    return "\n".join(p.text for p in document.paragraphs)


def segment_file(path: str | Path) -> list[Sentence]:
    """Read a report and segment it; the title falls back to the file name without extension.

    Args:
        path: a ``.txt`` or ``.docx`` report.

    Returns:
        The records of :func:`segment_text`.

    Raises:
        GovtagError: as :func:`read_document`.

    Example:
        >>> segment_file("data/reports/pingyang-keji-2022.txt")[2].text
        '一、2022年工作总结'
    """
    return segment_text(read_document(path), None, Path(path).stem)
