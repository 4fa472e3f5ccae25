"""Backends behind one interface: the registry, and `load_model` (the same function as `Tagger.load`).

Backends are imported lazily so the TF-IDF baseline never pays for importing torch.
"""

from __future__ import annotations

import importlib

from govtag.backends.base import RunOptions, Tagger
from govtag.backends.store import FORMAT_VERSION
from govtag.errors import GovtagError

BACKENDS = {
    "tfidf": "govtag.backends.tfidf:TfidfTagger",
    "transformer": "govtag.backends.transformer:TransformerTagger",
}

load_model = Tagger.load  # a model directory names its backend; this reads it and returns that backend's Tagger

__all__ = ["BACKENDS", "FORMAT_VERSION", "RunOptions", "Tagger", "get_backend", "load_model"]


def get_backend(name: str) -> type[Tagger]:
    """The backend class registered under ``name``.

    Example:
        >>> get_backend("tfidf").__name__
        'TfidfTagger'
    """
    if name not in BACKENDS:
        raise GovtagError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)
