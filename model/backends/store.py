"""The model directory on disk: recognising one, refusing to overwrite anything else, and reading its
config.json as strictly as a training config is read.

A model directory is what `Tagger.save` writes: ``config.json`` (format version, backend, schema,
label lists, hyperparameters, thresholds, temperature), ``README.md`` and the backend's weight files.
Only a folder whose config.json says so is ever replaced; loading refuses a damaged, edited or foreign
directory in one sentence that names the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from govtag.errors import GovtagError
from govtag.io import check_output_dir
from govtag.schema import Schema, schema_from_dict

FORMAT_VERSION = 2  # 2: run-time options (resume, threads, checkpoint_dir) are no longer hyperparameters
REQUIRED = ("format_version", "backend", "schema", "area_labels", "type_labels", "params", "seed",
            "thresholds", "temperature")
_AGAIN = "copy the whole model folder again or retrain"


def saved_backend(path: str | Path) -> str | None:
    """The backend of the govtag model directory at ``path``, or None when it is not one.

    Example:
        >>> saved_backend("data/reports") is None   # a folder of reports, not a model
        True
    """
    try:
        meta = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(meta, dict) and "format_version" in meta and "area_labels" in meta \
            and isinstance(meta.get("backend"), str):
        return meta["backend"]
    return None


def replaceable_by(backend: str, force: bool = False) -> Callable[[Path], bool]:
    """The test `govtag.io.atomic_directory` applies before replacing a folder with a ``backend`` model:
    a model directory of the same backend, or of any backend when ``force`` is set."""
    return lambda p: (found := saved_backend(p)) is not None and (force or found == backend)


def check_model_output(path: str | Path, backend: str, force: bool = False, keep: Iterable[str | Path] = ()) -> Path:
    """Refuse a model output path before any work starts, when writing there could destroy anything.

    Refused: the working folder or a folder above it (``--output .``), a folder holding one of the
    ``keep`` files (the training data), a plain file, a folder govtag did not write, and, unless
    ``force``, a model directory of another backend. Nothing is removed here.

    Args:
        path: the model directory about to be written.
        backend: the backend of the model to be written.
        force: allow replacing a model directory of another backend.
        keep: files that must survive (the training and dev data).

    Returns:
        ``path`` as a Path.

    Example:
        >>> check_model_output("models/乡村振兴", "tfidf", keep=["data/seed.jsonl"])
        PosixPath('models/乡村振兴')
    """
    path = Path(path)
    target, here = path.resolve(), Path.cwd().resolve()
    if target == here or target in here.parents:
        raise GovtagError(f"{path}: is the working folder or holds it, and writing the model there would "
                          "replace it; choose a folder of its own, e.g. models/mine")
    for f in keep:
        if target in Path(f).resolve().parents:
            raise GovtagError(f"{path}: holds the training data {f}, which replacing the folder would delete; "
                              "choose another output folder")
    found = saved_backend(path) if path.is_dir() else None
    if found is not None and found != backend and not force:
        raise GovtagError(f"{path}: holds a {found} model; replacing it with a {backend} model needs --force "
                          "(force=True), or choose another output folder")
    return check_output_dir(path, replaceable_by(backend, force))


def _incomplete(file: Path) -> GovtagError:
    return GovtagError(f"{file.parent}: model directory is incomplete ({file.name} missing); {_AGAIN}")


@contextlib.contextmanager
def reading(file: Path):
    """Read ``file`` of a model directory in the block; any failure ends in one sentence naming it:
    missing, permission denied, or damaged. The libraries that parse weights raise many exception
    types for a damaged file, and some look for other files when the expected one is missing."""
    if not file.exists():
        raise _incomplete(file)
    try:
        yield
    except GovtagError:
        raise
    except FileNotFoundError as exc:
        raise _incomplete(Path(exc.filename) if exc.filename else file) from None
    except PermissionError:
        raise GovtagError(f"{file}: permission denied; ask the model folder's owner to make it readable "
                          "(chmod -R a+rX)") from None
    except Exception as exc:  # noqa: BLE001 - JSON, zip, safetensors, tokenizer and shape errors all mean: damaged
        raise GovtagError(f"{file}: damaged, cannot be read ({type(exc).__name__}); {_AGAIN}") from None


def require_finite(ok: bool, file: Path) -> None:
    """Refuse weights holding NaN or infinite values (bytes overwritten on disk): they give NaN scores."""
    if not ok:
        raise GovtagError(f"{file}: weights hold NaN or infinite values (the file is damaged); {_AGAIN}")


@dataclass
class SavedModel:
    """What config.json says, checked: the raw mapping, the backend class, its params and the schema."""

    meta: dict
    cls: type
    params: object
    schema: Schema


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def read_model_config(path: str | Path, schema: Schema) -> SavedModel:
    """Read and check a model directory's config.json before any weights are loaded.

    Args:
        path: the model directory.
        schema: the schema the caller works with; a model trained under other labels is refused.

    Returns:
        The checked `SavedModel`.

    Example:
        After ``govtag train --config configs/baseline.yaml``,
        ``read_model_config("models/baseline", load_schema()).params.context`` is ``['doc', 'section']``:
        the parts besides a sentence such as "加强党风廉政教育。" that the model reads.
    """
    from govtag.backends import get_backend
    from govtag.config import build_section

    path = Path(path)
    if not path.is_dir():
        raise GovtagError(f"{path}: model directory not found; train one with `govtag train` "
                          "or pass the folder that holds its config.json")
    cfg = path / "config.json"
    if not cfg.is_file():
        raise GovtagError(f"{path}: not a govtag model directory (no config.json); "
                          "pass the folder `govtag train --output` wrote")
    for file in [path, *path.rglob("*")]:
        if not os.access(file, os.R_OK | (os.X_OK if file.is_dir() else 0)):
            raise GovtagError(f"{file}: permission denied; ask the model folder's owner to make it readable "
                              "(chmod -R a+rX)")
    with reading(cfg):
        meta = json.loads(cfg.read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise GovtagError(f"{cfg}: expected a JSON object; {_AGAIN}")
    for key in REQUIRED:
        if key not in meta:
            raise GovtagError(f"{cfg}: incomplete model config (missing '{key}'); {_AGAIN}")
    version = meta["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise GovtagError(f"{path}: model format version {version} is newer than this govtag understands "
                          f"({FORMAT_VERSION}); upgrade govtag")
    if version < FORMAT_VERSION:
        raise GovtagError(f"{path}: model format version {version} is older than this govtag reads "
                          f"({FORMAT_VERSION}); retrain it with `govtag train`")
    try:
        cls = get_backend(str(meta["backend"]))
    except GovtagError as exc:
        raise GovtagError(f"{cfg}: backend: {exc}") from None
    saved = schema_from_dict(meta["schema"], f"{cfg} (schema)")
    if not saved.same_labels(schema):
        raise GovtagError(f"{path}: model was trained on schema {saved.describe()}, but this project uses "
                          f"{schema.describe()}; retrain it or use a model made for this schema")
    for key, labels in (("area_labels", saved.areas), ("type_labels", saved.types)):
        if meta[key] != list(labels):
            raise GovtagError(f"{cfg}: {key} {meta[key]} do not match the model's schema ({', '.join(labels)}), "
                              f"so its scores would land on the wrong labels; {_AGAIN}")
    params = build_section(cls.Params, meta["params"], f"{cfg}: params")
    if not isinstance(meta["seed"], int) or isinstance(meta["seed"], bool):
        raise GovtagError(f"{cfg}: seed: expected an integer, found {meta['seed']!r}; {_AGAIN}")
    thresholds = meta["thresholds"]
    if not isinstance(thresholds, dict) or set(thresholds) - set(saved.types):
        raise GovtagError(f"{cfg}: thresholds: expected one number per type ({', '.join(saved.types)}); {_AGAIN}")
    for t in saved.types:
        if t not in thresholds:
            raise GovtagError(f"{cfg}: thresholds -> {t}: missing; {_AGAIN}")
        if not _is_number(thresholds[t]) or not 0 <= thresholds[t] <= 1:
            raise GovtagError(f"{cfg}: thresholds -> {t}: expected a number between 0 and 1, "
                              f"found {thresholds[t]!r}; {_AGAIN}")
    if not _is_number(meta["temperature"]) or meta["temperature"] <= 0:
        raise GovtagError(f"{cfg}: temperature: expected a finite number > 0, found {meta['temperature']!r}; "
                          f"{_AGAIN}")
    return SavedModel(meta=meta, cls=cls, params=params, schema=saved)
