"""Output for files and people: atomic writes of files and directories (no half-written output after
an interrupt, permissions that follow the umask, nothing replaced that govtag did not write), checks of
an output path before the work starts, spreadsheet cells that cannot run as formulas, OS errors in
words, and column padding that counts Chinese characters as two columns."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable

from govtag.errors import GovtagError

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"); tab and carriage
# return too, since Excel strips them and then evaluates what follows.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_REASONS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on device",
            errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file too large for the file system"}


def os_error_message(exc: OSError, path: str | Path | None = None) -> str:
    """One sentence for an OS error: the path, then the cause in plain words.

    Args:
        exc: the error.
        path: the file to name when the error carries none (a failed ``write`` does not).

    Returns:
        ``PATH: cause`` (``permission denied``, ``no space left on device``…).

    Example:
        >>> os_error_message(PermissionError(13, "Permission denied", "out/乡村振兴.csv"))
        'out/乡村振兴.csv: permission denied'
    """
    name = exc.filename if exc.filename is not None else path
    reason = _REASONS.get(exc.errno) or (exc.strerror or str(exc)).lower()
    return f"{name}: {reason}" if name is not None else reason


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

    On any error or interrupt (Ctrl-C, or SIGTERM through the CLI's handler) the temporary file is
    removed and ``path`` is left as it was. A full disk ends in one sentence naming ``path``.

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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file the user asked for, not a hidden temporary one
        raise GovtagError(f"{os_error_message(exc, path)}; choose another output path") from None
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        _follow_umask(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise GovtagError(f"{os_error_message(exc, path)}; nothing was written: free some space "
                              "or choose another output path") from None
        raise


def _nearest_folder(path: Path) -> Path:
    """The closest existing ancestor of ``path``: where the missing folders would be created."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise GovtagError(f"{path}: {parent} is a file, not a folder; "
                          "choose another output path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GovtagError(f"{path}: permission denied: cannot write in {parent}; choose another output path")
    return parent


def check_output_file(path: str | Path) -> Path:
    """Refuse an output file that could not be written, before any work starts.

    A folder, a path under a plain file, or a folder the user may not write in (the file's own or
    the one where its missing parents would be created) ends in one sentence naming the path.
    Nothing is created.

    Args:
        path: the file about to be written with `atomic_write`.

    Returns:
        ``path`` as a Path.

    Example:
        >>> check_output_file("out/乡村振兴.csv")
        PosixPath('out/乡村振兴.csv')
    """
    path = Path(path)
    if path.is_dir():
        raise GovtagError(f"{path}: is a folder; give a file name such as {path / 'tags.csv'}")
    _nearest_folder(path)
    return path


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
    _nearest_folder(path)
    return path


@contextlib.contextmanager
def atomic_directory(path: str | Path, replaceable: Callable[[Path], bool]):
    """Build a directory in a hidden temporary sibling and move it onto ``path`` when the block succeeds.

    The old directory (checked with `check_output_dir` before and after the work) is swapped out only
    once the new one is complete; on any error or interrupt the temporary folder is removed and
    ``path`` is left as it was. The folder and every file in it follow the umask, like ones made by
    ``mkdir`` and ``open``.

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
        # libraries write some files owner-only (safetensors does): the whole tree follows the umask
        for entry in [tmp, *tmp.rglob("*")]:
            _follow_umask(entry, directory=entry.is_dir())
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


def csv_safe(value):
    """A spreadsheet cell that cannot run as a formula: text starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading ``'`` (the OWASP rule); numbers and other values are
    returned unchanged, so they stay numbers.

    Args:
        value: one cell (a sentence, a heading path, a file name, a score).

    Returns:
        The cell to write.

    Example:
        >>> csv_safe('=HYPERLINK("http://x","点")'), csv_safe("全年新增高企35家。"), csv_safe(-0.5)
        ('\'=HYPERLINK("http://x","点")', '全年新增高企35家。', -0.5)
    """
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def pad(text: str, width: int) -> str:
    """Left-justify ``text`` to ``width`` terminal columns, counting wide (CJK) characters as two.

    Example:
        >>> pad("乡村振兴", 10) + "|"
        '乡村振兴  |'
    """
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - cols, 0)
