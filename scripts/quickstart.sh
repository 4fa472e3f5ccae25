#!/usr/bin/env bash
# The README's main job, from a fresh clone: install, train the default model on the bundled data,
# tag the county report, and print an evaluation on the corpus reports the training did not see.
#   bash scripts/quickstart.sh                        # default model (configs/default.yaml)
#   CONFIG=configs/baseline.yaml bash scripts/quickstart.sh   # the TF-IDF baseline, in seconds
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/default.yaml}
MODEL=${MODEL:-models/$(basename "$CONFIG" .yaml)}
bash scripts/setup.sh
.venv/bin/govtag train --config "$CONFIG" --output "$MODEL"
.venv/bin/govtag tag data/reports/pingyang-keji-2022.txt --model "$MODEL" -o out/pingyang-keji-2022.csv
.venv/bin/govtag evaluate --model "$MODEL" --data data/corpus/corpus.jsonl --split dev --report out/eval
echo "tagged sentences: out/pingyang-keji-2022.csv; evaluation report: out/eval/report.md"
