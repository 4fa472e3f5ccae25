"""What a tagged batch says: counts per report, area and type, as a terminal table, a CSV and a picture.

`BatchSummary` counts rows as they stream past (the workbook writer feeds it while tagging);
`summarise_file` reads a finished tagged file (govtag's JSONL, CSV or workbook) and writes
``summary.csv`` and ``summary.png``. Headings and page chrome are not counted: the numbers are about
the sentences of the reports.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from govtag.errors import GovtagError
from govtag.io import FORMULA_STARTS, atomic_write, csv_safe, pad
from govtag.schema import Schema, load_schema

SUMMARY_FILES = ("summary.csv", "summary.png")


class BatchSummary:
    """Running counts of a tagged batch: per report, per area and per type.

    Example:
        >>> s = BatchSummary(load_schema())
        >>> s.add({"file": "a.txt", "doc": "某县科技局2023年工作总结", "area": "主体",
        ...        "types": ["achievement", "metric"]})
        >>> s.table()[0]["主体"], s.table()[0]["metric_share"]
        (1, 1.0)
    """

    def __init__(self, schema: Schema):
        self.schema = schema
        self._reports: dict[str, dict] = {}
        self.area_types = np.zeros((len(schema.areas), len(schema.types) + 1), dtype=int)

    def add(self, row: dict) -> None:
        """Count one tagged row (headings and page chrome are skipped)."""
        if row.get("is_heading") or row.get("is_noise"):
            return
        key = str(row.get("file") or row.get("doc") or "")
        rep = self._reports.setdefault(key, {"doc": row.get("doc") or Path(key).stem, "file": key,
                                             "areas": np.zeros(len(self.schema.areas), dtype=int),
                                             "types": np.zeros(len(self.schema.types), dtype=int), "n": 0})
        a = self.schema.areas.index(row["area"])
        rep["areas"][a] += 1
        rep["n"] += 1
        self.area_types[a, -1] += 1
        for t in row["types"]:
            rep["types"][self.schema.types.index(t)] += 1
            self.area_types[a, self.schema.types.index(t)] += 1

    def table(self) -> list[dict]:
        """One dict per report, in the order first seen: report, file, sentences, each area, each type,
        metric_share."""
        out = []
        docs = [r["doc"] for r in self._reports.values()]
        for rep in self._reports.values():
            name = rep["doc"] if docs.count(rep["doc"]) == 1 else f"{rep['doc']} ({Path(rep['file']).name})"
            row = {"report": name, "file": rep["file"], "sentences": rep["n"]}
            row.update(zip(self.schema.areas, rep["areas"].tolist()))
            row.update(zip(self.schema.types, rep["types"].tolist()))
            metric = rep["types"][self.schema.types.index("metric")] if "metric" in self.schema.types else 0
            row["metric_share"] = round(float(metric) / rep["n"], 3) if rep["n"] else 0.0
            out.append(row)
        return out

    def area_type_rows(self) -> list[dict]:
        """The whole batch: one dict per area with its count of each type and its sentence total."""
        return [{"area": a, **dict(zip(self.schema.types, self.area_types[i, :-1].tolist())),
                 "sentences": int(self.area_types[i, -1])} for i, a in enumerate(self.schema.areas)]

    def counts(self) -> np.ndarray:
        """``[reports, areas]`` sentence counts, in table order."""
        return np.array([r["areas"] for r in self._reports.values()]).reshape(-1, len(self.schema.areas))

    def format(self) -> str:
        """The per-report table and the batch's area × type table, for a terminal."""
        heads = ["report", "sentences", *self.schema.areas, *self.schema.types, "metric%"]
        widths = [30, 11, *[max(8, 2 * len(a) + 2) for a in self.schema.areas], 13, 6, 8, 8]
        lines = ["".join(pad(h, w) for h, w in zip(heads, widths))]
        for r in self.table():
            name = r["report"] if len(r["report"]) <= 14 else r["report"][:13] + "…"
            cells = [name, r["sentences"], *[r[a] for a in self.schema.areas],
                     *[r[t] for t in self.schema.types], f"{r['metric_share']:.0%}"]
            lines.append("".join(pad(str(c), w) for c, w in zip(cells, widths)))
        lines += ["", "".join(pad(h, w) for h, w in zip(["area", *self.schema.types, "sentences"],
                                                           [10, 12, 6, 7, 9]))]
        for r in self.area_type_rows():
            cells = [r["area"], *[r[t] for t in self.schema.types], r["sentences"]]
            lines.append("".join(pad(str(c), w) for c, w in zip(cells, [10, 12, 6, 7, 9])))
        return "\n".join(lines)


def read_tagged(path: str | Path, schema: Schema) -> list[dict]:
    """Read rows of a file `govtag tag` wrote: ``.jsonl``, ``.csv`` or ``.xlsx`` (its 句子 sheet).

    Returns:
        Dicts with at least ``file, doc, area, types`` (and ``is_heading``, ``is_noise`` where present).

    Raises:
        GovtagError: the file is missing, is not govtag's output, or a row holds an unknown label.

    Example:
        >>> rows = read_tagged("out/pingyang-keji-2022.csv", load_schema())
        >>> rows[0]["area"]
        '其他'
    """
    path = Path(path)
    if not path.is_file():
        raise GovtagError(f"{path}: file not found; give a .jsonl, .csv or .xlsx file written by `govtag tag`")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = _read_jsonl(path)
    elif suffix == ".csv":
        rows = _read_table(path, _csv_rows(path))
    elif suffix == ".xlsx":
        from govtag.workbook import read_sentences

        rows = _read_table(path, read_sentences(path))
    else:
        raise GovtagError(f"{path}: unknown format {suffix or '(no suffix)'!r}; give the .jsonl, .csv or .xlsx "
                          "that `govtag tag` wrote")
    for line, row in rows:
        if row["area"] not in schema.areas or not set(row["types"]) <= set(schema.types):
            raise GovtagError(f"{path}:{line}: unknown label {row['area']!r} / {row['types']!r}; expected "
                              f"areas {', '.join(schema.areas)} and types {', '.join(schema.types)}")
    if not rows:
        raise GovtagError(f"{path}: no tagged rows; tag some reports first with `govtag tag`")
    return [r for _, r in rows]


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GovtagError(f"{path}:{n}: bad JSON ({exc.msg}); expected the JSONL `govtag tag` writes") from None
        if not isinstance(row, dict) or not {"area", "types"} <= set(row) or not isinstance(row["types"], list):
            raise GovtagError(f"{path}:{n}: not a govtag row (needs area and types); expected the JSONL "
                              "`govtag tag` writes")
        rows.append((n, row))
    return rows


def _csv_rows(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from csv.reader(f)


def _unescape(cell):
    # the CSV writer prefixes cells that a spreadsheet would run as formulas with a quote
    return cell[1:] if isinstance(cell, str) and cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _read_table(path: Path, lines) -> list[tuple[int, dict]]:
    lines = iter(lines)
    header = [str(h) for h in next(lines, [])]
    need = ("file", "doc", "area", "types")
    if not set(need) <= set(header):
        raise GovtagError(f"{path}: not a table `govtag tag` wrote (columns {', '.join(header[:6]) or 'none'}); "
                          f"expected columns {', '.join(need)}")
    col = {h: header.index(h) for h in header}
    rows = []
    for n, cells in enumerate(lines, 2):
        if not any(c not in (None, "") for c in cells):
            continue
        get = {h: _unescape(cells[i]) if i < len(cells) else None for h, i in col.items()}
        types = str(get["types"] or "")
        rows.append((n, {"file": get["file"] or "", "doc": get["doc"] or "", "area": get["area"],
                         "types": [t for t in types.split("|") if t],
                         "is_heading": str(get.get("is_heading")) in ("True", "true", "1"),
                         "is_noise": str(get.get("is_noise")) in ("True", "true", "1")}))
    return rows


def summarise_file(path: str | Path, out_dir: str | Path | None = None) -> BatchSummary:
    """Count a tagged file per report, area and type; write ``summary.csv`` and ``summary.png``.

    Args:
        path: a ``.jsonl``, ``.csv`` or ``.xlsx`` file from `govtag tag`.
        out_dir: where to write the two files (default: next to ``path``).

    Returns:
        The `BatchSummary` (``format()`` gives the terminal table).

    Example:
        >>> print(summarise_file("out/batch.jsonl", "out/summary").format().splitlines()[0][:6])
        report
    """
    schema = load_schema()
    out = Path(out_dir) if out_dir is not None else Path(path).parent
    if out.exists() and not out.is_dir():
        raise GovtagError(f"{out}: exists and is not a folder; give a folder for summary.csv and summary.png")
    summary = BatchSummary(schema)
    for row in read_tagged(path, schema):
        summary.add(row)
    table = summary.table()
    with atomic_write(out / "summary.csv", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]) if table else ["report"])
        w.writeheader()
        w.writerows({k: csv_safe(v) for k, v in row.items()} for row in table)
    from govtag.plots import plot_report_areas

    plot_report_areas([r["report"] for r in table], summary.counts(), schema, out / "summary.png")
    return summary
