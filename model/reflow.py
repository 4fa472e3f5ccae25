"""Reflow: which line breaks of a report a copy made by wrapping, and the text without them.

Text copied out of a PDF, a fixed-width page or an e-mail breaks lines where the page ran out,
in mid-sentence. Such a break is *soft*: the segmenter reads the text as if it were not there, and
every record still indexes the original text (a record may then hold a line break). A break is
soft when

* the line before it is *full*: it reached the copy's width, so the next character did not fit.
  A copy wrapped by character count (a terminal, ``fold``) has its full lines all of exactly the
  greatest length; a PDF's lines fill the same physical width, which is measured in columns
  (Chinese characters and full-width punctuation two, Latin letters and digits one). A text counts
  as wrapped only when at least two lines are full, so a short report's longest line (often its
  title) is not taken for a wrapped one.
* or the line cannot end there: it ends in a comma or an opening bracket, is a run-on numbered
  item ("1、加快科技发展,全面实施" goes on in the next line), or is an unmarked line too long or too
  comma-laden for a title or heading.

A break is always hard before a chapter heading (``一、``, ``（一）``, ``第一部分``), before a
numbered item after a finished sentence, around page chrome and table rows (tab-separated), after
a blank line, and after a line that reads as a heading or title (``一、主要目标``, ``(二)抓平台``,
``2021年科技工作主要措施``, ``1.高端人才招引成效明显``) and is not full.

Example:
    >>> text = "2022年全县规上工业企业研发费用增长25%,\\n全市排名第2。\\n一、主要目标"
    >>> reflow(text, line_spans(text), set()).text
    '2022年全县规上工业企业研发费用增长25%,全市排名第2。\\n一、主要目标'
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from govtag.readers import BREAKS

_NUM = "一二三四五六七八九十"
# Chapter markers. Level 1 "一、" but not "一、二产融合" (a list of numerals, not a heading).
L1 = re.compile(f"[{_NUM}]{{1,3}}、(?![{_NUM}])")
L2 = re.compile(f"[（(][{_NUM}]{{1,3}}[）)]")
# Only headings as a whole short line without terminators: in flowing text "第一部分" or "1." are
# far more often part of a sentence or a list item than a heading.
PART = re.compile(f"第[{_NUM}]{{1,3}}(部分|章)")
# Numbered items, by heading level: "1." / "1、", "(1)", "①".
ITEMS = ((3, re.compile(r"[0-9０-９]{1,2}[.．、](?![0-9])")), (4, re.compile(r"[（(][0-9０-９]{1,2}[）)]")),
         (5, re.compile("[①-⑳]")))
MAX_TITLE = 60
_HEAD = re.compile(f"{L1.pattern}|{L2.pattern}|{PART.pattern}")
_ITEM = re.compile("|".join(p.pattern for _, p in ITEMS))
_TERMINAL = re.compile(r"[。！？!?][”’」』）)】》〉］\]｝}〕…⋯\"']*$")
_TERMINATOR = re.compile("[。！？!?]")
_CLAUSE = re.compile("[，,；;]")
_PUNCTUATED = re.compile("[，,；;、：:。！？!?]")
_OPEN = set("，,、（(“‘《【「『〔")
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3"
                   "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd“”‘’—…]")
_SLACK = 2  # columns: a PDF line may stop one Chinese character short (no line starts with "，")
_CHAR_WRAP_SHARE = 0.3
_MIN_WIDTH = 12  # characters; a narrower "wrap" is a list of short lines


@dataclass(frozen=True)
class Reflowed:
    """A text with its soft line breaks removed, and the way back to the original's offsets."""

    text: str
    line_starts: list[int]  # where each original line starts in ``text``
    _piece_starts: list[int]  # ``text`` is pieces of the original: where each starts in ``text``
    _piece_origins: list[int]  # and where it starts in the original

    def original(self, pos: int) -> int:
        """The original offset of the character at ``pos`` in :attr:`text`."""
        k = bisect.bisect_right(self._piece_starts, pos) - 1
        return self._piece_origins[k] + pos - self._piece_starts[k]


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line of ``text``, whitespace at either end left out.

    Example:
        >>> line_spans("一、总结\\n\\u3000全年完成。 ")
        [(0, 4), (6, 11)]
    """
    spans = []
    for m in re.finditer(f"[^{BREAKS}]+", text):
        line = m.group()
        stripped = line.strip()
        if stripped:
            start = m.start() + len(line) - len(line.lstrip())
            spans.append((start, start + len(stripped)))
    return spans


def reflow(text: str, spans: list[tuple[int, int]], chrome: set[int], title_first: bool = False) -> Reflowed:
    """Remove the soft line breaks of ``text`` (see the module docstring).

    Args:
        text: the report text.
        spans: its lines, from :func:`line_spans`.
        chrome: indexes of page-chrome lines; breaks on either side of them stay.
        title_first: the first line reads as a title (it stays whole when it fills a line).

    Returns:
        The reflowed text and the map back to offsets in ``text``.

    Example:
        >>> text = "1、加快科技发展,全面实施\\n科教兴县和人才强县战略。"
        >>> reflow(text, line_spans(text), set()).text
        '1、加快科技发展,全面实施科教兴县和人才强县战略。'
    """
    lines = [text[s:e] for s, e in spans]
    full = _full_lines(lines, chrome)
    # a copy with lines that end short in mid-text had paragraphs; a glued web copy wrapped has none
    paragraphs = any(i not in full and i not in chrome for i in range(len(lines) - 1))
    pieces, piece_starts, piece_origins, line_starts = [], [0], [0], []
    size, piece_from = 0, 0  # length of the reflowed text before the current piece; where that starts
    for i, (start, _) in enumerate(spans):
        if i and _soft(lines[i - 1], lines[i], i - 1 in full, text[spans[i - 1][1]:start],
                       i - 1 in chrome or i in chrome,
                       # a long title goes on in a full line without punctuation
                       paragraphs and i in full and (i > 1 or bool(_PUNCTUATED.search(lines[i]))),
                       i == 1 and title_first or bool(_HEAD.match(lines[i - 1]))):
            previous_end = spans[i - 1][1]
            pieces.append(text[piece_from:previous_end])
            size += previous_end - piece_from
            piece_from = start
            piece_starts.append(size)
            piece_origins.append(start)
        line_starts.append(size + start - piece_from)
    pieces.append(text[piece_from:])
    return Reflowed("".join(pieces), line_starts, piece_starts, piece_origins)


def _soft(a: str, b: str, full: bool, gap: str, chrome: bool, body_follows: bool, heading: bool) -> bool:
    """Whether the break between line ``a`` and line ``b`` (with whitespace ``gap``) is soft.

    ``body_follows``: ``b`` is a full line of running text in a copy with paragraphs;
    ``heading``: ``a`` starts a heading or is the title."""
    breaks = len(re.findall(f"\r\n|[{BREAKS}]", gap))
    if chrome or breaks > 1 or "\t" in a or "\t" in b:
        return False
    terminal = bool(_TERMINAL.search(a))
    if _HEAD.match(b):  # after a full line that ends a sentence, the copy may have cut a glued web copy
        return full and terminal and not PART.match(b)
    if _ITEM.match(b) and (terminal or not full):
        return False
    if full:  # a full heading or title without a sentence end is whole when a full body line follows
        return not (body_follows and heading and not _TERMINATOR.search(a))
    if terminal or a[-1] in "：:；;":
        return False
    if _ITEM.match(a):  # "1、加快科技发展,全面实施" runs on; "1.高端人才招引成效明显" announces a block
        return bool(_CLAUSE.search(a)) or a[-1] in _OPEN
    if _HEAD.match(a):
        return False
    return a[-1] in _OPEN or len(a) > MAX_TITLE or bool(_CLAUSE.search(a))


def _full_lines(lines: list[str], chrome: set[int]) -> set[int]:
    """Indexes of the lines (not the last) that reach the copy's width; empty when fewer than two
    do (the text is not wrapped)."""
    body = [i for i in range(len(lines)) if i not in chrome]
    if len(body) < 3:
        return set()
    chars = {i: len(lines[i]) for i in body}
    widest = max(chars.values())
    at_widest = sum(n == widest for n in chars.values())
    long_lines = sum(n >= 0.7 * widest for n in chars.values())
    candidates = [i for i in body[:-1] if i + 1 < len(lines)]
    if widest < _MIN_WIDTH:
        return set()
    if at_widest >= 2 and at_widest >= _CHAR_WRAP_SHARE * long_lines:  # wrapped by character count
        full = {i for i in candidates if chars[i] == widest}
    else:  # wrapped by width, as a PDF's lines are
        cols = {i: chars[i] + len(_WIDE.findall(lines[i])) for i in body}
        widest = max(cols.values())
        full = {i for i in candidates if cols[i] + _columns(lines[i + 1][0]) + _SLACK > widest}
    return full if len(full) >= 2 else set()


def _columns(char: str) -> int:
    return 2 if _WIDE.match(char) else 1


def hard_wrap(text: str, width: int) -> str:
    """Cut every line of ``text`` into lines of ``width`` characters, as a fixed-width copy does.

    What :func:`reflow` undoes; ``scripts/bench.py segment`` and the tests measure it with this.

    Args:
        text: normalised text.
        width: characters per line, at least 1.

    Returns:
        The wrapped text.

    Example:
        >>> hard_wrap("全年完成任务。\\n一、主要目标", 4)
        '全年完成\\n任务。\\n一、主要\\n目标'
    """
    return "\n".join(line[i:i + width] for line in text.split("\n") for i in range(0, len(line), width))
