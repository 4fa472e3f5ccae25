"""Training configuration: YAML loaded once at the edge into strict typed sections.

Unknown keys, wrong types and bad values are reported by path (``params -> lr: must be > 0``). The
``params`` section is checked against the chosen backend's ``Params`` dataclass, so each backend
owns its hyperparameters; the ``run`` section (`govtag.backends.RunOptions`: threads, checkpoints,
resume, precision) says how a run goes and is not part of the model. The resolved config is saved with every model.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from govtag.backends.base import RunOptions
from govtag.errors import GovtagError

PUBLIC_DATA_ENV = "GOVTAG_PUBLIC_DATA"
MAX_SEED = 2**32 - 1  # numpy's seeds run from 0 to this


@dataclass
class DataSection:
    """Where the labelled sentences come from.

    ``train`` files: records with ``split: dev`` go to dev, the rest to train. ``dev`` files: all their
    records are dev. ``public``: an extra file (e.g. ``../shared/data/annotated/sentences.jsonl``) read
    by path and split the same way; ``null`` falls back to the ``GOVTAG_PUBLIC_DATA`` variable.
    """

    train: list[str] = field(default_factory=list)
    dev: list[str] = field(default_factory=list)
    public: str | None = None

    def check(self) -> list[tuple[str, str]]:
        return [("train", "must name at least one JSONL file")] if not self.train else []


@dataclass
class Config:
    """The whole resolved training config."""

    backend: str
    params: typing.Any
    data: DataSection
    run: RunOptions = field(default_factory=RunOptions)
    seed: int = 13
    output: str = "models/default"
    force: bool = False  # replace a model directory of another backend at output (`--force`; never from YAML)

    def to_dict(self) -> dict:
        """Plain-data form, saved with the model."""
        return {"backend": self.backend, "seed": self.seed, "output": self.output,
                "data": dataclasses.asdict(self.data), "params": dataclasses.asdict(self.params),
                "run": dataclasses.asdict(self.run)}


def _type_ok(value: object, hint: object) -> bool:
    origin = typing.get_origin(hint)
    if hint is typing.Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (inner,) = typing.get_args(hint) or (typing.Any,)
        return isinstance(value, list) and all(_type_ok(v, inner) for v in value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def _type_name(hint: object) -> str:
    return str(hint).replace("typing.", "") if not isinstance(hint, type) else hint.__name__


def build_section(cls: type, raw: object, path: str):
    """Build dataclass ``cls`` from a mapping, strictly, reporting errors by path.

    Args:
        cls: a dataclass; an optional ``check()`` method returns ``[(key, problem), ...]``.
        raw: the parsed mapping (None means all defaults).
        path: where the section sits, e.g. ``params``, used in messages.

    Returns:
        The dataclass instance.

    Example:
        >>> build_section(DataSection, {"train": ["data/seed.jsonl"]}, "data").train
        ['data/seed.jsonl']
    """
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise GovtagError(f"{path}: expected a mapping of keys, found {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in raw:
        if key not in names:
            raise GovtagError(f"{path} -> {key}: unknown key; expected one of {', '.join(names)}")
    for f in dataclasses.fields(cls):
        if f.name in raw and not _type_ok(raw[f.name], hints[f.name]):
            raise GovtagError(f"{path} -> {f.name}: expected {_type_name(hints[f.name])}, "
                              f"found {raw[f.name]!r}")
        if f.name not in raw and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise GovtagError(f"{path} -> {f.name}: missing required key")
    obj = cls(**{k: (float(v) if hints[k] is float else v) for k, v in raw.items()})
    for key, problem in getattr(obj, "check", lambda: [])():
        raise GovtagError(f"{path} -> {key}: {problem}")
    return obj


def resolve_path(value: str) -> Path:
    """A data path as the user means it: ``~`` expanded, relative paths read from the working directory.

    Example:
        >>> resolve_path("~/reports/seed.jsonl").is_absolute()
        True
    """
    return Path(os.path.expanduser(value))


def load_config(path: str | Path, overrides: dict | None = None) -> Config:
    """Read a training config YAML and check every key.

    Args:
        path: the config file, e.g. ``configs/baseline.yaml``.
        overrides: CLI values that replace config values: ``train`` (list), ``dev`` (list),
            ``public`` (str), ``output`` (str), ``resume`` (bool, backends with checkpoints only),
            ``precision`` (str: auto, bf16 or fp32), ``force`` (bool); None or empty leaves the config's value.

    Returns:
        The `Config`, with ``params`` an instance of the backend's ``Params``.

    Example:
        >>> load_config("configs/baseline.yaml").backend
        'tfidf'
    """
    from govtag.backends import get_backend

    path = Path(path)
    if not path.is_file():
        raise GovtagError(f"{path}: config file not found; use e.g. --config configs/default.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GovtagError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise GovtagError(f"{path}: config is not UTF-8 text") from None
    if not isinstance(raw, dict):
        raise GovtagError(f"{path}: expected a mapping with keys backend, params, data, run, seed, output")
    allowed = {"backend", "params", "data", "run", "seed", "output"}
    for key in raw:
        if key not in allowed:
            raise GovtagError(f"{path}: {key}: unknown key; expected one of {', '.join(sorted(allowed))}")
    if "backend" not in raw:
        raise GovtagError(f"{path}: backend: missing; expected tfidf or transformer")
    seed = raw.get("seed", 13)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise GovtagError(f"{path}: seed: expected an integer from 0 to {MAX_SEED}, found {seed!r}")
    try:
        cls = get_backend(str(raw["backend"]))
    except GovtagError as exc:
        raise GovtagError(f"{path}: backend: {exc}") from None
    params = build_section(cls.Params, raw.get("params"), f"{path}: params")
    data = build_section(DataSection, raw.get("data"), f"{path}: data")
    run = build_section(RunOptions, raw.get("run"), f"{path}: run")
    overrides = overrides or {}
    if overrides.get("train"):
        data.train = [str(p) for p in overrides["train"]]
    if overrides.get("dev"):
        data.dev = [str(p) for p in overrides["dev"]]
    if overrides.get("public"):
        data.public = str(overrides["public"])
    if data.public is None and os.environ.get(PUBLIC_DATA_ENV):
        data.public = os.environ[PUBLIC_DATA_ENV]
    run.resume = run.resume or bool(overrides.get("resume"))
    if overrides.get("precision"):
        from govtag.backends.precision import check_precision

        run.precision = check_precision(overrides["precision"])
    if run.resume and not cls.resumable:
        raise GovtagError(f"{path}: run -> resume (--resume): the {raw['backend']} backend trains in one go and "
                          "has no checkpoints to resume; train without it")
    output = str(overrides.get("output") or raw.get("output", "models/default"))
    return Config(backend=str(raw["backend"]), params=params, data=data, run=run, seed=seed, output=output,
                  force=bool(overrides.get("force")))
