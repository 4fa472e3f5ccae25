"""Train → evaluate → tag through the CLI with the baseline config (TF-IDF), on the bundled corpus.

The county report (data/reports, the seed report) is held out of training here, so what the model
says about it is a real prediction: its 2023 plans must come out `plan`, its rural-revitalisation
heading 乡村振兴. Training takes well under a minute on 2 cores.
"""

import csv
import json

import pytest
from typer.testing import CliRunner

from govtag.cli import app
from tests.conftest import ROOT
from govtag.segment import segment_file

COUNTY = ROOT / "data" / "reports" / "pingyang-keji-2022.txt"
CORPUS = ROOT / "data" / "corpus" / "corpus.jsonl"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "baseline"
    result = CliRunner().invoke(app, ["train", "--config", str(ROOT / "configs/baseline.yaml"),
                                      "--train", str(CORPUS), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_model_directory_is_complete(trained):
    meta = json.loads((trained / "config.json").read_text(encoding="utf-8"))
    assert meta["backend"] == "tfidf" and meta["data"]["train_sentences"] > 0
    assert meta["config"]["data"]["train"] == [str(CORPUS)]
    assert "平阳县科技局" not in CORPUS.read_text(encoding="utf-8")  # the county report is held out
    assert meta["metrics"]["n"] == meta["data"]["dev_sentences"] > 0
    assert "Dev scores" in (trained / "README.md").read_text(encoding="utf-8")


def test_evaluate_writes_the_report(trained, tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "--model", str(trained), "--data", str(CORPUS),
                                      "--split", "dev", "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "area   accuracy" in result.output and "exact match" in result.output
    m = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert set(m) >= {"n", "area", "types", "exact_match"}
    assert set(m["area"]) >= {"accuracy", "macro_f1", "per_class"}
    assert set(m["area"]["per_class"]["人才"]) == {"precision", "recall", "f1", "support"}
    assert set(m["types"]) >= {"micro_f1", "macro_f1", "per_type"}
    dev = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines() if '"split": "dev"' in x]
    assert m["n"] == len(dev) and sum(s["support"] for s in m["area"]["per_class"].values()) == len(dev)
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    errors = (tmp_path / "errors.csv").read_bytes()
    assert errors.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader((tmp_path / "errors.csv").open(encoding="utf-8-sig")))
    assert all(r["gold_area"] != r["pred_area"] or r["gold_types"] != r["pred_types"] for r in rows)
    assert "![area confusion matrix](confusion.png)" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_tag_county_report_to_csv_and_jsonl(trained, tmp_path):
    sents = segment_file(COUNTY)
    for name in ("tags.csv", "tags.jsonl"):
        result = CliRunner().invoke(app, ["tag", str(COUNTY), "--model", str(trained), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"
    rows = [json.loads(x) for x in (tmp_path / "tags.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [s.text for s in sents]
    assert [(r["start"], r["end"]) for r in rows] == [(s.start, s.end) for s in sents]
    assert set(rows[0]) == {"file", "doc", "index", "section", "text", "is_heading", "is_noise", "area", "area_score",
                            "types", "type_scores", "review", "start", "end"}
    heading = next(r for r in rows if r["text"] == "(六)加强科技指导帮扶,有效助力乡村振兴。")
    assert heading["area"] == "乡村振兴"
    visit = next(r for r in rows if r["text"].startswith("深入开展“关爱科技特派员走乡村”活动"))
    assert visit["area"] == "乡村振兴"
    plans = [r for r in rows if r["section"][:1] == ["二、2023年工作思路"]]
    assert len(plans) > 20 and [r["text"] for r in plans if "plan" not in r["types"]] == []
    done = [r for r in rows if r["section"][:1] == ["一、2022年工作总结"]]
    assert len(done) > 50 and sum("achievement" in r["types"] for r in done) >= 0.7 * len(done)
    table = list(csv.DictReader((tmp_path / "tags.csv").open(encoding="utf-8-sig")))
    assert len(table) == len(rows) and table[3]["text"] == rows[3]["text"]
    assert {"score_achievement", "score_plan", "score_metric", "review"} <= set(table[0])
