"""Cutting a report's text into sentence records with heading paths and lossless offsets.

A report is read by :mod:`govtag.readers` (text in any Chinese encoding, Word, PDF, web pages) into
normalised text (whitespace and line endings only). Its page-chrome lines are found
(:mod:`govtag.chrome`), the line breaks a hard-wrapped copy made in mid-sentence are read through
(:mod:`govtag.reflow`), and the text is cut into records: the title line, headings (``一、…``
level 1, ``（一）…`` level 2, ``1.…``, ``(1)…``, ``①…`` levels 3-5 on a short line of their own),
sentences and page chrome (``is_noise``). Segmentation is lossless: ``text == normalised[start:end]``
for every record, and the records' texts, in order, rebuild the normalised text but for the
whitespace between them (a record of a wrapped copy keeps the line breaks inside it).

Example:
    >>> [s.text for s in segment_text("一、2022年工作总结(一)抓指标。全年完成任务；超额。")]
    ['一、2022年工作总结', '(一)抓指标。', '全年完成任务；超额。']
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from govtag.chrome import chrome_lines
from govtag.readers import BREAKS, read_document
from govtag.reflow import ITEMS, L1, L2, MAX_TITLE, PART, TITLE_WORDS, hard_wrap, line_spans, reflow

TERMINATORS = "。！？!?"
# Characters that stay with the sentence they follow: closing quotes/brackets, further terminators
# ("？！", "。。") and ellipses. ASCII quotes are ambiguous and handled by parity (see _sentence_end).
_TRAILERS = set(TERMINATORS + "”’」』）)】》〉］]｝}〕…⋯")
_STOP = re.compile(f"[{re.escape(TERMINATORS + BREAKS)}]")
_WS = re.compile(r"\s*")
_L2_FIRST = re.compile(r"[（(]一[）)]")
# Words that end a level-1 heading glued to its body ("二、2023年工作思路深入学习…"). Compounds come
# first so "目标任务完成情况" is taken whole rather than cut after "目标".
_HEAD_WORDS = sorted("""工作总结 总结 回顾 思路 计划 打算 安排 要点 情况 成效 问题 不足 措施 举措 目标 做法 体会
    建议 经验 成绩 设想 原因 主要工作 目标任务 完成情况 进展情况 开展情况 落实情况 推进情况 执行情况
    运行情况""".split(), key=len, reverse=True)
_HEAD_WORD = re.compile("|".join(_HEAD_WORDS))
# After a heading word these mean the heading goes on ("问题和不足", "做法及成效", "问题，…").
_CONTINUES = set("的和及与、暨并或等之") | set("，,；;：:") | _TRAILERS
_CLAUSE_END = re.compile(f"[，,；;：:{re.escape(TERMINATORS + BREAKS)}]")
_GLUE_WINDOW = 30


@dataclass(frozen=True)
class Sentence:
    """One record of a report: a title line, a heading or a sentence.

    ``section`` is the heading path above the record (a heading is not in its own path);
    ``start``/``end`` index the normalised text, so ``text == normalised[start:end]``; ``is_noise``
    marks page chrome (a page counter, a site's buttons), which is never a heading nor tagged.

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
    is_noise: bool = False

    def to_dict(self) -> dict:
        """The record as a plain dict with exactly the dataclass fields (``section`` copied)."""
        return asdict(self)


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
    first = re.split(f"[{BREAKS}]", normalised_text.strip(), maxsplit=1)[0].strip()
    if not first or len(first) > MAX_TITLE or re.search(f"[{TERMINATORS}；;]|[，,：:]$", first):
        return fallback
    if any(p.match(first) for p in (L1, L2, PART, *(p for _, p in ITEMS))) or not TITLE_WORDS.search(first):
        return fallback
    return first


def segment_text(text: str, doc: str | None = None, fallback_title: str = "") -> list[Sentence]:
    """Split normalised report text into title, heading and sentence records.

    Sentences end at 。！？!? together with the closing quotes/brackets and further terminators
    right after them, or at a line break; ；; do not end a sentence. Headings are records of their
    own and set the section path; a new level-1 heading resets the lower levels. Soft line breaks
    (:mod:`govtag.reflow`) end nothing; page-chrome lines are records of their own, marked
    ``is_noise``.

    Args:
        text: normalised text (see :func:`govtag.readers.normalise`); other text still segments
            losslessly.
        doc: the report title; ``None`` detects it with :func:`detect_title`.
        fallback_title: the title when none is detected (usually the file stem).

    Returns:
        The records in order, ``index`` counting from 0.

    Example:
        >>> [(s.text, s.section) for s in segment_text("二、2023年工作思路深入学习。(一)抓指标。")][1:]
        [('深入学习。', ['二、2023年工作思路']), ('(一)抓指标。', ['二、2023年工作思路'])]
    """
    spans = line_spans(text)
    lines = [text[a:b] for a, b in spans]
    title_first = bool(lines) and detect_title(lines[0], "") != ""
    chrome = chrome_lines(lines, title_first)
    flow = reflow(text, spans, chrome, title_first)
    flowed, n = flow.text, len(flow.text)
    first = next((flow.line_starts[i] for i in range(len(lines)) if i not in flow.chrome), n)
    title = detect_title(flowed[first:], fallback_title) if doc is None else doc
    out: list[Sentence] = []
    levels: dict[int, str] = {}
    pos = 0
    while True:
        prev, pos = pos, _WS.match(flowed, pos).end()
        if pos >= n:
            return out
        level, end = 0, flow.noise.get(pos, 0)
        if not end:
            line_start = prev == 0 or any(c in BREAKS for c in flowed[prev:pos])
            level, end = _next_record(flowed, pos, line_start)
            while end > pos and flowed[end - 1].isspace():  # records never end in whitespace
                end -= 1
        if level:
            levels = {k: v for k, v in levels.items() if k < level}
        start, stop = flow.original(pos), flow.original(end - 1) + 1
        out.append(Sentence(title, len(out), text[start:stop], [levels[k] for k in sorted(levels)],
                            bool(level), start, stop, pos in flow.noise))
        if level:  # a wrapped heading is named in section paths without its soft line breaks
            levels[level] = flowed[pos:end]
        pos = end


def _next_record(text: str, pos: int, line_start: bool) -> tuple[int, int]:
    """(heading level or 0, end) of the record starting at ``pos`` (a non-space character).

    Every record starts at a line start, after a sentence end or after a heading, so a heading
    marker found here is never in the middle of a sentence ("实现一、二产融合" stays one sentence).
    """
    stop = _STOP.search(text, pos)
    s = stop.start() if stop else len(text)
    on_break = s == len(text) or text[s] in BREAKS
    end = s if on_break else _sentence_end(text, pos, s)  # the first sentence (or the line)
    if line_start and on_break and end - pos <= MAX_TITLE:
        for level, pattern in ((1, PART), *ITEMS):
            if pattern.match(text, pos):
                return level, end
    if L2.match(text, pos):
        return 2, end
    m = L1.match(text, pos)
    if not m:
        return 0, end
    if on_break:
        if end - pos <= MAX_TITLE:
            return 1, end  # a short line of its own, no terminator: all of it
        return 1, _glued_heading_end(text, m.end(), s, end, words=True)
    # A line holding just this sentence shows no sign of lost line breaks, and a heading word would
    # cut a heading like "一、工作目标明确，成效显著。" in two; only a "（一）" splits it.
    after = _WS.match(text, end).end()
    alone = after >= len(text) or any(c in BREAKS for c in text[end:after])
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


def segment_file(path: str | Path) -> list[Sentence]:
    """Read a report and segment it; the title falls back to the file name without extension.

    Args:
        path: a report in any format :func:`govtag.readers.read_document` reads.

    Returns:
        The records of :func:`segment_text`.

    Raises:
        GovtagError: as :func:`read_document`.

    Example:
        >>> segment_file("data/reports/pingyang-keji-2022.txt")[2].text
        '一、2022年工作总结'
    """
    return segment_text(read_document(path), None, Path(path).stem)


def wrap_agreement(text: str, width: int) -> tuple[int, int]:
    """How many records of a report a copy of it hard-wrapped at ``width`` gives back unchanged.

    A record counts when the copy has it, in order, with the same text, section path and heading
    flag, whitespace aside (a record of the copy keeps the line breaks it spans).

    Args:
        text: a report's normalised text.
        width: the copy's characters per line (see :func:`govtag.reflow.hard_wrap`).

    Returns:
        (records given back, records of the report).

    Example:
        >>> report = "一、主要目标\\n全年全县规上工业企业研发费用增长25%，全市排名第2，增加值占比64.5%。"
        >>> wrap_agreement(report, 15)
        (2, 2)
    """
    def keys(records: list[Sentence]) -> list[tuple]:
        return [(_bare(s.text), tuple(map(_bare, s.section)), s.is_heading) for s in records]

    ours = keys(segment_text(text, fallback_title="report"))
    copy = keys(segment_text(hard_wrap(text, width), fallback_title="report"))
    matcher = difflib.SequenceMatcher(None, ours, copy, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()), len(ours)


def _bare(text: str) -> str:
    return re.sub(r"\s", "", text)
