"""A record's context: what a model reads besides the sentence itself, built the same way everywhere.

A sentence record carries its report title (``doc``) and heading path (``section``); the previous
sentence (``prev``) is attached by `with_previous`. Every backend reads context through
`context_part`, and `govtag.backends.base.Tagger` attaches ``prev`` to whatever it fits or scores, so
training, ``govtag evaluate`` and ``govtag tag`` build the same inputs from the same records.
"""

from __future__ import annotations

import re

CONTEXT_PARTS = ("doc", "section", "prev")


def context_part(record: dict, part: str) -> str:
    """The text of one context part of a record.

    Args:
        record: a sentence record (``text``, ``doc``, ``section``, optionally ``prev``).
        part: one of `CONTEXT_PARTS`.

    Returns:
        The part as one string: the heading path joined with `` > ``, "" when absent.

    Example:
        >>> context_part({"section": ["二、2023年工作思路", "(二)抓主体"]}, "section")
        '二、2023年工作思路 > (二)抓主体'
    """
    if part == "section":
        return " > ".join(record.get("section") or [])
    return str(record.get(part) or "")


def context_problem(parts: list[str]) -> str | None:
    """What is wrong with a configured list of context parts, or None when it is fine.

    Example:
        >>> context_problem(["section", "title"])
        'unknown part(s) title; expected distinct parts out of doc, section, prev'
    """
    bad = [p for p in parts if p not in CONTEXT_PARTS]
    if bad:
        return f"unknown part(s) {', '.join(bad)}; expected distinct parts out of {', '.join(CONTEXT_PARTS)}"
    if len(set(parts)) != len(parts):
        return f"a part is listed twice in {parts}; expected distinct parts out of {', '.join(CONTEXT_PARTS)}"
    return None


def _position(rec_id: str) -> int | None:
    m = re.search(r"(\d+)$", rec_id)
    return int(m.group(1)) if m else None


def with_previous(records: list[dict]) -> list[dict]:
    """Give every record a ``prev`` field: the sentence before it in the same report, or "".

    Records are neighbours when they are adjacent in the list, share ``doc`` and, where their ids end
    in numbers (``p2025-00017``), those numbers are consecutive, so sampled runs do not borrow context
    across a gap. Segmenter output (with ``index``) is treated the same way. A record that already has
    ``prev`` keeps it: a caller that cuts a report into batches or samples attaches context first.
    Page chrome (``is_noise``) is skipped: the sentence after a page counter reads the one before it.

    Args:
        records: sentence records in report order.

    Returns:
        New dicts; the input is not changed.

    Example:
        >>> with_previous([{"id": "x-1", "doc": "d", "text": "一、2022年工作总结"},
        ...                {"id": "x-2", "doc": "d", "text": "新增高企12家。"}])[1]["prev"]
        '一、2022年工作总结'
    """
    out = []
    last = None  # the latest record that is report text: page chrome is nobody's context
    for rec in records:
        if "prev" in rec:
            out.append(dict(rec))
        else:
            prev = ""
            if last is not None and last.get("doc") == rec.get("doc"):
                a = last.get("index", _position(str(last.get("id", ""))))
                b = rec.get("index", _position(str(rec.get("id", ""))))
                # chrome skipped between them is not a gap: segmenter indexes count it
                if a is None or b is None or b == a + 1 or (b > a and last.get("chrome_after")):
                    prev = last["text"]
            out.append({**rec, "prev": prev})
        if rec.get("is_noise"):
            if last is not None:
                last = {**last, "chrome_after": True}
        else:
            last = rec
    return out
