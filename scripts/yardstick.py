#!/usr/bin/env python
"""Score trained models on the real-text yardsticks and our own corpus dev split, side by side.

Real text is the yardstick: the corpus is text this team wrote and its dev split saturates. The real
sets are read by path from ``../shared`` and never committed:

- public dev: ``split: dev`` records of ``../shared/data/annotated/sentences.jsonl`` (provincial 2025);
- county-dev: ``../shared/data/annotated/county-dev.jsonl`` (real county/district department reports;
  never trained on by the default model).

Prints one table: per model and set, area macro-F1, types micro-F1, per-type F1, and 其他 precision
and recall. A set whose file is absent is skipped with a note.

Examples:
    python scripts/yardstick.py models/baseline models/default
    python scripts/yardstick.py models/default --json out/yardstick.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govtag.backends import load_model
from govtag.data import load_records
from govtag.evaluate import compute_metrics
from govtag.io import pad

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "annotated"
SETS = {  # name: (file, split to keep or None for all)
    "county-dev (real)": (SHARED / "county-dev.jsonl", None),
    "public dev (real)": (SHARED / "sentences.jsonl", "dev"),
    "corpus dev (ours)": (ROOT / "data" / "corpus" / "corpus.jsonl", "dev"),
}


def yardstick(model_dirs: list[Path]) -> list[dict]:
    """One row per (model, set) with the headline scores."""
    rows = []
    for model_dir in model_dirs:
        tagger = load_model(model_dir)
        for name, (path, split) in SETS.items():
            if not path.is_file():
                print(f"skipped {name}: {path} is absent", file=sys.stderr)
                continue
            recs = [r for r in load_records(path, tagger.schema) if split is None or r.get("split") == split]
            m = compute_metrics(recs, tagger.predict(recs), tagger.schema)
            other = m["area"]["per_class"]["其他"]
            rows.append({"model": str(model_dir), "set": name, "n": m["n"], "area_macro_f1": m["area"]["macro_f1"],
                         "types_micro_f1": m["types"]["micro_f1"],
                         **{f"{t}_f1": v["f1"] for t, v in m["types"]["per_type"].items()},
                         "other_precision": other["precision"], "other_recall": other["recall"],
                         "per_area_f1": {a: v["f1"] for a, v in m["area"]["per_class"].items()}})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="model directories from `govtag train`")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    rows = yardstick(args.models)
    cols = [("model", 18), ("set", 20), ("n", 6), ("area_macro_f1", 10), ("types_micro_f1", 11),
            ("achievement_f1", 10), ("plan_f1", 10), ("metric_f1", 11), ("other_precision", 10), ("other_recall", 10)]
    heads = ["model", "set", "n", "area mF1", "types μF1", "ach F1", "plan F1", "metric F1", "其他 P", "其他 R"]
    print("".join(pad(h, w) for h, (_, w) in zip(heads, cols)))
    for r in rows:
        print("".join(pad(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k])[-w + 1:], w) for k, w in cols))
    print("\nper-area F1:")
    for r in rows:
        print(f"  {Path(r['model']).name:<12} {r['set']:<20} " + "  ".join(f"{a} {f:.2f}" for a, f in r["per_area_f1"].items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
