"""The model benchmarks of scripts/bench.py: ``tag`` and ``train`` (see that file for the command lines).

``tag`` times, in one run so that the ratio is fair on a shared machine, ``govtag tag FOLDER`` end to end
(a subprocess each: imports, model load, segmenting, tagging, writing) for fp32 and for ``auto``, with
each one's peak memory; then, in this process, the model load, tokenization, the network forward alone
(fp32 and auto) and the TF-IDF mix; then the agreement of bf16 with fp32 on the corpus dev split and on
the public dev split (read by path, skipped when absent): the share of sentences with the same area,
the share of (sentence, type) decisions that agree, the largest score difference, and the dev scores of
both. ``--max-lengths 48,32`` also scores shorter inputs (speed and dev scores side by side);
``--profile N`` prints the N functions with the most own time in an in-process tagging run (cProfile).

``train`` first times a few training steps of the config's network on one batch, fp32 against auto
(``--steps``), then runs ``govtag train`` on the config (the default one unless ``--config``) in a
subprocess and prints its wall time, peak memory, seconds and dev scores per epoch, and the final dev
scores.

Timings are void while another heavy job runs: each subcommand first waits (up to ``--wait`` seconds)
for the 1-minute load average to fall below ``--quiet-load`` and reports the load it measured under.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT.parent / "shared" / "data" / "annotated" / "sentences.jsonl"


def wait_for_quiet(limit: float, wait: int, say=print) -> str:
    """Wait until the 1-minute load average is below ``limit`` (checking every minute, ``wait`` seconds
    at most) and return the load as a string for the results."""
    waited = 0
    while os.getloadavg()[0] > limit and waited < wait:
        say(f"load average {os.getloadavg()[0]:.2f} > {limit}: waiting a minute for other jobs to finish")
        time.sleep(60)
        waited += 60
    load = os.getloadavg()[0]
    return f"{load:.2f}" + (" (still busy: timings contended)" if load > limit else "")


def run_timed(cmd: list[str], log: Path) -> tuple[float, float]:
    """Run ``cmd`` (output to ``log``) and return its wall seconds and peak resident memory in MB."""
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest of all children
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed; see {log}:\n{log.read_text(encoding='utf-8')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def govtag(*args: str) -> list[str]:
    return [sys.executable, "-m", "govtag", *args]


def bench_tag(args) -> dict:
    """End-to-end tagging and the forward pass, fp32 against auto; bf16/fp32 agreement on dev splits."""
    import torch

    results: dict = {"threads": args.threads, "load_average_1min": wait_for_quiet(args.quiet_load, args.wait)}
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="govtag-bench-") as tmp:
        for precision in ("fp32", "auto"):
            out = Path(tmp) / f"{precision}.jsonl"
            seconds, peak = run_timed(govtag("tag", args.folder, "--model", args.model, "-o", str(out),
                                             "--precision", precision), Path(tmp) / "log.txt")
            n = sum(1 for _ in out.open(encoding="utf-8"))
            results[f"end-to-end {precision}"] = f"{n} sentences in {seconds:.1f} s = {n / seconds:.0f} sentences/s, " \
                                                 f"peak {peak:.0f} MB"
            results[f"_e2e_{precision}"] = n / seconds
        results["end-to-end auto / fp32"] = f"{results.pop('_e2e_auto') / results.pop('_e2e_fp32'):.2f}x"
    results.update(_in_process(args))
    results["load_average_1min after"] = f"{os.getloadavg()[0]:.2f}"
    return results


def _report_records(folder: str) -> list[dict]:
    """The records `govtag tag` sends to the model: every non-chrome record of every report."""
    from govtag.context import with_previous
    from govtag.segment import segment_file
    from govtag.tag import expand_inputs

    records = []
    for path in expand_inputs([folder]):
        records += [r for r in with_previous([s.to_dict() for s in segment_file(path)]) if not r["is_noise"]]
    return records


def _in_process(args) -> dict:
    from govtag.backends import load_model
    from govtag.backends.precision import describe

    results = {}
    start = time.perf_counter()
    tagger = load_model(args.model)
    results["model load"] = f"{time.perf_counter() - start:.2f} s (imports excluded)"
    records = _report_records(args.folder)
    start = time.perf_counter()
    rows = tagger._encode(records)
    seconds = time.perf_counter() - start
    results["tokenize"] = f"{len(rows)} sentences in {seconds:.2f} s, mean {np.mean([r['length'] for r in rows]):.1f} tokens"
    rates = {}
    for precision in ("fp32", "auto"):
        tagger.precision = precision
        start = time.perf_counter()
        tagger._forward(rows)
        rates[precision] = len(rows) / (time.perf_counter() - start)
        results[f"forward {precision} ({describe(precision)})"] = f"{rates[precision]:.0f} sentences/s"
    results["forward auto / fp32"] = f"{rates['auto'] / rates['fp32']:.2f}x"
    if tagger.params.tfidf_weight > 0:
        start = time.perf_counter()
        tagger.tfidf_.predict_proba(records)
        results["TF-IDF mix"] = f"{time.perf_counter() - start:.2f} s for {len(records)} sentences"
    results.update(agreement(tagger))
    for length in [int(x) for x in args.max_lengths.split(",") if x]:
        results.update(_shorter(tagger, records, length))
    tagger.precision = "auto"
    if args.profile:
        results["profile (own time, top functions)"] = "\n" + _profile(args, args.profile)
    return results


def _dev_splits() -> dict:
    from govtag.data import load_records
    from govtag.schema import load_schema

    splits = {}
    for name, path in (("corpus dev", ROOT / "data" / "corpus" / "corpus.jsonl"), ("public dev", PUBLIC)):
        if path.is_file():
            splits[name] = [r for r in load_records(path, load_schema()) if r.get("split") == "dev"]
    return splits


def _scores(tagger, records: list[dict], gold: bool = True) -> dict:
    from govtag.evaluate import compute_metrics

    area_p, type_p = tagger.predict_proba(records)
    m = compute_metrics(records, tagger.decide(area_p, type_p), tagger.schema) if gold else None
    return {"area_p": area_p, "type_p": type_p, "metrics": m}


def agreement(tagger) -> dict:
    """Agreement of bf16 with fp32 on each dev split: areas, (sentence, type) decisions, largest score
    difference, and both precisions' dev scores."""
    results = {}
    for name, records in _dev_splits().items():
        got = {}
        for precision in ("fp32", "bf16"):
            tagger.precision = precision
            got[precision] = _scores(tagger, records)
        a, b = got["fp32"], got["bf16"]
        same_area = np.mean(a["area_p"].argmax(1) == b["area_p"].argmax(1))
        t = tagger.thresholds_
        same_types = np.mean((a["type_p"] >= t) == (b["type_p"] >= t))
        diff = max(np.abs(a["area_p"] - b["area_p"]).max(), np.abs(a["type_p"] - b["type_p"]).max())
        results[f"{name} ({len(records)}): same area bf16/fp32"] = f"{same_area:.4f} (>= 0.995 required)"
        results[f"{name}: same type decisions"] = f"{same_types:.4f} (>= 0.995 required)"
        results[f"{name}: max score difference"] = f"{diff:.4f} (< 0.02 required)"
        for precision in ("fp32", "bf16"):
            m = got[precision]["metrics"]
            results[f"{name}: {precision} scores"] = (f"area macro-F1 {m['area']['macro_f1']:.4f}, "
                                                      f"types micro-F1 {m['types']['micro_f1']:.4f}")
    return results


def _shorter(tagger, records: list[dict], length: int) -> dict:
    """Speed (auto) and dev scores with inputs cut to ``length`` tokens (the context goes first)."""
    saved = tagger.max_length_
    tagger.max_length_, tagger.precision = length, "auto"
    try:
        rows = tagger._encode(records)
        start = time.perf_counter()
        tagger._forward(rows)
        rate = len(rows) / (time.perf_counter() - start)
        out = {f"max_length {length}: forward auto": f"{rate:.0f} sentences/s"}
        for name, dev in _dev_splits().items():
            m = _scores(tagger, dev)["metrics"]
            out[f"max_length {length}: {name} scores"] = (f"area macro-F1 {m['area']['macro_f1']:.4f}, "
                                                          f"types micro-F1 {m['types']['micro_f1']:.4f}")
        return out
    finally:
        tagger.max_length_ = saved


def _profile(args, top: int) -> str:
    """cProfile of `govtag.tag.tag` over the folder (auto precision), the ``top`` functions by own time."""
    from govtag.tag import tag

    with tempfile.TemporaryDirectory(prefix="govtag-profile-") as tmp:
        prof = cProfile.Profile()
        prof.runcall(tag, [args.folder], args.model, Path(tmp) / "out.jsonl")
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in text.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return "\n".join(lines[start - 1:start + top + 1])


def step_seconds(config: str, steps: int) -> dict:
    """Seconds per training step (forward, backward, AdamW) of the config's network on a batch of its
    training sentences, fp32 against auto, alternating so that both see the same machine."""
    import torch

    from govtag.backends import get_backend
    from govtag.backends.precision import autocast, autocast_dtype, describe, run_device
    from govtag.config import load_config
    from govtag.schema import load_schema
    from govtag.train import load_training_data

    cfg = load_config(ROOT / config)
    torch.set_num_threads(cfg.run.threads or torch.get_num_threads())
    tagger = get_backend(cfg.backend)(params=cfg.params, seed=cfg.seed)
    train, _, _ = load_training_data(cfg, load_schema())
    tagger.area_labels_, tagger.type_labels_ = list(tagger.schema.areas), list(tagger.schema.types)
    tagger._network(train)
    rows = tagger._labelled(train[:cfg.params.batch_size])
    batch = tagger._collate(sorted(rows, key=lambda r: r["length"]))
    model = tagger.model_.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    times: dict = {"fp32": [], "auto": []}
    for _ in range(steps + 1):  # the first round warms the allocator and autograd up, uncounted
        for precision in times:
            start = time.perf_counter()
            with autocast(run_device(), autocast_dtype(precision, run_device())):
                loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            times[precision].append(time.perf_counter() - start)
    fp32, auto = (float(np.median(times[p][1:])) for p in ("fp32", "auto"))
    shape = f"{len(rows)} x {batch['input_ids'].shape[1]} tokens"
    return {f"train step fp32 ({shape}, median of {steps})": f"{fp32:.2f} s",
            f"train step auto ({describe('auto')})": f"{auto:.2f} s ({fp32 / auto:.2f}x faster)"}


def bench_train(args) -> dict:
    """Step time fp32 against auto, then wall time, peak memory, per-epoch seconds and dev scores of one
    ``govtag train`` run."""
    results: dict = {"config": args.config, "load_average_1min": wait_for_quiet(args.quiet_load, args.wait)}
    if args.steps:
        results.update(step_seconds(args.config, args.steps))
    cmd = govtag("train", "--config", args.config, "--output", args.output, "--precision", args.precision)
    with tempfile.TemporaryDirectory(prefix="govtag-bench-") as tmp:
        log = Path(tmp) / "train.log"
        seconds, peak = run_timed(cmd, log)
        lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if "fine-tuning" in ln]
    results["command"] = " ".join(cmd[1:])
    results["precision"] = lines[0].split("(")[-1].split(")")[0] if lines else args.precision
    results["wall"] = f"{seconds:.0f} s ({seconds / 60:.1f} min), peak {peak:.0f} MB"
    model = ROOT / args.output
    train_log = json.loads((model / "training_log.json").read_text(encoding="utf-8"))
    results["fine-tuning"] = f"{train_log.get('seconds')} s"
    for i, (secs, ep) in enumerate(zip(train_log.get("epoch_seconds", []), train_log.get("epochs", [])), 1):
        results[f"epoch {i}"] = (f"{secs} s, dev area macro-F1 {ep['eval_area_macro_f1']:.4f}, "
                                 f"types micro-F1 {ep['eval_types_micro_f1']:.4f}")
    metrics = json.loads((model / "config.json").read_text(encoding="utf-8")).get("metrics") or {}
    if metrics:
        results["final dev (calibrated, TF-IDF mixed)"] = (
            f"area macro-F1 {metrics['area']['macro_f1']:.4f}, accuracy {metrics['area']['accuracy']:.4f}, "
            f"types micro-F1 {metrics['types']['micro_f1']:.4f}, exact match {metrics['exact_match']:.4f}")
    results["load_average_1min after"] = f"{os.getloadavg()[0]:.2f}"
    return results


def add_parsers(sub, common) -> None:
    """Add the ``tag`` and ``train`` subcommands to bench.py's parser."""
    quiet = [("--quiet-load", float, 1.5, "wait until the 1-minute load average is below this"),
             ("--wait", int, 600, "seconds to wait for a quiet machine at most")]
    tag = sub.add_parser("tag", parents=[common], help="end-to-end tagging and forward speed, fp32 against auto; "
                                                       "bf16/fp32 agreement on the dev splits")
    tag.add_argument("--model", default="models/default")
    tag.add_argument("--folder", default="data/corpus/reports")
    tag.add_argument("--max-lengths", default="", help="also score inputs cut to these lengths, e.g. 48,32")
    tag.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions")
    tag.set_defaults(func=bench_tag)
    train = sub.add_parser("train", parents=[common], help="wall time of a training config, epoch by epoch")
    train.add_argument("--config", default="configs/default.yaml")
    train.add_argument("--output", default="models/default", help="model directory to write")
    train.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    train.add_argument("--steps", type=int, default=5, help="training steps timed per precision first (0: none)")
    train.set_defaults(func=bench_train)
    for p in (tag, train):
        for flag, kind, default, text in quiet:
            p.add_argument(flag, type=kind, default=default, help=text)
