"""The analyst's loop: the workbook read back, the summary table and picture, and the Label Studio round trip."""

import json
import warnings

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from govtag.annotate import export_tasks, import_annotations, label_config, uncertainty
from govtag.cli import app
from govtag.data import load_records
from govtag.errors import GovtagError
from govtag.summary import read_tagged, summarise_file
from govtag.workbook import SENTENCES, SUMMARY, WorkbookWriter
from tests.conftest import ROOT, write_jsonl

REPORT = ROOT / "data" / "reports" / "pingyang-keji-2022.txt"


def _row(schema, i, doc="某县科技局2023年工作总结", **kw):
    area = schema.areas[i % len(schema.areas)]
    types = [schema.types[i % 3]] if i % 4 else []
    return {"file": f"{doc}.txt", "doc": doc, "index": i, "section": ["一、2023年工作总结"],
            "text": f"第{i}句：新增高新技术企业35家。", "is_heading": False, "area": area,
            "area_score": 0.5 + i / 100, "types": types, "type_scores": {t: 0.25 for t in schema.types},
            "review": i % 5 == 0, "start": i * 10, "end": i * 10 + 9, **kw}


@pytest.fixture(scope="module")
def rows(schema):
    out = [_row(schema, i) for i in range(12)] + [_row(schema, i, doc="某区人社局2024年工作要点") for i in range(7)]
    out[3] = {**out[3], "text": '=HYPERLINK("http://x","点")'}
    out[4] = {**out[4], "is_heading": True}
    return out


def test_workbook_reads_back_with_sheets_numbers_and_a_chart(tmp_path, schema, rows):
    path = tmp_path / "batch.xlsx"
    with WorkbookWriter(path, schema) as wb:
        for r in rows:
            wb.write(r)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SENTENCES, SUMMARY]
    sheet = book[SENTENCES]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["文件 file", "报告 doc", "序号 index", "章节 section", "句子 text"]
    assert sheet.max_row == len(rows) + 1 and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    col = {h.split()[-1]: i for i, h in enumerate(header)}
    second = [c for c in sheet[3]]
    assert second[col["area_score"]].data_type == "n" and second[col["area_score"]].value == pytest.approx(0.51)
    assert second[col["score_plan"]].data_type == "n"
    formula = sheet.cell(row=5, column=col["text"] + 1)
    assert formula.value == '=HYPERLINK("http://x","点")' and formula.data_type == "s"  # a string, never run
    assert sheet.cell(row=2, column=1).fill.fgColor.rgb.endswith("FFF2CC")  # review rows are highlighted
    summary = book[SUMMARY]
    assert [summary.cell(row=r, column=1).value for r in (2, 3)] == ["某县科技局2023年工作总结", "某区人社局2024年工作要点"]
    assert summary.cell(row=2, column=3).value == 11  # 12 rows, one heading not counted
    assert len(summary._charts) == 1


def test_summary_reads_jsonl_csv_and_workbook_alike(tmp_path, schema, rows):
    jsonl = write_jsonl(tmp_path / "b.jsonl", rows)
    xlsx = tmp_path / "b.xlsx"
    with WorkbookWriter(xlsx, schema) as wb:
        for r in rows:
            wb.write(r)
    csv_path = tmp_path / "b.csv"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:
        import csv

        w = csv.writer(f)
        w.writerow(["file", "doc", "index", "text", "is_heading", "area", "types"])
        for r in rows:
            w.writerow([r["file"], r["doc"], r["index"], r["text"], r["is_heading"], r["area"], "|".join(r["types"])])
    tables = [summarise_file(p, tmp_path / p.suffix[1:]).table() for p in (jsonl, csv_path, xlsx)]
    assert tables[0] == tables[1] == tables[2]
    first = tables[0][0]
    assert first["sentences"] == 11 and sum(first[a] for a in schema.areas) == 11
    assert first["metric_share"] == round(first["metric"] / 11, 3)
    assert (tmp_path / "jsonl" / "summary.csv").read_text(encoding="utf-8-sig").startswith("report,file,sentences,平台")


def test_summary_picture_uses_a_cjk_font_without_missing_glyphs(tmp_path, schema, rows):
    from matplotlib import font_manager

    from govtag.plots import cjk_font

    family = cjk_font()
    if family is None:
        pytest.skip("no CJK font package (mplfonts) installed; pictures fall back to Latin names")
    font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for boxes
        summarise_file(write_jsonl(tmp_path / "b.jsonl", rows), tmp_path)
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("content, message", [
    ("a,b,c\n1,2,3\n", "not a table `govtag tag` wrote"),
    ('{"text": "x"}\n', "not a govtag row"),
    ('{"file": "a", "doc": "d", "area": "科技", "types": []}\n', "unknown label '科技'"),
])
def test_summary_refuses_foreign_files(tmp_path, schema, content, message):
    path = tmp_path / ("x.csv" if content.startswith("a,") else "x.jsonl")
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GovtagError, match=message):
        read_tagged(path, schema)


def test_uncertainty_puts_close_calls_first():
    area = np.array([[0.9, 0.05, 0.05], [0.45, 0.44, 0.11], [0.7, 0.2, 0.1]])
    types = np.array([[0.95], [0.99], [0.52]])
    assert np.argsort(uncertainty(area, types, np.array([0.5]))).tolist() == [1, 2, 0]


def _label_studio_export(tasks: list[dict], labels: dict) -> list[dict]:
    """What Label Studio's Export → JSON gives for these tasks once annotated (its documented shape)."""
    out = []
    for k, task in enumerate(tasks, 1):
        anns = []
        if k in labels:
            area, types = labels[k]
            old = {"id": 10 * k, "was_cancelled": False, "created_at": "2026-11-30T09:00:00.000000Z",
                   "updated_at": "2026-11-30T09:00:00.000000Z",
                   "result": [{"id": "a", "from_name": "area", "to_name": "text", "type": "choices",
                               "origin": "manual", "value": {"choices": ["其他"]}}]}
            new = {"id": 10 * k + 1, "was_cancelled": False, "created_at": "2026-12-01T10:00:00.000000Z",
                   "updated_at": "2026-12-01T10:00:00.000000Z", "lead_time": 4.2, "completed_by": 1,
                   "result": [{"id": "b", "from_name": "area", "to_name": "text", "type": "choices",
                               "origin": "manual", "value": {"choices": [area]}}]
                   + ([{"id": "c", "from_name": "types", "to_name": "text", "type": "choices",
                        "origin": "manual", "value": {"choices": types}}] if types else [])}
            anns = [old, new]
        elif k == 3:
            anns = [{"id": 30, "was_cancelled": True, "result": [], "created_at": "2026-12-01T10:00:00Z"}]
        out.append({"id": k, "data": task["data"], "annotations": anns, "predictions": task["predictions"],
                    "meta": {}, "inner_id": k, "project": 7})
    return out


def test_label_studio_round_trip(tmp_path, schema, tfidf_model):
    tasks_path = tmp_path / "tasks.json"
    done = export_tasks([str(REPORT)], tfidf_model, tasks_path, top=10)
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert done["tasks"] == len(tasks) == 10
    scores = [t["predictions"][0]["score"] for t in tasks]
    assert scores == sorted(scores)  # least certain first
    pred = tasks[0]["predictions"][0]["result"][0]
    assert pred["from_name"] == "area" and pred["value"]["choices"][0] in schema.areas
    config = (tmp_path / "label_config.xml").read_text(encoding="utf-8")
    assert config == label_config(schema) and 'name="types"' in config and 'choice="multiple"' in config

    labels = {1: ("主体", ["plan", "metric"]), 2: ("乡村振兴", []), 4: ("人才", ["achievement"])}
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_label_studio_export(tasks, labels), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "mine.jsonl"
    assert import_annotations(export, out, split="train") == {"records": 3, "skipped": 7, "out": str(out)}
    records = load_records(out, schema)  # what `govtag train --train` reads
    got = {r["text"]: (r["area"], r["types"]) for r in records}
    assert got == {tasks[k - 1]["data"]["text"]: v for k, v in labels.items()}
    assert all(r["section"] == tasks[0]["data"]["section_path"] or isinstance(r["section"], list) for r in records)


@pytest.mark.parametrize("export, message", [
    ([], "no tasks"),
    ([{"id": 1, "data": {"text": "x"}, "annotations": []}], "not a govtag task"),
    ([{"id": 5, "data": {"text": "x", "govtag_id": "d#1"}, "annotations": [
        {"id": 1, "result": [{"from_name": "area", "value": {"choices": ["Positive"]}}]}]}],
     "task 5: unknown area 'Positive'"),
    ([{"id": 1, "data": {"text": "x", "govtag_id": "d#1"}, "annotations": []}], "none of its 1 tasks"),
])
def test_import_refuses_bad_exports_in_one_sentence(tmp_path, export, message):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = CliRunner().invoke(app, ["annotate", "import", str(path), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_summary_prints_the_table(tmp_path, rows):
    path = write_jsonl(tmp_path / "b.jsonl", rows)
    result = CliRunner().invoke(app, ["summary", str(path), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "某区人社局2024年工作要点" in result.output and (tmp_path / "s" / "summary.png").is_file()


def test_tag_writes_a_workbook_that_summary_reads(tmp_path, tfidf_model):
    out = tmp_path / "batch.xlsx"
    result = CliRunner().invoke(app, ["tag", str(REPORT), "--model", str(tfidf_model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book[SENTENCES].iter_rows(values_only=True))
    from govtag.segment import segment_file

    assert len(rows) - 1 == len(segment_file(REPORT))  # every sentence, headings included
    result = CliRunner().invoke(app, ["summary", str(out), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "pingyang" in result.output
