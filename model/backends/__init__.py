"""Backends behind one interface, and `load_model`, which reads a model directory and picks one.

Backends are imported lazily so the TF-IDF baseline never pays for importing torch.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import fields
from pathlib import Path

from govtag.backends.base import FORMAT_VERSION, Tagger
from govtag.errors import GovtagError
from govtag.schema import Schema, load_schema, schema_from_dict

BACKENDS = {
    "tfidf": "govtag.backends.tfidf:TfidfTagger",
    "transformer": "govtag.backends.transformer:TransformerTagger",
}


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


def load_model(path: str | Path, schema: Schema | None = None) -> Tagger:
    """Load a trained model directory: read config.json, check format and schema, restore the backend.

    Args:
        path: the directory `Tagger.save` wrote.
        schema: the schema the caller works with; defaults to the schema shipped with govtag. A model trained
            under different labels is refused.

    Returns:
        The fitted `Tagger`.

    Example:
        >>> tagger = load_model("models/default")
        >>> tagger.predict([{"text": "加强党风廉政教育。", "doc": "", "section": []}])[0]["area"]
        '党建'
    """
    path = Path(path)
    if not path.is_dir():
        raise GovtagError(f"{path}: model directory not found; train one with `govtag train` "
                          "or pass the folder that holds its config.json")
    cfg = path / "config.json"
    if not cfg.is_file():
        raise GovtagError(f"{path}: not a govtag model directory (no config.json); "
                          "pass the folder `govtag train --output` wrote")
    try:
        meta = json.loads(cfg.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GovtagError(f"{cfg}: unreadable model config ({exc}); retrain the model") from None
    for key in ("format_version", "backend", "schema", "area_labels", "type_labels", "params",
                "thresholds", "temperature"):
        if key not in meta:
            raise GovtagError(f"{cfg}: incomplete model config (missing '{key}'); retrain the model")
    if not isinstance(meta["format_version"], int) or meta["format_version"] > FORMAT_VERSION:
        raise GovtagError(f"{path}: model format version {meta['format_version']} is newer than this "
                          f"govtag understands ({FORMAT_VERSION}); upgrade govtag")
    schema = schema or load_schema()
    saved = schema_from_dict(meta["schema"], f"{cfg} (schema)")
    if not saved.same_labels(schema) or list(saved.areas) != meta["area_labels"]:
        raise GovtagError(f"{path}: model was trained on schema {saved.describe()}, but this project uses "
                          f"{schema.describe()}; retrain it or use a model made for this schema")
    cls = get_backend(meta["backend"])
    known = {f.name for f in fields(cls.Params)}
    params = cls.Params(**{k: v for k, v in meta["params"].items() if k in known})
    tagger = cls(params=params, schema=saved, seed=meta.get("seed", 13))
    try:
        return tagger._restore(meta, path)
    except FileNotFoundError as exc:
        raise GovtagError(f"{path}: model directory is incomplete ({Path(exc.filename or '').name} "
                          "missing); retrain or copy the whole folder") from None
