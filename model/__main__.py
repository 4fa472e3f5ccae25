"""`python -m govtag`: the same command line as the `govtag` console script."""

from govtag.cli import app

app(prog_name="govtag")
