"""Tagging reports: segment each input file, predict its sentences in batches and stream the rows to
JSONL or CSV as they are made, so memory is bounded by a batch and the largest report, not the
corpus; the output file still appears only when complete."""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import json
import sys
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm import tqdm

from govtag.context import with_previous
from govtag.errors import GovtagError
from govtag.io import atomic_write, check_output_file, csv_safe, os_error_message
from govtag.readers import READABLE, SUFFIXES  # the report suffixes a folder or pattern is searched for

FORMATS = (".jsonl", ".csv", ".xlsx")
# Page chrome (running heads, page numbers) is not a sentence of the report: it is given the
# catch-all area with full confidence instead of being sent to the model.
NOISE_AREA = "其他"


@dataclass
class TagSummary:
    """What a tagging run did: the CLI prints it as one line, then one line per unreadable report.

    Example:
        >>> TagSummary(files=1, sentences=86, review=8).describe("out/pingyang.csv")
        '86 sentences from 1 report tagged, 8 flagged for review → out/pingyang.csv'
    """

    files: int = 0  # reports tagged
    sentences: int = 0  # rows written, page chrome included
    review: int = 0
    noise: int = 0  # page-chrome records not sent to the model
    bad: list[str] = field(default_factory=list)  # one sentence per report that could not be read

    def describe(self, out: str | Path | None = None) -> str:
        """The summary line, e.g. ``4910 sentences from 118 of 120 reports tagged, …``."""
        of = f" of {self.files + len(self.bad)}" if self.bad else ""
        reports = "report" if self.files + len(self.bad) == 1 else "reports"
        chrome = f" ({self.noise} page-chrome lines not sent to the model)" if self.noise else ""
        return (f"{self.sentences} sentences from {self.files}{of} {reports} tagged, {self.review} "
                f"flagged for review{chrome} → {out or 'standard output'}")


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Turn files, folders and glob patterns into the list of report files to tag.

    Folders are searched recursively for report files (``govtag.readers.SUFFIXES``: .txt, .docx,
    .pdf, web pages; .doc too, so that the reader can say to re-save it); a pattern or folder that
    matches nothing, or a missing file, is an error rather than a silent skip. A pipe or device with
    a report's name is kept, so that it is named as unreadable rather than passed over.

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
                raise GovtagError(f"{item}: the pattern matches no report file ({', '.join(READABLE)})")
            files += found
        elif p.is_dir():
            found = sorted(x for x in p.rglob("*") if x.suffix.lower() in SUFFIXES and not x.is_dir())
            if not found:
                raise GovtagError(f"{p}: folder holds no report file ({', '.join(READABLE)})")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise GovtagError(f"{p}: file not found; give report files ({', '.join(READABLE)}), folders or "
                              "glob patterns")
    return list(dict.fromkeys(files))


def report_records(path: Path) -> list[dict]:
    """A report's records, each with its ``prev`` computed within the report, so that batches may
    then span reports.

    Args:
        path: a report file.

    Returns:
        Segmenter records (`govtag.segment.segment_file`) with ``prev``.

    Raises:
        GovtagError: the report cannot be read (`govtag.readers.read_document`).

    Example:
        >>> report_records(Path("data/reports/pingyang-keji-2022.txt"))[3]["prev"]
        '一、2022年工作总结'
    """
    from govtag.segment import segment_file

    return with_previous([s.to_dict() for s in segment_file(path)])


def _reports(files: list[Path], summary: TagSummary) -> Iterator[tuple[Path, list[dict]]]:
    """Each readable report's records with their ``prev`` (computed within the report); a report
    that cannot be read is noted in ``summary.bad`` and the run goes on."""
    for path in files:
        try:
            records = report_records(path)
        except GovtagError as exc:
            summary.bad.append(str(exc))
            continue
        summary.files += 1
        yield path, records


def _noise_prediction(type_labels: list[str]) -> dict:
    return {"area": NOISE_AREA, "area_score": 1.0, "types": [], "type_scores": {t: 0.0 for t in type_labels},
            "review": False}


def _row(path: Path, s: dict, p: dict) -> dict:
    return {"file": str(path), "doc": s["doc"], "index": s["index"], "section": s["section"], "text": s["text"],
            "is_heading": s["is_heading"], "is_noise": s.get("is_noise", False), "area": p["area"],
            "area_score": p["area_score"], "types": p["types"], "type_scores": p["type_scores"],
            "review": p["review"], "start": s["start"], "end": s["end"]}


def predict_rows(pairs: list[tuple[Path, dict]], tagger) -> list[dict]:
    """Tag one batch of records, which may come from several reports, into output rows.

    Page chrome (``is_noise``) is not sent to the model; every record must already carry its ``prev``
    (`report_records`), since the batch does not show where each report begins.

    Args:
        pairs: ``(report file, record)`` in output order.
        tagger: a loaded model.

    Returns:
        One row per pair, as `tag_rows` yields them.

    Example:
        >>> path = Path("data/reports/pingyang-keji-2022.txt")
        >>> rows = predict_rows([(path, r) for r in report_records(path)], load_model("models/default"))
        >>> [r["area"] for r in rows if r["text"] == "(六)加强科技指导帮扶,有效助力乡村振兴。"]
        ['乡村振兴']
    """
    real = [r for _, r in pairs if not r.get("is_noise", False)]
    preds = iter(tagger.predict(real) if real else [])
    return [_row(path, r, _noise_prediction(tagger.type_labels_) if r.get("is_noise", False) else next(preds))
            for path, r in pairs]


def tag_rows(files: list[Path], tagger, summary: TagSummary | None = None, batch_size: int = 64) -> Iterator[dict]:
    """Segment and tag every record (headings included) of the given reports, yielding rows in order.

    Records are predicted in batches of ``batch_size`` that may span reports, so only one report
    and one batch are held at a time. Records the segmenter marks ``is_noise`` (page chrome) are not
    sent to the model. A progress bar on stderr (when it is a terminal) counts the sentences of a single
    report, or the reports of a batch with the sentences tagged so far.

    Args:
        files: report files, e.g. from `expand_inputs`.
        tagger: a loaded model.
        summary: filled in as rows are made (counts, and reports that could not be read).
        batch_size: records per call to the model.

    Returns:
        An iterator of rows: ``file, doc, index, section, text, is_heading, is_noise, area, area_score,
        types, type_scores, review, start, end``.

    Example:
        >>> rows = tag_rows([Path("data/reports/pingyang-keji-2022.txt")], load_model("models/default"))
        >>> [r["area"] for r in rows if r["text"] == "(六)加强科技指导帮扶,有效助力乡村振兴。"]
        ['乡村振兴']
    """
    summary = summary if summary is not None else TagSummary()
    pending: list[tuple[Path, dict]] = []
    # one report: a bar over its sentences (a 50 MB report takes hours); many: over reports, with
    # the sentence count alongside, so the percentage and time left are never guesses
    one = len(files) == 1
    with tqdm(total=None if one else len(files), desc="tagging", unit="sentence" if one else "report",
              file=sys.stderr, disable=None) as bar:

        def flush() -> Iterator[dict]:
            for row in predict_rows(pending, tagger):
                summary.sentences += 1
                summary.noise += row["is_noise"]
                summary.review += row["review"]
                yield row
            if one:
                bar.update(len(pending))
            else:
                bar.set_postfix_str(f"{summary.sentences} sentences")
            pending.clear()

        for path, records in _reports(files, summary):
            if one:
                bar.reset(total=len(records))
            else:
                bar.update(summary.files + len(summary.bad) - bar.n)
            for r in records:
                pending.append((path, r))
                if len(pending) == batch_size:
                    yield from flush()
        yield from flush()
        bar.update(0 if one else len(files) - bar.n)  # reports after the last good one were unreadable


def _csv_cells(r: dict, type_labels: list[str]) -> list:
    return [r["file"], r["doc"], r["index"], " > ".join(r["section"]), r["text"], r["is_heading"], r["is_noise"],
            r["area"], r["area_score"], "|".join(r["types"]), *[r["type_scores"][t] for t in type_labels], r["review"],
            r["start"], r["end"]]


def _output_format(out: str | Path) -> str:
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise GovtagError(f"{out}: unknown output format {suffix or '(no suffix)'!r}; "
                          "use a .jsonl, .csv or .xlsx file name")
    return suffix


def _print_row(r: dict) -> None:
    try:
        sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # `| head` went away: the CLI stops quietly
            raise
        raise GovtagError(os_error_message(exc, "standard output")) from None


@contextlib.contextmanager
def open_rows(out: str | Path | None, type_labels: list[str]) -> Iterator[Callable[[dict], object]]:
    """A writer of rows: JSONL (``.jsonl``, UTF-8), CSV (``.csv``, UTF-8 with BOM for Excel, cells
    that could run as formulas neutralised) or an Excel workbook (``.xlsx``: sentences, a summary sheet
    and a chart, see `govtag.workbook`); no ``out`` prints JSONL to standard output. The file
    appears only when the block ends without an error.

    Args:
        out: the output file, or None.
        type_labels: the model's types, one score column each in CSV.

    Yields:
        A function writing one row.

    Example:
        >>> with open_rows("out/pingyang.csv", ["achievement", "plan", "metric"]) as write:
        ...     write(row)  # row["text"] == "全年新增高企35家。"
    """
    if out is None:
        yield _print_row
        return
    out = Path(out)
    if _output_format(out) == ".jsonl":
        with atomic_write(out, encoding="utf-8") as f:
            yield lambda r: f.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif _output_format(out) == ".xlsx":
        from govtag.schema import load_schema
        from govtag.workbook import WorkbookWriter

        with WorkbookWriter(out, load_schema()) as wb:
            yield wb.write
    else:
        with atomic_write(out, encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "doc", "index", "section", "text", "is_heading", "is_noise", "area", "area_score",
                        "types", *[f"score_{t}" for t in type_labels], "review", "start", "end"])
            yield lambda r: w.writerow([csv_safe(v) for v in _csv_cells(r, type_labels)])


def write_rows(rows: Iterable[dict], out: str | Path | None, type_labels: list[str]) -> None:
    """Write rows (a list or a stream) with `open_rows`.

    Example:
        >>> write_rows(tag_rows(files, tagger), "out/乡村振兴.jsonl", tagger.type_labels_)
    """
    with open_rows(out, type_labels) as write:
        for r in rows:
            write(r)


def tag(inputs: list[str], model_dir: str | Path, out: str | Path | None = None,
        batch_size: int = 64, precision: str = "auto") -> TagSummary:
    """Tag reports with a trained model, streaming the rows to ``out``.

    The output path is checked before any work starts. A report that cannot be read (empty, binary…)
    does not stop the others: it is listed in the summary's ``bad``. When no report can be read,
    nothing is written.

    Args:
        inputs: report files, folders or glob patterns.
        model_dir: a model directory from `govtag train`.
        out: ``.jsonl`` or ``.csv`` path; None prints JSONL.
        batch_size: records per call to the model.
        precision: how the network computes: ``auto``, ``bf16`` or ``fp32`` (`govtag.backends.precision`).

    Returns:
        The run's `TagSummary`.

    Example:
        >>> tag(["data/reports/pingyang-keji-2022.txt"], "models/default", "out/pingyang.csv").describe()
        '86 sentences from 1 report tagged, 8 flagged for review → standard output'
    """
    from govtag.backends import load_model

    if out is not None:
        check_output_file(out)
        _output_format(out)
    elif sys.stdout is None:
        raise GovtagError("standard output is closed; give an output file: -o OUT.jsonl or -o OUT.csv")
    files = expand_inputs(inputs)
    tagger = load_model(model_dir, precision=precision)
    summary = TagSummary()
    rows = tag_rows(files, tagger, summary, batch_size)
    first = next(rows, None)  # the output is created only once a report has been read
    if first is not None:
        write_rows(chain([first], rows), out, tagger.type_labels_)
    return summary
