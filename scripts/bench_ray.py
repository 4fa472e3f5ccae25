"""The Ray benchmark of scripts/bench.py: ``ray`` (see that file for the command line).

For each model — the TF-IDF baseline fitted on ``data/seed.jsonl`` (a few seconds), ``models/default``
when it exists, or the ``--model`` directories given — it tags the same folder three ways in one run, so
the figures are comparable on a shared machine: the local path (`govtag.tag.tag`, in this process, model
load included) and `govtag.ray_tag.tag_with_ray` with 1 and 2 workers on one local Ray started once
(``--cpus`` CPUs, default all of them; its start is timed apart, since a cluster is already up). The Ray
figures are the job's wall time: actors starting and loading the model, segmenting, tagging, writing
the shards and the merged file. The 1-minute load average is printed before and after: above the
number of cores, the timings are contended.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _baseline(folder: Path) -> Path:
    """The TF-IDF baseline fitted on the seed report, saved under ``folder``."""
    from govtag.backends import get_backend
    from govtag.context import with_previous
    from govtag.data import load_records
    from govtag.schema import load_schema

    records = with_previous(load_records(ROOT / "data" / "seed.jsonl", load_schema()))
    return get_backend("tfidf")(seed=13).fit(records).save(folder / "tfidf-seed")


def bench_ray(args: argparse.Namespace) -> dict:
    """Sentences per second of the local path and of Ray with each worker count, per model."""
    import ray

    from govtag.ray_tag import tag_with_ray
    from govtag.tag import tag

    workers = [int(w) for w in args.workers.split(",")]
    results: dict = {"cpus": os.cpu_count(), "load_average_1min (before)": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="govtag-bench-ray-") as tmp:
        models = [Path(m) for m in args.model] or [_baseline(Path(tmp))] + \
            ([ROOT / "models" / "default"] if (ROOT / "models" / "default").is_dir() else [])
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.WARNING)
        results["ray start s"] = round(time.perf_counter() - start, 1)
        try:
            for n, model in enumerate(models):
                name = model.name
                start = time.perf_counter()
                local = tag([args.folder], model, Path(tmp) / f"local-{n}.jsonl")
                seconds = time.perf_counter() - start
                results[f"{name}: sentences"] = local.sentences
                results[f"{name}: local sentences/s"] = f"{local.sentences / seconds:.0f} ({seconds:.1f} s)"
                for w in workers:
                    s = tag_with_ray([args.folder], model, Path(tmp) / f"ray-{n}-{w}", workers=w,
                                     batch_size=args.batch_size)
                    assert s.sentences == local.sentences, "the Ray run tagged another number of sentences"
                    results[f"{name}: ray {w} worker{'s' if w > 1 else ''} sentences/s"] = \
                        f"{s.sentences / s.seconds:.0f} ({s.seconds:.1f} s)"
        finally:
            ray.shutdown()
    results["load_average_1min (after)"] = round(os.getloadavg()[0], 2)
    return results


def add_parser(sub, common) -> None:
    """Add the ``ray`` subcommand to bench.py's parser."""
    p = sub.add_parser("ray", parents=[common], help="tagging with --engine ray (1 and 2 workers) next to the "
                                                      "local path, same model and input, one run")
    p.add_argument("--model", action="append", default=[],
                   help="model directory (repeatable); default: TF-IDF fitted on the seed, and models/default if present")
    p.add_argument("--folder", default=str(ROOT / "data" / "corpus" / "reports"), help="reports to tag")
    p.add_argument("--workers", default="1,2", help="worker counts to time, e.g. 1,2")
    p.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    p.add_argument("--batch-size", type=int, default=64, help="records per call to the model")
    p.set_defaults(func=bench_ray)
