"""Config loading: strict typed sections, errors by path, overrides from the CLI."""

import pytest

from govtag.config import load_config
from govtag.errors import GovtagError
from tests.conftest import ROOT


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_baseline_config_resolves():
    cfg = load_config(ROOT / "configs" / "baseline.yaml")
    assert cfg.backend == "tfidf" and cfg.params.context == ["doc", "section"]
    assert cfg.to_dict()["data"]["train"] == ["data/seed.jsonl", "data/corpus/corpus.jsonl"]


@pytest.mark.parametrize("text, message", [
    ("backend: tfidf\nparams: {c_area: 0}\n", "params -> c_area: must be > 0"),
    ("backend: tfidf\nparams: {ngram_max: three}\n", "params -> ngram_max: expected int, found 'three'"),
    ("backend: tfidf\nparams: {colour: red}\n", "params -> colour: unknown key"),
    ("backend: tfidf\nparams: {context: [doc, footer]}\n", "params -> context: unknown part(s) footer"),
    ("backend: tfidf\ndata: {train: []}\n", "data -> train: must name at least one JSONL file"),
    ("backend: tfidf\ndata: {trian: [a.jsonl]}\n", "data -> trian: unknown key"),
    ("backend: svm\n", "unknown backend 'svm'; expected one of tfidf, transformer"),
    ("params: {}\n", "backend: missing"),
    ("backend: tfidf\nlr: 3\n", "lr: unknown key"),
    ("backend: tfidf\nseed: x\n", "seed: expected an integer"),
    ("backend: tfidf\nseed: -5\n", "seed: expected an integer from 0 to 4294967295, found -5"),
    ("backend: tfidf\nseed: true\n", "seed: expected an integer"),
    ("backend: tfidf\ndata: {train: [a.jsonl]}\nrun: {threads: -1}\n", "run -> threads: must be >= 0"),
    ("backend: tfidf\ndata: {train: [a.jsonl]}\nrun: {resume: true}\n", "run -> resume (--resume): the tfidf backend trains in one go"),
    ("backend: transformer\nparams: {resume: true}\n", "params -> resume: unknown key"),
    ("backend: [tfidf\n", "not valid YAML"),
])
def test_config_errors_name_the_key(tmp_path, text, message):
    with pytest.raises(GovtagError) as exc:
        load_config(write(tmp_path, text))
    assert message in str(exc.value) and "c.yaml" in str(exc.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(GovtagError, match="config file not found"):
        load_config(tmp_path / "none.yaml")


def test_overrides_replace_config_data(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVTAG_PUBLIC_DATA", "/elsewhere/public.jsonl")
    cfg = load_config(write(tmp_path, "backend: tfidf\ndata: {train: [a.jsonl]}\n"),
                      {"train": ["b.jsonl"], "output": "m"})
    assert cfg.data.train == ["b.jsonl"] and cfg.output == "m"
    assert cfg.data.public == "/elsewhere/public.jsonl"
    with pytest.raises(GovtagError, match=r"\(--resume\): the tfidf backend"):
        load_config(write(tmp_path, "backend: tfidf\ndata: {train: [a.jsonl]}\n"), {"resume": True})
    assert not cfg.force and load_config(write(tmp_path, "backend: tfidf\ndata: {train: [a.jsonl]}\n"), {"force": True}).force


def test_resume_reaches_the_run_options_not_the_hyperparameters(tmp_path):
    cfg = load_config(write(tmp_path, "backend: transformer\ndata: {train: [a.jsonl]}\nrun: {threads: 1}\n"),
                      {"resume": True})
    assert cfg.run.resume and cfg.run.threads == 1 and not hasattr(cfg.params, "resume")
    assert cfg.to_dict()["run"] == {"threads": 1, "checkpoint_dir": None, "resume": True, "precision": "auto"}
