"""The one exception govtag's library code raises for anything a user can fix."""


class GovtagError(Exception):
    """A user-facing error: one sentence saying what was found, what was expected and what to do.

    The CLI prints it as a single line and exits 1, without a traceback.

    Example:
        >>> raise GovtagError("data/x.jsonl:3: unknown area '平 台'; expected one of 平台, 主体, ...")
        Traceback (most recent call last):
        GovtagError: data/x.jsonl:3: unknown area '平 台'; expected one of 平台, 主体, ...
    """
