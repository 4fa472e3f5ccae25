"""Reflow: which line breaks of a report a copy made by wrapping, and the text without them.

Text copied out of a PDF, a fixed-width page or an e-mail breaks lines where the page ran out,
in mid-sentence. Such a break is *soft*: the segmenter reads the text as if it were not there, and
every record still indexes the original text (a record may then hold a line break). A break is
soft when

* the line before it is *full*: it reached the copy's width, so the next character did not fit.
  A copy wrapped by character count (a terminal, ``fold``) has its full lines all of exactly the
  greatest length, whitespace at the ends counted (a cut after a space leaves it there); a PDF's
  lines fill the same physical width, which is measured in columns (Chinese characters and
  full-width punctuation two, Latin letters and digits one). A text counts as wrapped only when at
  least two lines are full, so a short report's longest line (often its title) is not taken for a
  wrapped one.
* or the line cannot end there: it ends in a comma or an opening bracket, is a run-on numbered
  item ("1、加快科技发展,全面实施" goes on in the next line), or is an unmarked line too long or too
  comma-laden for a title or heading;
* or the next line cannot start a line: it starts with "，", "。" or a closing quote;
* or the next line is the short rest of a full page-chrome line (``…范文大全 > 工作总`` / ``结``),
  which then belongs to the chrome record.

A break is always hard before a chapter heading (``一、``, ``（一）``, ``第一部分``) unless a full
line comes before it that ends a sentence (a glued web copy, wrapped) or is running text cut
mid-word (``…运行模式单`` / ``一、专业服务能力不强…``); before a numbered item after a finished
sentence or after a whole chapter heading that fills the line; before a salutation
(``各位代表：``); around page chrome and table rows (tab-separated); after a blank line; and after
a line that reads as a heading or title (``一、主要目标``, ``(二)抓平台``, ``2021年科技工作主要措施``,
``1.高端人才招引成效明显``) and is not full. A full heading or title stays whole when a full line
of running text follows (after a title that ends in its genre, ``…自评报告``, any full line that
does not carry it on). A line that carries on the line before it is never a heading, and a first
line with a comma is no title (it is an excerpt's first line).

Example:
    >>> text = "2022年全县规上工业企业研发费用增长25%,\\n全市排名第2。\\n一、主要目标"
    >>> reflow(text, line_spans(text), set()).text
    '2022年全县规上工业企业研发费用增长25%,全市排名第2。\\n一、主要目标'
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from govtag.chrome import chrome_rest
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
# Report genres a title names ("…2022年工作总结", "…政府工作报告").
TITLE_WORDS = re.compile("总结|报告|计划|要点|思路|打算|材料|汇报|情况|自评|述职|回顾|安排|方案|规划|讲话|发言|通报")
_TITLE_END = re.compile(f"(?:{TITLE_WORDS.pattern})$")
_GOES_ON = set("的和及与暨并或等之（(、，,")  # a title cut before these goes on ("…总结" / "和2023年工作计划")
# The opener of a speech or government work report, on a line of its own.
_SALUTATION = re.compile(r"(各位|尊敬的)[^，,。：:]{1,12}[：:]|同志们[：:]")
_HEAD = re.compile(f"{L1.pattern}|{L2.pattern}|{PART.pattern}")
_ITEM = re.compile("|".join(p.pattern for _, p in ITEMS))
_TERMINAL = re.compile(r"[。！？!?][”’」』）)】》〉］\]｝}〕…⋯\"']*$")
_TERMINATOR = re.compile("[。！？!?]")
_CLAUSE = re.compile("[，,；;]")
_PUNCTUATED = re.compile("[，,；;、：:。！？!?]")
_CLOSING = set("，,、。．；;：:！？!?）)】》〉」』”’…")
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
    chrome: set[int]  # the page-chrome lines, with the rest of each chrome line the copy wrapped
    noise: dict[int, int]  # start: end in ``text`` of each chrome record
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
    full = _full_lines(lines, [_extent(text, s, e) for s, e in spans], chrome)
    # a copy with lines that end short in mid-text had paragraphs; a glued web copy wrapped has none
    paragraphs = any(i not in full and i not in chrome for i in range(len(lines) - 1))
    rests = _chrome_rests(lines, full, chrome)
    copy = _Copy(lines, full, chrome | rests, rests, paragraphs, title_first)
    pieces, piece_starts, piece_origins, line_starts = [], [0], [0], []
    size, piece_from = 0, 0  # length of the reflowed text before the current piece; where that starts
    soft = False
    for i, (start, _) in enumerate(spans):
        soft = bool(i) and copy.soft(i, text[spans[i - 1][1]:start], joined=soft)
        if soft:  # the line break goes, the lines join
            previous_end = spans[i - 1][1]
            pieces.append(text[piece_from:previous_end])
            size += previous_end - piece_from
            piece_from = start
            piece_starts.append(size)
            piece_origins.append(start)
        line_starts.append(size + start - piece_from)
    pieces.append(text[piece_from:])
    last = {i: i + 1 if i + 1 in rests else i for i in chrome - rests}  # a chrome line wraps once at most
    noise = {line_starts[i]: line_starts[j] + len(lines[j]) for i, j in last.items()}
    return Reflowed("".join(pieces), line_starts, chrome | rests, noise, piece_starts, piece_origins)


@dataclass(frozen=True)
class _Copy:
    """A text's lines and what the whole copy tells about them."""

    lines: list[str]
    full: set[int]  # lines that reach the copy's width
    chrome: set[int]
    rests: set[int]  # lines that end the chrome line before them
    paragraphs: bool  # some lines end short in mid-text
    title_first: bool

    def soft(self, i: int, gap: str, joined: bool) -> bool:
        """Whether the break before line ``i`` (with whitespace ``gap``) is soft; ``joined``: the
        break before the line before is soft (that line is a heading only if a sentence ended there)."""
        a, b, full = self.lines[i - 1], self.lines[i], i - 1 in self.full
        block = not joined or bool(_TERMINAL.search(self.lines[i - 2]))
        if i in self.rests:
            return True
        breaks = len(re.findall(f"\r\n|[{BREAKS}]", gap))
        if i - 1 in self.chrome or i in self.chrome or breaks > 1 or "\t" in a or "\t" in b \
                or _SALUTATION.fullmatch(b):
            return False
        if b[0] in _CLOSING:  # no line of a report starts with "，" or "”": the copy cut there
            return True
        # a "title" with a comma is the first line of an excerpt, cut where a genre word stood
        title = i == 1 and self.title_first and not _CLAUSE.search(a)
        heading = title or block and bool(_HEAD.match(a))
        terminal = bool(_TERMINAL.search(a))
        if _HEAD.match(b):  # after a full line that ends a sentence, the copy may have cut a glued web
            # copy; after a full line of running text cut mid-clause, "一、" is a word's ("单" / "一、专业…")
            return full and not PART.match(b) and (terminal or not heading and bool(_CLAUSE.search(a))
                                                    and a[-1].isalnum())
        if _ITEM.match(b) and (terminal or not full or heading and _whole(a)):
            return False
        if full:  # a full heading or title without a sentence end is whole when a full body line follows
            return not (heading and not _TERMINATOR.search(a) and self._body_follows(i, title))
        if terminal or a[-1] in "：:；;":
            return False
        if block and _ITEM.match(a):  # "1、加快科技发展,全面实施" runs on; "1.高端人才招引成效明显" announces a block
            return bool(_CLAUSE.search(a)) or a[-1] in _OPEN
        if block and _HEAD.match(a):
            return False
        return a[-1] in _OPEN or len(a) > MAX_TITLE or bool(_CLAUSE.search(a))

    def _body_follows(self, i: int, title: bool) -> bool:
        """Line ``i`` is a full line of running text in a copy with paragraphs. After the title, a
        full line without punctuation is its rest, unless the title ends in its genre and the line
        does not carry it on ("…绩效自评报告" / "根据《…", but "…工作总结" / "和2023年工作计划")."""
        b = self.lines[i]
        if not self.paragraphs or i not in self.full:
            return False
        if i > 1 or _PUNCTUATED.search(b):
            return True
        return title and bool(_TITLE_END.search(self.lines[0])) and b[0] not in _GOES_ON and not TITLE_WORDS.match(b)


def _whole(heading: str) -> bool:
    """A chapter heading that reads as finished: a line that fills the width exactly is still whole
    when a numbered item starts the next one ("（二）坚持选贤任能，干部队伍活力持续激发" / "1.…")."""
    return len(heading) <= MAX_TITLE and not _TERMINATOR.search(heading) and heading[-1] not in _OPEN \
        and heading[-1] not in "；;：:"


def _chrome_rests(lines: list[str], full: set[int], chrome: set[int]) -> set[int]:
    """Lines that end a full chrome line ("当前位置：首页 > 范文大全 > 工作总" / "结"): short ones, so
    a full line of text after a chrome line that fills the width by chance stays text."""
    return {i for i in range(1, len(lines)) if i - 1 in full and i - 1 in chrome and i not in full
            and not _SALUTATION.fullmatch(lines[i]) and chrome_rest(lines[i - 1], lines[i])}


def _extent(text: str, start: int, end: int) -> int:
    """Characters of the line around ``text[start:end]``, with the whitespace at its ends: a copy
    wrapped by character count counts a space it cut after ("…会议上市长 " / "何子骞…")."""
    while start and text[start - 1] not in BREAKS:
        start -= 1
    while end < len(text) and text[end] not in BREAKS:
        end += 1
    return end - start


def _full_lines(lines: list[str], extents: list[int], chrome: set[int]) -> set[int]:
    """Indexes of the lines (not the last) that reach the copy's width; empty when fewer than two
    do (the text is not wrapped). ``extents``: each line's length with its whitespace."""
    body = [i for i in range(len(lines)) if i not in chrome]
    if len(body) < 3:
        return set()
    widest = max(extents[i] for i in body)
    at_widest = sum(extents[i] == widest for i in body)
    long_lines = sum(extents[i] >= 0.7 * widest for i in body)
    # the width is the body's; a chrome line may fill it too (and go on in the next line)
    candidates = set(range(len(lines) - 1)) - {body[-1]}
    if widest < _MIN_WIDTH:
        return set()
    if at_widest >= 2 and at_widest >= _CHAR_WRAP_SHARE * long_lines:  # wrapped by character count
        full = {i for i in candidates if extents[i] == widest}
    else:  # wrapped by width, as a PDF's lines are
        cols = [n + len(_WIDE.findall(line)) for n, line in zip(extents, lines)]
        widest = max(cols[i] for i in body)
        full = {i for i in candidates if cols[i] + _columns(lines[i + 1][0]) + _SLACK > widest}
    return full if len(full - chrome) >= 2 else set()


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
