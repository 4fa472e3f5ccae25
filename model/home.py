"""govtag's cache home: the one folder where it keeps what it builds or resumes from.

``$GOVTAG_HOME`` (default ``~/.cache/govtag``) holds the default encoder (``base/e5-small-zh``) and the
transformer backend's training checkpoints (``checkpoints/``). Every module that writes to the cache asks
:func:`govtag_home`, so setting the one variable moves everything (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "GOVTAG_HOME"


def govtag_home() -> Path:
    """Return the cache folder: ``$GOVTAG_HOME``, or ``~/.cache/govtag`` when the variable is unset or empty.

    The folder is not created here; whoever writes into it does that.

    Returns:
        The folder, with ``~`` expanded.

    Example:
        With ``GOVTAG_HOME=/srv/govtag`` the encoder that embeds "推进科技创新" is cached in
        ``govtag_home() / "base" / "e5-small-zh"``, that is ``/srv/govtag/base/e5-small-zh``.
    """
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cache" / "govtag").expanduser()
