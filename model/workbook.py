"""The Excel workbook a tagged batch becomes: a 句子 sheet with every sentence, a 汇总 sheet with counts
per report and per area × type, and a native stacked-bar chart that stays live when the analyst edits.

Written with XlsxWriter in constant-memory mode, so rows stream to disk while tagging and memory stays
bounded by one row, whatever the batch size (openpyxl keeps every cell in memory while writing; it is
used only to read workbooks back). Every text cell is written as a string cell, never as a formula, so
a sentence starting with ``=`` cannot run in Excel.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from govtag.errors import GovtagError
from govtag.io import atomic_write
from govtag.schema import Schema
from govtag.summary import BatchSummary

SENTENCES, SUMMARY = "句子", "汇总"
# (row key, header as the analyst reads it, column width in characters)
COLUMNS = [("file", "文件 file", 22), ("doc", "报告 doc", 26), ("index", "序号 index", 7),
           ("section", "章节 section", 30), ("text", "句子 text", 60), ("is_heading", "标题 is_heading", 8),
           ("area", "领域 area", 9), ("area_score", "领域得分 area_score", 10), ("types", "类型 types", 18)]
TAIL = [("review", "需复核 review", 8), ("start", "起 start", 7), ("end", "止 end", 7)]


def _header_key(header: str) -> str:
    return header.rsplit(" ", 1)[-1]


class WorkbookWriter:
    """Stream tagged rows into an ``.xlsx`` file; the file appears only when `close` succeeds.

    Args:
        path: the workbook to write.
        schema: the label schema (type columns and summary order).

    Example:
        >>> with WorkbookWriter("out/batch.xlsx", load_schema()) as wb:
        ...     wb.write({"file": "a.txt", "doc": "某县科技局2023年工作总结", "index": 0, "section": [],
        ...               "text": "新增高新技术企业35家。", "is_heading": False, "area": "主体",
        ...               "area_score": 0.97, "types": ["achievement", "metric"],
        ...               "type_scores": {"achievement": 0.9, "plan": 0.1, "metric": 0.95},
        ...               "review": False, "start": 0, "end": 12})
    """

    def __init__(self, path: str | Path, schema: Schema):
        self.path = Path(path)
        self.schema = schema
        self.summary = BatchSummary(schema)
        self._columns = COLUMNS + [(f"score_{t}", f"{t} 得分 score_{t}", 10) for t in schema.types] + TAIL
        self._n = 0

    def __enter__(self) -> "WorkbookWriter":
        self._ctx = atomic_write(self.path, binary=True)
        self._file = self._ctx.__enter__()
        self._wb = xlsxwriter.Workbook(self._file, {"constant_memory": True, "strings_to_formulas": False,
                                                    "strings_to_urls": False})
        self._ws = self._wb.add_worksheet(SENTENCES)
        self._fmt = {"head": self._wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True,
                                                  "valign": "top"}),
                     "wrap": self._wb.add_format({"text_wrap": True, "valign": "top"}),
                     "top": self._wb.add_format({"valign": "top"}),
                     "score": self._wb.add_format({"num_format": "0.000", "valign": "top"})}
        review = {"bg_color": "#FFF2CC"}
        self._fmt.update({f"{k}_review": self._wb.add_format({**props, **review}) for k, props in
                          [("wrap", {"text_wrap": True, "valign": "top"}), ("top", {"valign": "top"}),
                           ("score", {"num_format": "0.000", "valign": "top"})]})
        for j, (_, header, width) in enumerate(self._columns):
            self._ws.set_column(j, j, width)
            self._ws.write_string(0, j, header, self._fmt["head"])
        self._ws.freeze_panes(1, 0)
        return self

    def write(self, row: dict) -> None:
        """Append one tagged row (as `govtag tag` produces it) to the 句子 sheet and the counts."""
        self._n += 1
        suffix = "_review" if row.get("review") else ""
        for j, (key, _, _) in enumerate(self._columns):
            value = row["type_scores"][key[6:]] if key.startswith("score_") else row.get(key)
            if key in ("area_score",) or key.startswith("score_"):
                self._ws.write_number(self._n, j, float(value), self._fmt["score" + suffix])
            elif key in ("index", "start", "end"):
                self._ws.write_number(self._n, j, int(value), self._fmt["top" + suffix])
            elif key in ("is_heading", "review"):
                self._ws.write_boolean(self._n, j, bool(value), self._fmt["top" + suffix])
            else:
                text = " > ".join(value) if key == "section" else "|".join(value) if key == "types" else str(value)
                self._ws.write_string(self._n, j, text, self._fmt[("wrap" if key == "text" else "top") + suffix])
        self.summary.add(row)

    def _write_summary(self) -> None:
        ws = self._wb.add_worksheet(SUMMARY)
        head = self._fmt["head"]
        table = self.summary.table()
        keys = ["report", "file", "sentences", *self.schema.areas, *self.schema.types, "metric_share"]
        for j, k in enumerate(keys):
            ws.write_string(0, j, {"report": "报告 report", "file": "文件 file", "sentences": "句数 sentences",
                                   "metric_share": "指标句占比 metric_share"}.get(k, k), head)
            ws.set_column(j, j, 28 if k in ("report", "file") else 11)
        pct = self._wb.add_format({"num_format": "0.0%"})
        for i, r in enumerate(table, 1):
            for j, k in enumerate(keys):
                if isinstance(r[k], str):
                    ws.write_string(i, j, r[k])
                else:
                    ws.write_number(i, j, r[k], pct if k == "metric_share" else None)
        start = len(table) + 3
        ws.write_string(start - 1, 0, "全部报告：领域 × 类型 (whole batch: area × type)", head)
        for j, k in enumerate(["area", *self.schema.types, "sentences"]):
            ws.write_string(start, j, k, head)
        for i, r in enumerate(self.summary.area_type_rows(), start + 1):
            ws.write_string(i, 0, r["area"])
            for j, k in enumerate([*self.schema.types, "sentences"], 1):
                ws.write_number(i, j, r[k])
        if table:
            chart = self._wb.add_chart({"type": "bar", "subtype": "stacked"})
            for j, area in enumerate(self.schema.areas):
                col = keys.index(area)
                chart.add_series({"name": [SUMMARY, 0, col], "categories": [SUMMARY, 1, 0, len(table), 0],
                                  "values": [SUMMARY, 1, col, len(table), col]})
            chart.set_title({"name": "各报告句子的领域分布 (sentences per area)"})
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 760, "height": max(320, 26 * len(table) + 120)})
            ws.insert_chart(start + len(self.schema.areas) + 3, 0, chart)

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                if self._n:
                    self._ws.autofilter(0, 0, self._n, len(self._columns) - 1)
                self._write_summary()
            self._wb.close()
        finally:
            self._ctx.__exit__(kind, exc, tb)


def read_sentences(path: str | Path):
    """Yield the 句子 sheet of a govtag workbook as rows of cells, the first row holding the column keys.

    Example:
        >>> header = next(read_sentences("out/batch.xlsx"))
        >>> header[:3]
        ['file', 'doc', 'index']
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for foreign files
        raise GovtagError(f"{path}: not a readable Excel workbook ({type(exc).__name__}); give the .xlsx "
                          "that `govtag tag` wrote") from None
    if SENTENCES not in wb.sheetnames:
        raise GovtagError(f"{path}: no sheet named {SENTENCES}; give the .xlsx that `govtag tag` wrote")
    rows = wb[SENTENCES].iter_rows(values_only=True)
    yield [_header_key(str(h)) for h in next(rows, [])]
    yield from rows
