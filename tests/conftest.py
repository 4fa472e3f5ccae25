"""Shared fixtures: the schema, the bundled seed data, and the public data where ../shared exists."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from govtag.context import with_previous
from govtag.data import load_records
from govtag.schema import load_schema

ROOT = Path(__file__).resolve().parents[1]  # the checkout: bundled data and configs live here
SHARED = ROOT.parent / "shared"
PUBLIC = SHARED / "data" / "annotated" / "sentences.jsonl"
needs_shared = pytest.mark.skipif(not PUBLIC.exists(), reason="../shared/data (public annotated data) is absent; "
                                  "CI and developers' machines have it, a bare clone does not")


@pytest.fixture(scope="session", autouse=True)
def isolated_govtag_home(tmp_path_factory):
    """Point ``GOVTAG_HOME`` at a temporary folder for the whole session (subprocesses inherit it), so tests
    never write to the user's home; the default encoder is built there at most once per session."""
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("govtag-home")
        patch.setenv("GOVTAG_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def schema():
    return load_schema()


@pytest.fixture(scope="session")
def seed_records(schema):
    return with_previous(load_records(ROOT / "data" / "seed.jsonl", schema))


def per_area(records: list[dict], n: int) -> list[dict]:
    """The first ``n`` records of each area, in order: a small set where every area the data has appears."""
    picks, seen = [], {}
    for r in records:
        if seen.get(r["area"], 0) < n:
            picks.append(r)
            seen[r["area"]] = seen.get(r["area"], 0) + 1
    return picks


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _tfidf(tmp_path_factory):
    from govtag.backends import get_backend

    return get_backend("tfidf")(seed=13)


# backend name -> factory(tmp_path_factory) returning an unfitted tagger with fast settings
BACKEND_FACTORIES = {"tfidf": _tfidf}


def make_tiny_encoder(path: Path, texts: list[str] | None = None) -> Path:
    """Save a ~100 k-parameter random BERT and a character WordPiece tokenizer under ``path``.

    The vocabulary is every character of the bundled seed report (plus ``texts``), so report
    sentences such as "新增高新技术企业35家。" tokenise without unknowns, one token per character.
    Use it as ``TransformerParams(encoder=str(make_tiny_encoder(tmp_path / "enc")))``.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    path = Path(path)
    if (path / "config.json").is_file():
        return path
    chars: set[str] = set("0123456789%.,;:()-|>")
    for line in (ROOT / "data" / "seed.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        chars.update(rec["text"] + rec["doc"] + "".join(rec["section"]))
    for t in texts or []:
        chars.update(t)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(c for c in chars if not c.isspace())
    vocab += [f"##{d}" for d in "0123456789"]  # WordPiece continues numbers digit by digit
    tok = BertTokenizer(vocab={v: i for i, v in enumerate(vocab)}, do_lower_case=False)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=128, pad_token_id=0)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def tiny_params(encoder: Path, **kw):
    """Transformer hyperparameters that let the tiny encoder fit a few dozen sentences in a few seconds."""
    from govtag.backends.transformer import TransformerParams

    base = dict(encoder=str(encoder), epochs=10, batch_size=8, lr_encoder=5e-3, lr_heads=3e-2, warmup_ratio=0.0,
                dropout=0.0, max_length=64, early_stopping_patience=0, area_class_weight="sqrt_inv",
                freeze_embeddings=False)
    base.update(kw)
    return TransformerParams(**base)


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.getbasetemp() / "tiny-encoder")


def _tiny_transformer(tmp_path_factory):
    from govtag.backends.transformer import TransformerTagger

    return TransformerTagger(tiny_params(make_tiny_encoder(tmp_path_factory.getbasetemp() / "tiny-encoder")), seed=13)


BACKEND_FACTORIES["transformer"] = _tiny_transformer


@pytest.fixture(scope="session")
def tfidf_model(tmp_path_factory, seed_records):
    """A saved TF-IDF model fitted on the seed report (a few seconds): for tests that tag reports."""
    return _tfidf(tmp_path_factory).fit(seed_records).save(tmp_path_factory.mktemp("model") / "tfidf")


class _FullDisk:
    """A file object whose writes fail as on a full disk; leaving it closes the real file."""

    def __init__(self, real):
        self.real = real

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Every file `govtag.io.atomic_write` opens fails to write with ENOSPC."""
    import govtag.io

    real_fdopen = os.fdopen
    monkeypatch.setattr(govtag.io.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
