"""The CLI: what the library receives, and one clear line with exit 1 for every user error."""

import errno
import json
import shutil

import pytest
from typer.testing import CliRunner

import govtag.config
import govtag.evaluate
import govtag.tag
import govtag.train
from govtag.cli import app
from tests.conftest import ROOT
from tests.conftest import write_jsonl

COUNTY = ROOT / "data/reports/pingyang-keji-2022.txt"

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def one_error_line(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for f in fragments:
        assert f in lines[0], lines[0]


def test_every_command_has_help_with_an_example():
    for cmd in (["train"], ["evaluate"], ["tag"], ["segment"], ["data", "stats"], ["base", "build"]):
        out = run(*cmd, "--help").output
        assert "Example: govtag" in out, cmd


def test_train_passes_overrides_to_the_library(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(govtag.train, "train", lambda cfg, progress: seen.setdefault("cfg", cfg))
    result = run("train", "--config", ROOT / "configs/baseline.yaml", "--train", "a.jsonl", "--train", "b.jsonl",
                 "--dev", "d.jsonl", "--output", tmp_path / "m")
    assert result.exit_code == 0, result.output
    cfg = seen["cfg"]
    assert cfg.backend == "tfidf" and cfg.data.train == ["a.jsonl", "b.jsonl"] and cfg.data.dev == ["d.jsonl"]
    assert cfg.output == str(tmp_path / "m")


def test_evaluate_and_tag_pass_arguments(monkeypatch, tmp_path):
    seen = {}
    fake_metrics = {"n": 0, "area": {"accuracy": 0.0, "macro_f1": 0.0, "per_class": {}},
                    "types": {"micro_f1": 0.0, "macro_f1": 0.0, "per_type": {}}, "exact_match": 0.0}
    monkeypatch.setattr(govtag.evaluate, "evaluate",
                        lambda *a: seen.setdefault("evaluate", a) and fake_metrics)
    result = run("evaluate", "--model", "m", "--data", "x.jsonl", "--split", "dev", "--report", tmp_path)
    assert result.exit_code == 0, result.output
    assert [str(x) for x in seen["evaluate"][0:1]] == ["m"] and seen["evaluate"][3] == "dev"
    monkeypatch.setattr(govtag.tag, "tag", lambda inputs, m, out, **options:
                        seen.setdefault("tag", (inputs, str(m), str(out))) and govtag.tag.TagSummary())
    assert run("tag", "a.txt", "dir/", "--model", "m", "-o", "o.csv").exit_code == 0
    assert seen["tag"] == (["a.txt", "dir/"], "m", "o.csv")


def test_data_stats(tmp_path):
    result = run("data", "stats", ROOT / "data/seed.jsonl")
    assert result.exit_code == 0 and "87 sentences in 1 reports" in result.output


@pytest.mark.parametrize("content, fragment", [
    (None, "file not found"), (b"", "no records"), (b"\x00\xff\x00binary", "binary"),
    ('{"id": "a", "doc": "d", "section": [], "text": "新增高企。", "area": "企业", "types": []}\n'.encode(),
     "unknown area '企业'"),
])
def test_data_errors_are_one_line(tmp_path, content, fragment):
    path = tmp_path / "in.jsonl"
    if content is not None:
        path.write_bytes(content)
    one_error_line(run("data", "stats", path), str(path), fragment)
    one_error_line(run("train", "--config", ROOT / "configs/baseline.yaml", "--train", path,
                       "--output", tmp_path / "m"), str(path), fragment)


def test_train_errors(tmp_path):
    one_error_line(run("train", "--config", tmp_path / "none.yaml"), "config file not found")
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: tfidf\nparams: {c_area: -1}\n", encoding="utf-8")
    one_error_line(run("train", "--config", bad), "params -> c_area: must be > 0")
    dev_only = write_jsonl(tmp_path / "dev.jsonl", [{"id": "a", "doc": "d", "section": [], "text": "新增高企。",
                                                    "area": "主体", "types": [], "split": "dev"}])
    one_error_line(run("train", "--config", ROOT / "configs/baseline.yaml", "--train", dev_only,
                       "--output", tmp_path / "m"), "training split is empty")
    assert not (tmp_path / "m").exists()


def test_model_directory_errors(tmp_path):
    one_error_line(run("tag", ROOT / "data/reports/pingyang-keji-2022.txt", "--model", tmp_path / "nope"),
                   "model directory not found")
    (tmp_path / "empty").mkdir()
    one_error_line(run("evaluate", "--model", tmp_path / "empty", "--data", ROOT / "data/seed.jsonl"),
                   "no config.json")


def test_tag_input_errors(tmp_path):
    one_error_line(run("tag", tmp_path / "missing.txt", "--model", tmp_path), "file not found")
    one_error_line(run("tag", str(tmp_path / "*.txt"), "--model", tmp_path), "matches no report file (.txt, .docx")
    one_error_line(run("tag", ROOT / "data/reports", "--model", tmp_path, "-o", tmp_path / "x.xls"),
                   "unknown output format")


def test_output_paths_are_checked_before_the_model_is_loaded(tmp_path):
    # the model directory does not exist: an error about it would mean the output was checked too late
    (tmp_path / "plain.txt").write_text("用户的文件", encoding="utf-8")
    (tmp_path / "tags.csv").mkdir()
    for folder in (tmp_path, tmp_path / "tags.csv"):
        one_error_line(run("tag", COUNTY, "--model", tmp_path / "nope", "-o", folder), f"{folder}: is a folder")
    one_error_line(run("tag", COUNTY, "--model", tmp_path / "nope", "-o", tmp_path / "plain.txt" / "t.csv"),
                   str(tmp_path / "plain.txt" / "t.csv"), "is a file, not a folder")
    one_error_line(run("evaluate", "--model", tmp_path / "nope", "--data", ROOT / "data/seed.jsonl",
                       "--report", tmp_path / "plain.txt"), str(tmp_path / "plain.txt"), "is a file, not a folder")
    assert (tmp_path / "plain.txt").read_text(encoding="utf-8") == "用户的文件"


def test_os_errors_are_one_sentence(monkeypatch):
    def denied(*args, **options):
        raise PermissionError(errno.EACCES, "Permission denied", "out/乡村振兴.csv")

    monkeypatch.setattr(govtag.tag, "tag", denied)
    one_error_line(run("tag", COUNTY, "-o", "out/乡村振兴.csv"), "error: out/乡村振兴.csv: permission denied")


def test_full_disk_names_the_output_file(tfidf_model, tmp_path, full_disk):
    out = tmp_path / "out" / "tags.csv"
    one_error_line(run("tag", COUNTY, "--model", tfidf_model, "-o", out), f"{out}: no space left on device")
    assert list(out.parent.iterdir()) == []


def test_bad_reports_are_named_at_the_end_and_the_rest_tagged(tfidf_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(COUNTY, folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    result = run("tag", folder, "--model", tfidf_model, "-o", tmp_path / "tags.jsonl")
    assert result.exit_code == 1
    summary, problem = result.stderr.splitlines()[-2:]
    assert summary.startswith("86 sentences from 1 of 2 reports tagged")
    assert summary.endswith(f"→ {tmp_path / 'tags.jsonl'}")
    assert problem.startswith(f"error: {folder / 'empty.txt'}: ") and "empty" in problem
    assert len((tmp_path / "tags.jsonl").read_text(encoding="utf-8").splitlines()) == 86
