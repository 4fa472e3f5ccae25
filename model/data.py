"""Annotated sentences: load and validate JSONL records, split them, and count them.

A record is one JSON object per line with ``id, doc, section, text, area, types`` and optionally
``split`` (train, dev or test: test records are held out, never trained on nor used for model
selection); extra fields are kept but ignored. Loading stops at the first bad record
with ``file:line: problem``.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

from govtag.errors import GovtagError
from govtag.schema import Schema

REQUIRED = ("id", "doc", "section", "text", "area", "types")
SPLITS = ("train", "dev", "test")
_SAME = ("text", "area", "types")  # an id repeated across files with these equal is one record


def _check(rec: object, where: str, schema: Schema) -> dict:
    if not isinstance(rec, dict):
        raise GovtagError(f"{where}: expected a JSON object, found {type(rec).__name__}")
    missing = [k for k in REQUIRED if k not in rec]
    if missing:
        raise GovtagError(f"{where}: missing field(s) {', '.join(missing)}; "
                          f"every record needs {', '.join(REQUIRED)}")
    for key in ("id", "doc", "text", "area"):
        if not isinstance(rec[key], str):
            raise GovtagError(f"{where}: field '{key}' must be a string, found {rec[key]!r}")
    if not rec["id"].strip():
        raise GovtagError(f"{where}: empty id")
    if not rec["text"].strip():
        raise GovtagError(f"{where}: empty text (id {rec['id']})")
    if not isinstance(rec["section"], list) or not all(isinstance(s, str) for s in rec["section"]):
        raise GovtagError(f"{where}: 'section' must be a list of heading strings, found {rec['section']!r}")
    for key in ("id", "doc", "text", "section"):
        # a \ud800-style escape with no partner decodes to a lone surrogate: no file can hold it as text
        if any(0xD800 <= ord(c) <= 0xDFFF for s in ([rec[key]] if key != "section" else rec[key]) for c in s):
            raise GovtagError(f"{where}: field '{key}' holds a lone surrogate (half of a \\uXXXX pair, often a "
                              "cut emoji), which is not a character; fix or remove that escape")
    if rec["area"] not in schema.areas:
        raise GovtagError(f"{where}: unknown area {rec['area']!r}; expected one of {', '.join(schema.areas)}")
    types = rec["types"]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise GovtagError(f"{where}: 'types' must be a list of strings, found {types!r}")
    for t in types:
        if t not in schema.types:
            raise GovtagError(f"{where}: unknown type {t!r}; expected any of {', '.join(schema.types)}")
    if len(set(types)) != len(types):
        raise GovtagError(f"{where}: type listed twice in {types!r}")
    if "split" in rec and rec["split"] not in SPLITS:
        raise GovtagError(f"{where}: unknown split {rec['split']!r}; expected train, dev or test (or no split field)")
    return rec


def load_records(paths: str | Path | list, schema: Schema, note=None) -> list[dict]:
    """Load and validate annotated sentences from one or more JSONL files.

    A record whose id, text and labels equal one already read from another file (the public set
    repeats the seed sentences) is taken once; a same id with other content is an error naming both.

    Args:
        paths: a JSONL file or a list of them.
        schema: the label schema the areas and types must belong to.
        note: called with one line when repeated records were taken once (None: silent).

    Returns:
        The records in file order, each a dict with at least ``id, doc, section, text, area, types``.

    Raises:
        GovtagError: at the first bad record, naming ``file:line`` and the problem; also for a missing,
        empty or binary file and for an id seen twice with different content (or twice in one file).

    Example:
        >>> recs = load_records("data/seed.jsonl", load_schema())
        >>> recs[5]["text"][:10], recs[5]["area"]
        ('全年全县规上工业企业', '主体')
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    records: list[dict] = []
    seen: dict[str, tuple[str, Path, dict]] = {}
    repeated = 0
    for path in map(Path, paths):
        if path.is_dir():
            raise GovtagError(f"{path}: is a folder; expected a JSONL file of annotated sentences")
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise GovtagError(f"{path}: file not found; expected a JSONL file of annotated sentences") from None
        if b"\x00" in raw:
            raise GovtagError(f"{path}: looks like a binary file; expected UTF-8 JSONL text")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise GovtagError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
        count = 0
        # JSONL lines end at "\n" only: U+2028, U+2029 and U+0085 may stand raw inside a JSON string
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GovtagError(f"{where}: bad JSON ({exc.msg} at column {exc.colno})") from None
            rec = _check(rec, where, schema)
            count += 1
            if rec["id"] in seen:
                first, first_path, first_rec = seen[rec["id"]]
                same = all(rec[k] == first_rec[k] for k in _SAME)
                if first_path != path and same:
                    repeated += 1
                    continue
                what = "repeated in one file" if same else "with different content"
                raise GovtagError(f"{where}: duplicate id {rec['id']!r} {what} (first seen at {first}); "
                                  "give each sentence one id")
            seen[rec["id"]] = (where, path, rec)
            records.append(rec)
        if count == 0:
            raise GovtagError(f"{path}: no records; expected one JSON object per line")
    if repeated and note:
        note(f"{repeated} record(s) repeated in another file with the same id, text and labels were taken once")
    return records


def split_records(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Split records by their ``split`` field; records without one go to train, ``test`` records to
    neither (a held-out set is only ever scored, with ``govtag evaluate --split test``).

    Returns:
        ``(train, dev)``.

    Example:
        >>> split_records([{"id": "a", "split": "dev"}, {"id": "b"}])
        ([{'id': 'b'}], [{'id': 'a', 'split': 'dev'}])
    """
    train = [r for r in records if r.get("split", "train") == "train"]
    dev = [r for r in records if r.get("split") == "dev"]
    return train, dev


def stats(records: list[dict], schema: Schema) -> dict:
    """Count records per split, area and type.

    Returns:
        ``{"total": n, "docs": n, "split": {...}, "area": {label: n}, "types": {label: n}, "no_type": n}``
        with every schema label present, in schema order.

    Example:
        >>> stats([{"doc": "d", "area": "人才", "types": ["plan"]}], load_schema())["area"]["人才"]
        1
    """
    areas = collections.Counter(r["area"] for r in records)
    types = collections.Counter(t for r in records for t in r["types"])
    splits = collections.Counter(r.get("split", "(none)") for r in records)
    return {
        "total": len(records),
        "docs": len({r["doc"] for r in records}),
        "split": dict(sorted(splits.items())),
        "area": {a: areas.get(a, 0) for a in schema.areas},
        "types": {t: types.get(t, 0) for t in schema.types},
        "no_type": sum(1 for r in records if not r["types"]),
    }


def format_stats(paths: list) -> str:
    """Load annotated files and render their counts as a small table for `govtag data stats`.

    Example:
        >>> print(format_stats(["data/seed.jsonl"]).splitlines()[0])
        87 sentences in 1 reports
    """
    from govtag.io import pad
    from govtag.schema import load_schema

    schema = load_schema()
    s = stats(load_records(list(paths), schema), schema)
    lines = [f"{s['total']} sentences in {s['docs']} reports",
             "split: " + ", ".join(f"{k} {v}" for k, v in s["split"].items()), "area:"]
    lines += [f"  {pad(k, 12)}{v:>6}  {v / s['total']:6.1%}" for k, v in s["area"].items()]
    lines.append("types:")
    lines += [f"  {pad(k, 12)}{v:>6}  {v / s['total']:6.1%}" for k, v in s["types"].items()]
    lines.append(f"  {pad('(none)', 12)}{s['no_type']:>6}  {s['no_type'] / s['total']:6.1%}")
    return "\n".join(lines)
