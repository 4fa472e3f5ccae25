"""Tagging: rows streamed to the output as they are made, batches across reports with context kept
within each report, page chrome kept from the model, bad reports named while the rest are tagged,
formula-safe CSV, a progress bar, SIGTERM and a closed stdout handled."""

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys

import pytest

import govtag.backends
import govtag.segment
from govtag.backends import load_model
from govtag.tag import TagSummary, tag, tag_rows
from tests.conftest import ROOT

COUNTY = ROOT / "data" / "reports" / "pingyang-keji-2022.txt"
COUNTY_SENTENCES = 86
HYPERLINK = '=HYPERLINK("http://x","点")'


class Spy:
    """Wraps a loaded model and records every batch it is asked to predict."""

    def __init__(self, tagger, on_predict=None):
        self.tagger, self.batches, self.on_predict = tagger, [], on_predict
        self.type_labels_ = tagger.type_labels_

    def predict(self, records):
        self.batches.append(records)
        if self.on_predict:
            self.on_predict(self)
        return self.tagger.predict(records)


@pytest.fixture
def spy(tfidf_model, monkeypatch):
    model = Spy(load_model(tfidf_model))
    monkeypatch.setattr(govtag.backends, "load_model", lambda path, **options: model)
    return model


def copies(folder, n):
    folder.mkdir(exist_ok=True)
    for i in range(n):
        shutil.copy(COUNTY, folder / f"report-{i:02d}.txt")
    return folder


def read_jsonl(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_rows_are_made_lazily_one_batch_at_a_time(tfidf_model, tmp_path):
    model = Spy(load_model(tfidf_model))
    rows = tag_rows(sorted(copies(tmp_path / "in", 3).iterdir()), model, batch_size=16)
    assert next(rows)["text"] and len(model.batches) == 1
    assert len(list(rows)) == 3 * COUNTY_SENTENCES - 1


def test_rows_reach_the_temporary_file_while_tagging(spy, tmp_path):
    seen = []
    spy.on_predict = lambda s: seen.append(sum(p.stat().st_size for p in tmp_path.glob(".out.jsonl.*.tmp")))
    summary = tag([str(copies(tmp_path / "in", 4))], "model", tmp_path / "out.jsonl", batch_size=32)
    assert seen[0] == 0 and seen[-1] > 0  # the old code held every row until the end
    assert summary.sentences == len(read_jsonl(tmp_path / "out.jsonl")) == 4 * COUNTY_SENTENCES


def test_batches_span_reports_and_context_stays_within_each(spy, tmp_path):
    summary = tag([str(copies(tmp_path / "in", 2))], "model", tmp_path / "out.jsonl", batch_size=64)
    assert [len(b) for b in spy.batches] == [64, 64, 2 * COUNTY_SENTENCES - 128]
    records = [r for b in spy.batches for r in b]
    assert records[COUNTY_SENTENCES]["index"] == 0 and records[COUNTY_SENTENCES]["prev"] == ""
    assert records[1]["prev"] == records[0]["text"]
    assert (summary.files, summary.sentences, summary.bad) == (2, 2 * COUNTY_SENTENCES, [])


def test_page_chrome_is_not_sent_to_the_model(spy, tmp_path, monkeypatch):
    real = govtag.segment.segment_file

    class Record:  # a segmenter record with the is_noise field, before or after the segmenter has it
        def __init__(self, d):
            self.d = d

        def to_dict(self):
            return self.d

    def with_chrome(path):
        records = [s.to_dict() for s in real(path)]
        records[3]["is_noise"] = True
        return [Record(r) for r in records]

    monkeypatch.setattr(govtag.segment, "segment_file", with_chrome)
    chrome = real(COUNTY)[3].text
    summary = tag([str(COUNTY)], "model", tmp_path / "out.jsonl")
    assert chrome not in [r["text"] for b in spy.batches for r in b]
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == COUNTY_SENTENCES and rows[3]["text"] == chrome
    assert (rows[3]["area"], rows[3]["types"], rows[3]["area_score"], rows[3]["review"]) == ("其他", [], 1.0, False)
    assert rows[3]["is_noise"] and not any(r["is_noise"] for r in rows[:3] + rows[4:])
    assert rows[3]["type_scores"] == {"achievement": 0.0, "plan": 0.0, "metric": 0.0}
    assert summary.noise == 1 and "1 page-chrome lines not sent to the model" in summary.describe()


def test_a_bad_report_does_not_lose_the_batch(spy, tmp_path):
    folder = copies(tmp_path / "in", 2)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\xff\x00binary")
    os.mkfifo(folder / "pipe.txt")  # named, not passed over, and never opened (it would hang)
    summary = tag([str(folder)], "model", tmp_path / "out.csv")
    assert (summary.files, summary.sentences) == (2, 2 * COUNTY_SENTENCES)
    assert len(summary.bad) == 3 and str(folder / "binary.txt") in summary.bad[0] and "binary" in summary.bad[0]
    assert str(folder / "empty.txt") in summary.bad[1] and "empty" in summary.bad[1]
    assert str(folder / "pipe.txt") in summary.bad[2] and "not a regular file" in summary.bad[2]
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    assert {r["file"] for r in rows} == {str(folder / "report-00.txt"), str(folder / "report-01.txt")}
    assert summary.describe("out.csv").startswith(f"{2 * COUNTY_SENTENCES} sentences from 2 of 5 reports tagged")


def test_nothing_is_written_when_no_report_can_be_read(spy, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    summary = tag([str(tmp_path / "empty.txt")], "model", tmp_path / "out.jsonl")
    assert summary.files == 0 and len(summary.bad) == 1 and spy.batches == []
    assert list(tmp_path.iterdir()) == [tmp_path / "empty.txt"]


def test_csv_cells_cannot_run_as_formulas(spy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative input path: the file column starts with the file name
    name = '=HYPERLINK("x","点").txt'
    (tmp_path / name).write_text(f"说明\n{HYPERLINK}\n全年新增高企35家。\n", encoding="utf-8")
    tag([name], "model", "out.csv")
    tag([name], "model", "out.jsonl")
    rows = list(csv.DictReader(open("out.csv", encoding="utf-8-sig")))
    assert [r["text"] for r in rows] == ["说明", "'" + HYPERLINK, "全年新增高企35家。"]
    assert {r["file"] for r in rows} == {"'" + name} and {r["doc"] for r in rows} == {"'" + name[:-4]}
    assert float(rows[1]["area_score"]) > 0 and rows[1]["index"] == "1"  # numbers stay numbers
    assert read_jsonl(tmp_path / "out.jsonl")[1]["text"] == HYPERLINK  # JSONL keeps the text exact


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_output_follows_the_umask(spy, tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        tag([str(COUNTY)], "model", tmp_path / "out.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == mode


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_counts_sentences_of_one_report_and_reports_of_a_batch(tfidf_model, tmp_path, monkeypatch):
    model = load_model(tfidf_model)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert len(list(tag_rows([COUNTY], model, batch_size=32))) == COUNTY_SENTENCES
    assert f"{COUNTY_SENTENCES}/{COUNTY_SENTENCES} [" in sys.stderr.getvalue() and "sentence/s" in sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", Terminal())
    folder = copies(tmp_path / "in", 2)
    (folder / "zz-empty.txt").write_bytes(b"")
    list(tag_rows(sorted(folder.iterdir()), model, batch_size=32))
    assert f"3/3 [" in sys.stderr.getvalue() and f"{2 * COUNTY_SENTENCES} sentences]" in sys.stderr.getvalue()


def govtag_process(args, prelude=""):
    """Run the CLI in a fresh Python, after ``prelude`` (code that patches the library)."""
    argv = ["govtag", *map(str, args)]
    code = f"import sys\n{prelude}\nfrom govtag.cli import app\nsys.argv = {argv!r}\napp()\n"
    return [sys.executable, "-c", code]


def test_sigterm_while_tagging_leaves_no_temporary_file(tfidf_model, tmp_path):
    folder = copies(tmp_path / "in", 4)
    out = tmp_path / "out" / "tags.jsonl"
    # the signal arrives while the third report is read, after rows of the first two were written
    prelude = f"""
import os, signal, pathlib
import govtag.segment as seg
real, seen = seg.segment_file, []
def segment_file(path):
    seen.append(path)
    if len(seen) == 3:
        assert list(pathlib.Path({str(out.parent)!r}).glob(".tags.jsonl.*.tmp")), "no temporary file yet"
        os.kill(os.getpid(), signal.SIGTERM)
    return real(path)
seg.segment_file = segment_file
"""
    done = subprocess.run(govtag_process(["tag", folder, "--model", tfidf_model, "-o", out], prelude),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert "terminated; no output was left half-written" in done.stderr and "Traceback" not in done.stderr
    assert list(out.parent.iterdir()) == []


def test_closed_stdout_is_one_sentence(tfidf_model):
    done = subprocess.run(govtag_process(["tag", COUNTY, "--model", tfidf_model]), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=lambda: os.close(1))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: standard output is closed; give an output file: -o OUT.jsonl or -o OUT.csv"]
