"""The model directory: `train --output` never destroys what govtag did not write, saved files follow
the umask, and loading refuses a damaged, edited or foreign directory in one sentence."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from typer.testing import CliRunner

import govtag.backends.store
from govtag.backends import Tagger
from govtag.backends.tfidf import TfidfTagger
from govtag.cli import app
from govtag.config import load_config
from govtag.errors import GovtagError
from govtag.train import train
from tests.conftest import ROOT, per_area

SEED = ROOT / "data" / "seed.jsonl"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, seed_records):
    """A small TF-IDF model directory, fitted with dev so thresholds and temperature are tuned."""
    few = per_area(seed_records, 5)
    return TfidfTagger(seed=13).fit(few, few).save(tmp_path_factory.mktemp("saved") / "m")


@pytest.fixture
def model(saved, tmp_path):
    """A fresh copy of the saved model to damage."""
    out = tmp_path / "m"
    out.mkdir()
    for f in saved.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    return out


@pytest.fixture
def never_trains(monkeypatch):
    """Training fails the test: every refusal here must come before any training starts."""
    def trained(*args, **kwargs):
        raise AssertionError("training started before the output path was checked")

    monkeypatch.setattr(TfidfTagger, "_fit", trained)


def _train(output, train_files=(SEED,), force=False):
    cfg = load_config(ROOT / "configs" / "baseline.yaml",
                      {"train": [str(f) for f in train_files], "output": str(output), "force": force})
    return train(cfg, progress=lambda s: None)


def _edit(model, change):
    cfg = model / "config.json"
    meta = json.loads(cfg.read_text(encoding="utf-8"))
    change(meta)
    cfg.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


# --- issue 14.1: never delete what govtag did not write ---------------------------------------------
def test_a_folder_with_user_files_survives(tmp_path, never_trains):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"my work")
    with pytest.raises(GovtagError, match="not one govtag wrote"):
        _train(out)
    assert (out / "chapter1.docx").read_bytes() == b"my work"


def test_the_folder_holding_the_training_data_survives(tmp_path, model, never_trains):
    data = tmp_path / "d"
    data.mkdir()
    (data / "seed.jsonl").write_bytes(SEED.read_bytes())
    with pytest.raises(GovtagError, match="holds the training data"):
        _train(data, [data / "seed.jsonl"])
    inside = model / "seed.jsonl"  # even a model directory is kept when the data sits in it
    inside.write_bytes(SEED.read_bytes())
    with pytest.raises(GovtagError, match="holds the training data"):
        _train(model, [inside])
    assert (data / "seed.jsonl").read_bytes() == inside.read_bytes() == SEED.read_bytes()


def test_a_plain_file_survives(tmp_path, never_trains):
    out = tmp_path / "notes.txt"
    out.write_text("要点", encoding="utf-8")
    with pytest.raises(GovtagError, match="not a folder"):
        _train(out)
    assert out.read_text(encoding="utf-8") == "要点"


def test_output_dot_is_refused_before_training(tmp_path, monkeypatch, never_trains):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GovtagError, match="is the working folder"):
        _train(".")
    with pytest.raises(GovtagError, match="is the working folder"):
        _train(tmp_path.parent)


def test_a_model_of_another_backend_needs_force(model, monkeypatch):
    _edit(model, lambda m: m.update(backend="transformer"))
    with monkeypatch.context() as patch:
        patch.setattr(TfidfTagger, "_fit", lambda *a: pytest.fail("trained before the check"))
        with pytest.raises(GovtagError, match="holds a transformer model; .*needs --force"):
            _train(model)
    result = CliRunner().invoke(app, ["train", "--config", str(ROOT / "configs" / "baseline.yaml"),
                                      "--train", str(SEED), "--output", str(model), "--force"])
    assert result.exit_code == 0, result.output
    assert json.loads((model / "config.json").read_text(encoding="utf-8"))["backend"] == "tfidf"


def test_a_model_of_the_same_backend_is_replaced_and_nothing_is_left_behind(model):
    _train(model)
    assert Tagger.load(model).backend == "tfidf"
    assert not [p.name for p in model.parent.iterdir() if p.name.startswith(".")]


def test_save_checks_again_at_the_end(tmp_path, saved):
    tagger = Tagger.load(saved)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(GovtagError, match="not one govtag wrote"):
        tagger.save(out)
    assert (out / "a.txt").exists()


def test_cli_refuses_output_dot_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--config", str(ROOT / "configs" / "baseline.yaml"),
                                      "--train", str(SEED), "--output", "."])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: .: is the working folder"), result.output
    assert (tmp_path / "keep.txt").exists()


# --- issue 14.4: permissions ----------------------------------------------------------------------
def test_saved_files_follow_the_umask(saved, tmp_path):
    old = os.umask(0o022)
    try:
        out = Tagger.load(saved).save(tmp_path / "m")
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes == {".": 0o755, **{k: 0o644 for k in modes if k != "."}}, modes


def test_an_unreadable_weights_file_says_permission_denied(model, monkeypatch):
    real = os.access
    monkeypatch.setattr(govtag.backends.store.os, "access",
                        lambda p, mode: False if str(p).endswith("weights.npz") else real(p, mode))
    with pytest.raises(GovtagError, match=r"weights.npz: permission denied") as exc:
        Tagger.load(model)
    assert "retrain" not in str(exc.value)


# --- issue 14.6 / 14.7 / 14.9: loading refuses what would give wrong output -----------------------
@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(temperature=0), r"temperature: expected a finite number > 0, found 0"),
    (lambda m: m.update(temperature=float("nan")), r"temperature: expected a finite number > 0, found nan"),
    (lambda m: m["thresholds"].update(plan=float("nan")), r"thresholds -> plan: expected a number between 0 and 1"),
    (lambda m: m["thresholds"].update(plan=1.5), r"thresholds -> plan: expected a number between 0 and 1"),
    (lambda m: m["thresholds"].pop("metric"), r"thresholds -> metric: missing"),
    (lambda m: m.update(type_labels=["plan", "achievement", "metric"]), r"type_labels .* do not match"),
    (lambda m: m.update(area_labels=m["area_labels"][::-1]), r"area_labels .* do not match"),
    (lambda m: m["params"].update(ngram_max="3"), r"params -> ngram_max: expected int, found '3'"),
    (lambda m: m["params"].update(colour="red"), r"params -> colour: unknown key"),
    (lambda m: m.update(format_version=1), r"format version 1 is older"),
    (lambda m: m.pop("seed"), r"missing 'seed'"),
])
def test_load_refuses_an_edited_config_json_naming_it(model, change, message):
    _edit(model, change)
    with pytest.raises(GovtagError, match=message) as exc:
        Tagger.load(model)
    assert str(model / "config.json") in str(exc.value) or "format version" in str(exc.value)


@pytest.mark.parametrize("name, damage, message", [
    ("vectorizers.json", lambda p: p.write_text('{"text": {"vocab', encoding="utf-8"), "damaged, cannot be read"),
    ("vectorizers.json", lambda p: p.write_text('{"text": 3}', encoding="utf-8"), "damaged, cannot be read"),
    ("weights.npz", lambda p: p.write_bytes(p.read_bytes()[:200]), "damaged, cannot be read"),
    ("weights.npz", lambda p: p.unlink(), "incomplete"),
])
def test_load_refuses_damaged_weight_files_naming_them(model, name, damage, message):
    damage(model / name)
    with pytest.raises(GovtagError, match=message) as exc:
        Tagger.load(model)
    assert name in str(exc.value)


def test_nan_weights_are_refused(model):
    with np.load(model / "weights.npz") as w:
        arrays = dict(w)
    arrays["area_coef"][0, 0] = np.nan
    np.savez_compressed(model / "weights.npz", **arrays)
    with pytest.raises(GovtagError, match="weights.npz: weights hold NaN or infinite values"):
        Tagger.load(model)


def test_a_subclass_loads_only_its_own_backend(saved):
    from govtag.backends.transformer import TransformerTagger

    with pytest.raises(GovtagError, match="holds a tfidf model, not a transformer one"):
        TransformerTagger.load(saved)


def test_cli_names_a_damaged_model_file_in_one_line(model):
    (model / "vectorizers.json").write_text("{", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(ROOT / "data" / "reports" / "pingyang-keji-2022.txt"),
                                      "--model", str(model)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "vectorizers.json: damaged" in lines[0], result.output


def test_a_lone_surrogate_in_evaluate_data_is_one_sentence_and_no_report(saved, tmp_path, seed_records):
    rec = {k: seed_records[0][k] for k in ("id", "doc", "section", "area", "types")}
    path = tmp_path / "bad.jsonl"
    # ASCII-escaped JSON carries the lone half of a cut emoji as \ud83d, as some tools write it
    path.write_text("".join(json.dumps(r) + "\n" for r in [{**rec, "text": "新增高企35家。"},
                                                           {**rec, "id": "x-2", "text": "新增\ud83d高企。"}]))
    result = CliRunner().invoke(app, ["evaluate", "--model", str(saved), "--data", str(path),
                                      "--report", str(tmp_path / "report")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{path}:2: field 'text' holds a lone surrogate" in lines[0], result.output
    assert not (tmp_path / "report" / "errors.csv").exists()
