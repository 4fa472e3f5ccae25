#!/usr/bin/env python
"""What annotated real reports buy a user: cross-validation by report on county-dev, and a learning curve.

county-dev (``../shared/data/annotated/county-dev.jsonl``, real county and district department reports,
read by path and never committed) is cut into 5 folds by report. For each fold the model is trained on
the shipped data plus the other four folds' reports and scored on the held-out fifth ("train on
annotated seeds", the users' story). The learning curve adds 0, 10, 20, 40 and 65 real reports (from
the other folds) to the shipped data and scores the same held-out fold each time, for every fold.
Tuning (best epoch, thresholds, temperature) uses the shipped data's dev split only, so the held-out
reports are never seen.

Examples:
    python scripts/learning_curve.py --config configs/baseline.yaml          # TF-IDF, a few minutes
    python scripts/learning_curve.py --config configs/default.yaml --folds 2 --points 0 40
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from govtag.backends import get_backend
from govtag.config import load_config
from govtag.data import load_records, split_records
from govtag.evaluate import compute_metrics
from govtag.schema import load_schema
from govtag.train import load_training_data

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT.parent / "shared" / "data" / "annotated" / "county-dev.jsonl"


def folds_by_report(records: list[dict], k: int, seed: int) -> list[list[str]]:
    """Report titles dealt into ``k`` folds (shuffled with ``seed``)."""
    docs = sorted({r["doc"] for r in records})
    random.Random(seed).shuffle(docs)
    return [docs[i::k] for i in range(k)]


def score(cfg, schema, train: list[dict], dev: list[dict], test: list[dict]) -> dict:
    """Fit the configured backend on ``train`` (tuned on ``dev``) and score ``test``."""
    tagger = get_backend(cfg.backend)(params=cfg.params, schema=schema, seed=cfg.seed).fit(train, dev, cfg.run)
    m = compute_metrics(test, tagger.predict(test), schema)
    return {"area_macro_f1": m["area"]["macro_f1"], "types_micro_f1": m["types"]["micro_f1"],
            "plan_f1": m["types"]["per_type"]["plan"]["f1"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "baseline.yaml")
    ap.add_argument("--folds", type=int, default=5, help="folds to run (of 5)")
    ap.add_argument("--points", type=int, nargs="+", default=[0, 10, 20, 40, 65], help="real reports added")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    if not COUNTY.is_file():
        print(f"{COUNTY} is absent; this script needs ../shared", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    schema = load_schema()
    shipped_train, shipped_dev, _ = load_training_data(cfg, schema)
    county = load_records(COUNTY, schema)
    folds = folds_by_report(county, 5, cfg.seed)
    results = {n: [] for n in args.points}
    started = time.perf_counter()
    for f, held in enumerate(folds[: args.folds]):
        test = [r for r in county if r["doc"] in set(held)]
        others = [d for g, docs in enumerate(folds) if g != f for d in docs]
        random.Random(cfg.seed + f).shuffle(others)
        for n in args.points:
            added = set(others[:n])
            extra = [{**r, "split": "train"} for r in county if r["doc"] in added]
            train, _ = split_records(extra)
            s = score(cfg, schema, shipped_train + train, shipped_dev, test)
            s.update(fold=f, reports_added=len(added), sentences_added=len(train))
            results[n].append(s)
            print(json.dumps(s), file=sys.stderr, flush=True)
    print(f"\n{cfg.backend}: held-out county-dev fold, mean ± sd over {args.folds} fold(s) "
          f"({time.perf_counter() - started:.0f} s)")
    print(f"{'real reports added':<20}{'sentences':>10}{'area mF1':>16}{'types μF1':>16}{'plan F1':>16}")
    for n, rows in results.items():
        cell = {}
        for key in ("area_macro_f1", "types_micro_f1", "plan_f1"):
            vals = [r[key] for r in rows]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cell[key] = f"{statistics.mean(vals):.3f} ± {sd:.3f}"
        sents = statistics.mean(r["sentences_added"] for r in rows)
        print(f"{n:<20}{sents:>10.0f}{cell['area_macro_f1']:>16}{cell['types_micro_f1']:>16}{cell['plan_f1']:>16}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
