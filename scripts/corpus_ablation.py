"""What the corpus buys: train on (a) the public train split without the seed report, (b) the corpus
only, (c) both; score each on the seed report's sentences (never trained on here) and on the public
dev split. Thresholds and temperature are tuned on the corpus dev split in every run, so neither test
set is used for tuning.

    python scripts/corpus_ablation.py --public ../shared/data/annotated/sentences.jsonl [--config configs/baseline.yaml]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from govtag.backends import get_backend  # noqa: E402
from govtag.config import load_config  # noqa: E402
from govtag.context import with_previous  # noqa: E402
from govtag.data import load_records, split_records  # noqa: E402
from govtag.evaluate import compute_metrics  # noqa: E402
from govtag.schema import load_schema  # noqa: E402
from govtag.train import seed_everything  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--public", type=Path, required=True, help="../shared/data/annotated/sentences.jsonl")
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "baseline.yaml")
    ap.add_argument("--json", type=Path, help="write the table as JSON too")
    args = ap.parse_args()
    schema = load_schema()
    cfg = load_config(args.config)
    public = load_records(args.public, schema)
    seed = with_previous([r for r in public if r["id"].startswith("seed-")])
    pub_train, pub_dev = split_records([r for r in public if not r["id"].startswith("seed-")])
    corpus_train, corpus_dev = split_records(load_records(ROOT / "data" / "corpus" / "corpus.jsonl", schema))
    runs = {"(a) public train": pub_train, "(b) corpus": corpus_train, "(c) public train + corpus": pub_train + corpus_train}
    tests = {"seed report": seed, "public dev": with_previous(pub_dev)}
    rows = []
    for name, train in runs.items():
        seed_everything(cfg.seed)
        start = time.perf_counter()
        tagger = get_backend(cfg.backend)(params=cfg.params, schema=schema, seed=cfg.seed)
        tagger.fit(with_previous(train), with_previous(corpus_dev))
        for test_name, test in tests.items():
            m = compute_metrics(test, tagger.predict(test), schema)
            rows.append({"backend": cfg.backend, "train": name, "n_train": len(train), "test": test_name,
                         "n_test": m["n"], "area_macro_f1": m["area"]["macro_f1"],
                         "types_micro_f1": m["types"]["micro_f1"], "exact_match": m["exact_match"],
                         "seconds": round(time.perf_counter() - start, 1)})
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    print(f"| backend | trained on | n | tested on | n | area macro-F1 | types micro-F1 | exact match |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['train']} | {r['n_train']} | {r['test']} | {r['n_test']} | "
              f"{r['area_macro_f1']:.3f} | {r['types_micro_f1']:.3f} | {r['exact_match']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
