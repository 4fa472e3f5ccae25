"""Docstring examples that are self-contained run as tests, so none drifts from the code.

Examples that need a trained model or a long run are written as prose (no ``>>>``); add a module
here when its examples run on their own.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.conftest import ROOT

MODULES = [
    "govtag.backends",
    "govtag.backends.base",
    "govtag.backends.precision",
    "govtag.backends.store",
    "govtag.backends.tfidf",
    "govtag.backends.transformer",
    "govtag.calibrate",
    "govtag.card",
    "govtag.config",
    "govtag.context",
    "govtag.evaluate",
    "govtag.network",
    "govtag.ray_tag",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name paths as a user in the project's folder would
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example; drop it from MODULES"
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (run with -s to see them)"
