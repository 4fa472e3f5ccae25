"""Output for files and people: atomic writes of files and directories (no half-written output after
an interrupt, permissions that follow the umask, nothing replaced that govtag did not write) and column
padding that counts Chinese characters as two columns."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable

from govtag.errors import GovtagError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _follow_umask(path: str | Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create owner-only entries; give the final file the mode a plain open() would."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_write(path: str | Path, binary: bool = False, encoding: str = "utf-8", newline: str | None = None):
    """Open a temporary file next to ``path``; rename it onto ``path`` only if the block succeeds.

    Args:
        path: the final file.
        binary: open in binary mode.
        encoding: text encoding (``utf-8-sig`` gives Excel the BOM it needs for CSV).
        newline: passed to ``open`` (``""`` for the csv module).

    Example:
        >>> with atomic_write("out/tags.jsonl") as f:
        ...     f.write('{"text": "新增高企35家。"}\\n')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        _follow_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_dir(path: str | Path, replaceable: Callable[[Path], bool]) -> Path:
    """Refuse an output directory that govtag may not replace, before any work starts.

    A missing path or an empty folder is fine; an existing folder is fine only when ``replaceable``
    says it is one govtag wrote (a model directory, an encoder). Anything else (a plain file, a folder
    with the user's files or the training data) ends in one sentence, and nothing is removed.

    Args:
        path: the directory about to be written.
        replaceable: tells whether an existing non-empty folder may be replaced.

    Returns:
        ``path`` as a Path.

    Example:
        >>> check_output_dir("models/乡村振兴-2024", lambda p: (p / "config.json").is_file())
        PosixPath('models/乡村振兴-2024')
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise GovtagError(f"{path}: exists and is not a folder; choose another output path "
                              "(govtag never overwrites a file it did not write)")
        if any(path.iterdir()) and not replaceable(path):
            raise GovtagError(f"{path}: folder exists and is not one govtag wrote (its files would be "
                              "lost); choose a new or empty folder")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GovtagError(f"{path}: permission denied: cannot write in {parent}; choose another output path")
    return path


@contextlib.contextmanager
def atomic_directory(path: str | Path, replaceable: Callable[[Path], bool]):
    """Build a directory in a hidden temporary sibling and move it onto ``path`` when the block succeeds.

    The old directory (checked with `check_output_dir` before and after the work) is swapped out only
    once the new one is complete; on any error or interrupt the temporary folder is removed and
    ``path`` is left as it was. The folder's mode follows the umask, like one made by ``mkdir``.

    Args:
        path: the directory to create or replace.
        replaceable: tells whether an existing non-empty folder at ``path`` may be replaced.

    Yields:
        The temporary folder to write into.

    Example:
        >>> with atomic_directory("models/demo", lambda p: (p / "config.json").is_file()) as tmp:
        ...     (tmp / "config.json").write_text('{"area_labels": ["平台", "其他"]}')
    """
    path = check_output_dir(path, replaceable)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _follow_umask(tmp, directory=True)
        check_output_dir(path, replaceable)  # it may have changed while the work ran
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pad(text: str, width: int) -> str:
    """Left-justify ``text`` to ``width`` terminal columns, counting wide (CJK) characters as two.

    Example:
        >>> pad("乡村振兴", 10) + "|"
        '乡村振兴  |'
    """
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - cols, 0)
