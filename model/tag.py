"""Tagging reports: segment each input file, predict every sentence, write JSONL or CSV rows."""

from __future__ import annotations

import csv
import glob
import json
import sys
from pathlib import Path

from tqdm import tqdm

from govtag.data import with_previous
from govtag.errors import GovtagError
from govtag.io import atomic_write

SUFFIXES = (".txt", ".docx")


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Turn files, folders and glob patterns into the list of report files to tag.

    Folders are searched recursively for .txt and .docx files; a pattern or folder that matches
    nothing, or a missing file, is an error rather than a silent skip.

    Example:
        >>> expand_inputs(["data/reports"])[0].name
        'pingyang-keji-2022.txt'
    """
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if any(ch in item for ch in "*?["):
            found = sorted(Path(x) for x in glob.glob(item, recursive=True) if Path(x).suffix.lower() in SUFFIXES)
            if not found:
                raise GovtagError(f"{item}: the pattern matches no .txt or .docx file")
            files += found
        elif p.is_dir():
            found = sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in SUFFIXES)
            if not found:
                raise GovtagError(f"{p}: folder holds no .txt or .docx report")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise GovtagError(f"{p}: file not found; give report files (.txt, .docx), folders or glob patterns")
    return list(dict.fromkeys(files))


def tag_files(files: list[Path], tagger, batch_size: int = 64) -> list[dict]:
    """Segment and tag every sentence (headings included) of the given reports.

    Returns:
        One row per sentence: ``file, doc, index, section, text, area, area_score, types,
        type_scores, review, start, end``.

    Example:
        >>> rows = tag_files([Path("data/reports/pingyang-keji-2022.txt")], load_model("models/default"))
        >>> rows[5]["text"][:8], rows[5]["area"]
        ('全年全县规上工', '主体')
    """
    from govtag.segment import segment_file

    rows: list[dict] = []
    for path in tqdm(files, desc="tagging", unit="report", disable=len(files) < 2, file=sys.stderr):
        sents = [s.to_dict() for s in segment_file(path)]
        records = with_previous(sents)
        preds = []
        for i in range(0, len(records), batch_size):
            preds += tagger.predict(records[i:i + batch_size])
        for s, p in zip(sents, preds):
            rows.append({"file": str(path), "doc": s["doc"], "index": s["index"], "section": s["section"],
                         "text": s["text"], "is_heading": s["is_heading"], "area": p["area"],
                         "area_score": p["area_score"], "types": p["types"], "type_scores": p["type_scores"],
                         "review": p["review"], "start": s["start"], "end": s["end"]})
    return rows


def write_rows(rows: list[dict], out: str | Path | None, type_labels: list[str]) -> None:
    """Write rows as JSONL (``.jsonl``, UTF-8) or CSV (``.csv``, UTF-8 with BOM for Excel); no ``out``
    prints JSONL to standard output. Files appear only when complete.

    Example:
        >>> write_rows(rows, "out/pingyang.csv", ["achievement", "plan", "metric"])
    """
    if out is None:
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".jsonl":
        with atomic_write(out, encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        with atomic_write(out, encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "doc", "index", "section", "text", "is_heading", "area", "area_score", "types",
                        *[f"score_{t}" for t in type_labels], "review", "start", "end"])
            for r in rows:
                w.writerow([r["file"], r["doc"], r["index"], " > ".join(r["section"]), r["text"], r["is_heading"],
                            r["area"], r["area_score"], "|".join(r["types"]),
                            *[r["type_scores"][t] for t in type_labels], r["review"], r["start"], r["end"]])
    else:
        raise GovtagError(f"{out}: unknown output format {suffix or '(no suffix)'!r}; use .jsonl or .csv")


def tag(inputs: list[str], model_dir: str | Path, out: str | Path | None = None) -> list[dict]:
    """Tag reports with a trained model and write the rows.

    Args:
        inputs: report files, folders or glob patterns.
        model_dir: a model directory from `govtag train`.
        out: ``.jsonl`` or ``.csv`` path; None prints JSONL.

    Returns:
        The rows written.

    Example:
        >>> tag(["data/reports/pingyang-keji-2022.txt"], "models/default", "out/pingyang.csv")[0]["area"]
        '其他'
    """
    from govtag.backends import load_model

    if out is not None and Path(out).suffix.lower() not in (".jsonl", ".csv"):
        raise GovtagError(f"{out}: unknown output format; use a .jsonl or .csv file name")
    files = expand_inputs(inputs)
    tagger = load_model(model_dir)
    rows = tag_files(files, tagger)
    write_rows(rows, out, tagger.type_labels_)
    return rows
