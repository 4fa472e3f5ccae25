#!/usr/bin/env python
"""Compare the transformer with the TF-IDF baseline on the same data, in one run.

Both models are trained on the same records: once on the train split and scored on dev, then in k-fold
cross-validation over the training records grouped by report (``doc``), so no report is in both a fold's
training and test part. In every fit the dev split is the only data used for tuning (best epoch, type
thresholds, area temperature). Reported: area macro-F1, types micro-F1 and exact match, mean ± sd over
folds, and the transformer's margin over TF-IDF against the targets (area +5 points, types +2 points).

Examples:
    python scripts/compare.py                                   # configs' data, 5 folds (long: trains 12 models)
    python scripts/compare.py --limit 400 --epochs 1 --folds 2  # a quick smoke run
    python scripts/compare.py --data ../shared/data/annotated/sentences.jsonl \\
        --data ../shared/data/synthetic/reports.jsonl --json out/compare.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import time
from pathlib import Path


from govtag.backends import get_backend  # noqa: E402
from govtag.config import load_config, resolve_path  # noqa: E402
from govtag.context import with_previous  # noqa: E402
from govtag.data import load_records, split_records  # noqa: E402
from govtag.errors import GovtagError  # noqa: E402
from govtag.evaluate import compute_metrics  # noqa: E402
from govtag.schema import load_schema  # noqa: E402

METRICS = ("area_macro_f1", "types_micro_f1", "exact_match")
TARGETS = {"area_macro_f1": 0.05, "types_micro_f1": 0.02}  # transformer minus TF-IDF, at least


def scores(gold: list[dict], pred: list[dict], schema) -> dict:
    """The three headline numbers (sklearn.metrics via `govtag.evaluate.compute_metrics`)."""
    m = compute_metrics(gold, pred, schema)
    return {"area_macro_f1": m["area"]["macro_f1"], "types_micro_f1": m["types"]["micro_f1"],
            "exact_match": m["exact_match"]}


def fit_and_score(name: str, cfg, train: list[dict], dev: list[dict], test: list[dict], schema) -> dict:
    """Train one backend on ``train`` (tuning on ``dev``) and score it on ``test``."""
    started = time.perf_counter()
    params = dataclasses.replace(cfg.params)
    tagger = get_backend(cfg.backend)(params=params, schema=schema, seed=cfg.seed).fit(train, dev, cfg.run)
    out = scores(test, tagger.predict(test), schema)
    out["seconds"] = round(time.perf_counter() - started, 1)
    log = getattr(tagger, "train_log_", None)
    if log:
        out["epochs"] = [{k: e[k] for k in ("epoch", "eval_area_macro_f1", "eval_types_micro_f1") if k in e}
                         for e in log.get("epochs", [])]
    print(f"  {name:<12} " + "  ".join(f"{k} {out[k]:.3f}" for k in METRICS) + f"  ({out['seconds']} s)",
          file=sys.stderr, flush=True)
    return out


def summary(runs: list[dict]) -> dict:
    """Mean and standard deviation of each metric over folds."""
    out = {}
    for k in METRICS:
        vals = [r[k] for r in runs]
        out[k] = {"mean": round(statistics.fmean(vals), 4),
                  "sd": round(statistics.stdev(vals), 4) if len(vals) > 1 else 0.0}
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/default.yaml", help="the transformer's training config")
    ap.add_argument("--baseline", default="configs/baseline.yaml", help="the TF-IDF baseline's config")
    ap.add_argument("--data", action="append", help="JSONL file(s) (split: dev records are dev); "
                    "default: the config's data.train and data.public")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds, grouped by report (0 = skip)")
    ap.add_argument("--epochs", type=int, help="override the transformer's epochs")
    ap.add_argument("--limit", type=int, help="use at most this many training sentences (and a third as many "
                    "dev sentences), sampled by seed: for quick runs")
    ap.add_argument("--no-dev", action="store_true", help="skip the train -> dev comparison")
    ap.add_argument("--json", help="write the results as JSON to this file ('-' for stdout)")
    args = ap.parse_args(argv)

    schema = load_schema()
    base, cfg = load_config(args.baseline), load_config(args.config)
    if args.epochs:
        cfg.params.epochs = args.epochs
    files = args.data or [*cfg.data.train, *([cfg.data.public] if cfg.data.public else [])]
    paths = [resolve_path(f) for f in files]
    records = load_records(paths, schema)
    train, dev = split_records(records)
    train, dev = with_previous(train), with_previous(dev)  # before sampling, so prev is the true neighbour
    if not dev:
        raise GovtagError(f"no record in {', '.join(files)} has split: dev; the comparison tunes and scores on dev")
    if args.limit:
        rng = random.Random(cfg.seed)
        train = rng.sample(train, min(args.limit, len(train)))
        dev = rng.sample(dev, min(max(args.limit // 3, 1), len(dev)))
    docs = len({r["doc"] for r in train})
    print(f"data: {len(train)} train sentences from {docs} reports, {len(dev)} dev, files {', '.join(files)}",
          file=sys.stderr)
    models = {"tfidf": base, "transformer": cfg}
    result: dict = {"data": {"files": files, "train": len(train), "dev": len(dev), "reports": docs},
                    "params": {n: dataclasses.asdict(c.params) for n, c in models.items()}}
    started = time.perf_counter()

    if not args.no_dev:
        print("train -> dev", file=sys.stderr)
        result["dev"] = {n: fit_and_score(n, c, train, dev, dev, schema) for n, c in models.items()}

    if args.folds:
        from sklearn.model_selection import GroupKFold

        folds = min(args.folds, docs)
        if folds < 2:
            raise GovtagError(f"cross-validation needs at least 2 reports in the training split, found {docs}")
        groups = [r["doc"] for r in train]
        runs: dict = {n: [] for n in models}
        for k, (fit_idx, test_idx) in enumerate(GroupKFold(n_splits=folds).split(train, groups=groups), 1):
            print(f"fold {k}/{folds}: {len(fit_idx)} train, {len(test_idx)} test", file=sys.stderr)
            fold_train = [train[i] for i in fit_idx]
            fold_test = [train[i] for i in test_idx]
            for n, c in models.items():
                runs[n].append(fit_and_score(n, c, fold_train, dev, fold_test, schema))
        result["cv"] = {"folds": folds, "runs": runs, "summary": {n: summary(r) for n, r in runs.items()}}

    verdict = {}
    for where in ("dev", "cv"):
        if where not in result:
            continue
        get = (lambda n, k: result["dev"][n][k]) if where == "dev" else \
            (lambda n, k: result["cv"]["summary"][n][k]["mean"])
        verdict[where] = {k: {"margin": round(get("transformer", k) - get("tfidf", k), 4), "target": t,
                              "met": get("transformer", k) - get("tfidf", k) >= t} for k, t in TARGETS.items()}
    result["verdict"] = verdict
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(render(result))
    if args.json:
        text = json.dumps(result, ensure_ascii=False, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return result


def render(result: dict) -> str:
    """The printed comparison table."""
    lines = [f"{'':<36}{'tfidf':>16}{'transformer':>16}{'margin':>10}{'target':>8}"]
    for where in ("dev", "cv"):
        if where not in result:
            continue
        title = "dev" if where == "dev" else f"{result['cv']['folds']}-fold CV by report"
        for k in METRICS:
            if where == "dev":
                a, b = result["dev"]["tfidf"][k], result["dev"]["transformer"][k]
                sa, sb = f"{a:.3f}", f"{b:.3f}"
            else:
                s = result["cv"]["summary"]
                a, b = s["tfidf"][k]["mean"], s["transformer"][k]["mean"]
                sa, sb = f"{a:.3f} ± {s['tfidf'][k]['sd']:.3f}", f"{b:.3f} ± {s['transformer'][k]['sd']:.3f}"
            v = result["verdict"][where].get(k)
            target = ("met" if v["met"] else "NOT met") if v else ""
            lines.append(f"{title + ' ' + k:<36}{sa:>16}{sb:>16}{b - a:>+10.3f}{target:>8}")
    lines.append(f"total time {result['seconds']:.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        main()
    except GovtagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
