"""Shared fixtures: the schema, the bundled seed data, and the public data where ../shared exists."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from govtag.data import load_records, with_previous
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


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _tfidf(tmp_path_factory):
    from govtag.backends import get_backend

    return get_backend("tfidf")(seed=13)


# backend name -> factory(tmp_path_factory) returning an unfitted tagger with fast settings
BACKEND_FACTORIES = {"tfidf": _tfidf}


def _tiny_transformer(tmp_path_factory):
    from govtag.backends.transformer import TransformerTagger
    from tests.test_transformer import make_tiny_encoder, tiny_params

    enc = make_tiny_encoder(tmp_path_factory.getbasetemp() / "tiny-encoder")
    return TransformerTagger(tiny_params(enc, checkpoint_dir=str(tmp_path_factory.mktemp("ckpt"))), seed=13)


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
