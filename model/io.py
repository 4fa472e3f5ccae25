"""Output for files and people: atomic writes (no half-written file after an interrupt) and
column padding that counts Chinese characters as two columns."""

from __future__ import annotations

import contextlib
import os
import tempfile
import unicodedata
from pathlib import Path


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
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def pad(text: str, width: int) -> str:
    """Left-justify ``text`` to ``width`` terminal columns, counting wide (CJK) characters as two.

    Example:
        >>> pad("乡村振兴", 10) + "|"
        '乡村振兴  |'
    """
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - cols, 0)
