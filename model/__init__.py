"""govtag: tag sentences of Chinese government work reports with a work area and sentence types."""

from govtag.errors import GovtagError

__all__ = ["GovtagError"]
__version__ = "0.1.0"
