#!/usr/bin/env bash
# The README's test command: set up .venv if needed, then run the whole suite once (slow end-to-end
# tests included). Fails when any test fails or when no test ran (pytest exit 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$(date +%s)
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
echo "test suite: $(( $(date +%s) - start )) s wall time (budget: 15 minutes on 2 cores)"
exit $status
