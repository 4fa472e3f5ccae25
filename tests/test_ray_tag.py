"""Tagging on Ray (`govtag tag --engine ray`): the same rows as the local path, unreadable reports in
errors.jsonl while the rest are tagged, a re-run that skips what is done, and the CLI's refusals.

The tests marked ``ray`` share one local Ray with 2 CPUs (starting it takes several seconds); the
others need no Ray at all.
"""

import importlib.util
import json
import logging
import shutil
import sys

import pytest
from typer.testing import CliRunner

from govtag.cli import app
from govtag.ray_tag import tag_with_ray
from govtag.tag import tag
from tests.conftest import ROOT

REPORTS = ROOT / "data" / "corpus" / "reports"
COUNTY = ROOT / "data" / "reports" / "pingyang-keji-2022.txt"
COUNTY_SENTENCES = 86
SCORE_TOLERANCE = 1e-4
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed: pip install 'govtag[ray]' (CI installs it)")
runner = CliRunner()


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """One local Ray with 2 CPUs for the module; `tag_with_ray` uses it instead of starting its own.

    HOME points at a temporary folder while it runs: a local Ray writes an authentication token under
    ``~/.ray``, and tests never write to the user's home."""
    import ray

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        yield ray
        ray.shutdown()


def read_jsonl(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def assert_same_rows(got, want):
    """Same rows after sorting by file and index: same labels and text, scores within the tolerance."""
    def place(r):
        return r["file"], r["index"]

    assert len(got) == len(want)
    for g, w in zip(sorted(got, key=place), sorted(want, key=place)):
        scores = ("area_score", "type_scores")
        assert {k: v for k, v in g.items() if k not in scores} == {k: v for k, v in w.items() if k not in scores}
        assert g["area_score"] == pytest.approx(w["area_score"], abs=SCORE_TOLERANCE)
        assert g["type_scores"] == pytest.approx(w["type_scores"], abs=SCORE_TOLERANCE)


@pytest.mark.ray
@needs_ray
def test_ray_rows_equal_the_local_rows(ray_session, tfidf_model, tmp_path):
    tag([str(REPORTS)], tfidf_model, tmp_path / "local.jsonl")
    # 2 actors on 2 CPUs: the segmenting tasks must still run (reserving a CPU, they waited forever)
    summary = tag_with_ray([str(REPORTS)], tfidf_model, tmp_path / "out", workers=2)
    local = read_jsonl(tmp_path / "local.jsonl")
    merged = read_jsonl(tmp_path / "out" / "tagged.jsonl")
    assert_same_rows(merged, local)
    assert [(r["file"], r["index"]) for r in merged] == [(r["file"], r["index"]) for r in local]  # input order
    shards = sorted((tmp_path / "out" / "shards").iterdir())
    assert len(shards) == summary.files == len({r["file"] for r in local})
    assert_same_rows([r for s in shards for r in read_jsonl(s)], local)
    assert (summary.sentences, summary.bad, summary.skipped) == (len(local), [], 0)
    assert (tmp_path / "out" / "errors.jsonl").read_text() == ""


@pytest.mark.ray
@needs_ray
def test_an_unreadable_report_is_an_error_row_and_a_rerun_does_nothing_twice(ray_session, tfidf_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "c.txt"):
        shutil.copy(COUNTY, folder / name)
    (folder / "b.txt").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    out = tmp_path / "out"

    first = tag_with_ray([str(folder)], tfidf_model, out)
    assert (first.files, first.sentences, first.skipped) == (2, 2 * COUNTY_SENTENCES, 0)
    errors = read_jsonl(out / "errors.jsonl")
    assert [e["file"] for e in errors] == [str(folder / "b.txt")] and "binary" in errors[0]["error"]
    assert first.bad == [errors[0]["error"]]
    assert {r["file"] for r in read_jsonl(out / "tagged.jsonl")} == {str(folder / "a.txt"), str(folder / "c.txt")}
    shards = sorted((out / "shards").iterdir())
    written = {s: s.stat().st_mtime_ns for s in shards}

    again = tag_with_ray([str(folder)], tfidf_model, out)
    assert (again.files, again.sentences, again.skipped) == (0, 0, 2)
    assert {s: s.stat().st_mtime_ns for s in (out / "shards").iterdir()} == written
    assert [e["file"] for e in read_jsonl(out / "errors.jsonl")] == [str(folder / "b.txt")]  # still named
    assert len(read_jsonl(out / "tagged.jsonl")) == 2 * COUNTY_SENTENCES


@pytest.mark.ray
@needs_ray
def test_cli_engine_ray_prints_the_final_line(ray_session, tfidf_model, tmp_path):
    result = runner.invoke(app, ["tag", str(COUNTY), "--model", str(tfidf_model), "--engine", "ray",
                                 "--workers", "1", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"1 report, {COUNTY_SENTENCES} sentences tagged in " in result.stderr
    assert "sentences/s" in result.stderr
    assert len(read_jsonl(tmp_path / "out" / "tagged.jsonl")) == COUNTY_SENTENCES


@pytest.mark.parametrize("output", ["out.jsonl", "out.csv"])
def test_cli_engine_ray_refuses_an_output_file(output, tfidf_model, tmp_path):
    result = runner.invoke(app, ["tag", str(COUNTY), "--model", str(tfidf_model), "--engine", "ray",
                                 "-o", str(tmp_path / output)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "-o names a folder" in result.stderr
    assert not (tmp_path / output).exists()


def test_cli_engine_ray_without_ray_says_how_to_install(tfidf_model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as where it is not installed
    result = runner.invoke(app, ["tag", str(COUNTY), "--model", str(tfidf_model), "--engine", "ray",
                                 "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "pip install 'govtag[ray]'" in result.stderr
    assert not (tmp_path / "out").exists()
