"""Build data/corpus/ from the authored reports: raw files as users have them, and their labelled lines.

Each authored report (``data/corpus/authoring/*.jsonl``: a meta line, then one labelled record per
title line, heading and sentence) is rendered to the raw file a user would hold — lines or a glued
web copy; UTF-8 or GB18030 text, or .docx — under ``data/corpus/reports/``. The raw file is then run
through govtag's segmenter, and the labels are attached to the segmenter's records, so
``data/corpus/corpus.jsonl`` is exactly what ``govtag segment`` gives for each raw file, labelled.
Reports are split train/dev by report (every sixth report is dev).

    python scripts/build_corpus.py            # rebuild everything, print a summary
    python scripts/build_corpus.py --import-synthetic ../shared/data/synthetic/reports.jsonl
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from govtag.schema import load_schema  # noqa: E402
from govtag.segment import segment_file  # noqa: E402

CORPUS = ROOT / "data" / "corpus"
AUTHORING = CORPUS / "authoring"
HEADING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])")


def read_authored(path: Path) -> tuple[dict, list[dict]]:
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    meta, items = lines[0], lines[1:]
    if not meta.get("meta"):
        raise SystemExit(f"{path}:1: first line must be the meta object")
    return meta, items


def render(meta: dict, items: list[dict]) -> str:
    """The raw text: lines layout puts the title, each heading and each paragraph on its own line
    (sentences of one section form a paragraph); glued layout concatenates everything."""
    if meta["layout"] == "glued":
        return "".join(it["text"] for it in items)
    out, para = [], []
    for i, it in enumerate(items):
        if i == 0 or it.get("heading"):
            if para:
                out.append("".join(para))
                para = []
            out.append(it["text"])
        else:
            para.append(it["text"])
            # long paragraphs read naturally as several; break after every 4 sentences
            if len(para) == 4:
                out.append("".join(para))
                para = []
    if para:
        out.append("".join(para))
    return "\n".join(out) + "\n"


def write_raw(meta: dict, text: str, folder: Path) -> Path:
    safe = re.sub(r'[\\/:*?"<>|\s]', "", meta["title"])
    if meta.get("format") == "docx":
        import docx

        path = folder / f"{safe}.docx"
        d = docx.Document()
        for line in text.rstrip("\n").split("\n"):
            d.add_paragraph(line)
        d.core_properties.created = __import__("datetime").datetime(2024, 1, 1)  # reproducible file
        d.save(path)
        return path
    path = folder / f"{safe}.txt"
    path.write_bytes(text.encode(meta.get("encoding", "utf-8")))
    return path


def align(segs: list[dict], items: list[dict], where: str) -> tuple[list[dict], int]:
    """Attach authored labels to segmenter records by character overlap.

    The segmenter is lossless, so both sides concatenate to the same text; each record takes the
    label of the authored line it overlaps most. Returns (label item per record, records whose text
    is not exactly one authored line).
    """
    authored = "".join(it["text"] for it in items)
    if "".join(s["text"] for s in segs) != authored:
        raise SystemExit(f"{where}: segmenter output does not reproduce the authored text")
    bounds, pos = [], 0
    for it in items:
        bounds.append((pos, pos + len(it["text"])))
        pos += len(it["text"])
    labels, inexact, pos = [], 0, 0
    for s in segs:
        a, b = pos, pos + len(s["text"])
        pos = b
        overlap = [max(0, min(b, e) - max(a, st)) for st, e in bounds]
        best = max(range(len(items)), key=lambda i: overlap[i])
        labels.append(items[best])
        inexact += (bounds[best] != (a, b))
    return labels, inexact


def import_synthetic(path: Path) -> None:
    """Turn the shared synthetic reports (labelled lines, no raw text) into authoring files S001.jsonl…"""
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    by_doc: dict[str, list[dict]] = collections.defaultdict(list)
    for r in recs:
        by_doc[r["doc"]].append(r)
    for n, (doc, rs) in enumerate(sorted(by_doc.items(), key=lambda kv: kv[1][0]["id"]), 1):
        heads = {h for r in rs for h in r["section"]}
        meta = {"meta": True, "title": doc, "department": "", "shape": "", "year": None, "layout": "lines",
                "encoding": "gb18030" if n % 5 == 0 else "utf-8", "format": "docx" if n in (7, 19) else "txt",
                "source": "shared/data/synthetic"}
        items = [{"text": r["text"], "area": r["area"], "types": r["types"],
                  "heading": r["text"] in heads or bool(HEADING.match(r["text"]))} for r in rs]
        (AUTHORING / f"S{n:03d}.jsonl").write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [meta, *items]), encoding="utf-8")


CARD_HEAD = """# Data card

Everything in `data/` may be committed. The public provincial reports in `../shared/data/` may not;
they are read by path (`--public`, `GOVTAG_PUBLIC_DATA`).

## `reports/` and `seed.jsonl`

`reports/pingyang-keji-2022.txt` is a county science-and-technology bureau's 2022 summary and 2023
plan as scraped from a web page of sample reports (numbers stripped, headings glued to the text, cut
off at 5,000 characters). `seed.jsonl` holds its 87 hand-annotated sentences (ids `seed-NNN`, all
`split: train`). The annotators cut the glued web-page title into its own sentence; the segmenter
keeps it with the first sentence.

## `corpus/`: synthetic county and district department reports

**The corpus is synthetic.** Every report was written for this project by its developers (the first
32 by the project's maintainers, `S001`-`S032`, from `../shared/data/synthetic/`; the rest, `R1xx`-`R4xx`,
by this team), in the genre govtag's users feed it: county and district department summaries and
plans. Counties, people, firms and numbers are invented; no sentence was copied from a real
document. Labels follow `docs/labels.md`; a `note` field records a labeller's doubt.

How it is built (`python scripts/build_corpus.py`): each authored report in `corpus/authoring/`
(a meta line, then one labelled line per title, heading and sentence) is rendered to the raw file a
user would hold — one heading or paragraph per line, or a glued web copy with the title run into the
body, numbers stripped and `xx` placeholders; UTF-8 or GB18030 text, or Word — under
`corpus/reports/`. The raw file is segmented by govtag's own segmenter and the labels are attached to
its records by character overlap, so `corpus/corpus.jsonl` is exactly `govtag segment` of each raw
file, labelled (a glued title merges into the first sentence, which keeps that sentence's labels).
Every sixth report is `split: dev`, the rest `train`.

How it was checked: `python scripts/check_corpus.py data/corpus/corpus.jsonl` flags `plan` under a
looking-back chapter and `achievement` under a forward one, `metric` with no number, placeholder or
unit, areas that disagree with strong cue words, and exact or near duplicates across reports. Each
flag was read again and either fixed in the authoring file or confirmed with a reason in
`corpus/confirmed.jsonl`.
"""


def _table(title: str, counter: collections.Counter, total: int | None = None) -> list[str]:
    lines = ["", f"| {title} | count |" + (" share |" if total else ""), "|---|---|" + ("---|" if total else "")]
    for k, v in counter.most_common():
        lines.append(f"| {k} | {v} |" + (f" {v / total:.1%} |" if total else ""))
    return lines


def write_card(metas: list[dict], records: list[dict]) -> None:
    """Write data/README.md with the corpus counts as they are now."""
    n = len(records)
    lines = [CARD_HEAD, "## Counts", "",
             f"{len(metas)} reports, {n} labelled sentences "
             f"({sum(r['split'] == 'train' for r in records)} train, {sum(r['split'] == 'dev' for r in records)} dev)."]
    dept = collections.Counter(m.get("kind") or "other" for m in metas)
    lines += _table("department (reports)", dept)
    lines += _table("shape (reports)", collections.Counter(m.get("shape") or "annual/half-year + plan" for m in metas))
    lines += _table("raw file (reports)", collections.Counter(
        f"{m.get('format', 'txt')}, {m.get('encoding', 'utf-8') if m.get('format', 'txt') == 'txt' else 'Word'}, "
        f"{m.get('layout', 'lines')}" for m in metas))
    lines += _table("area (sentences)", collections.Counter(r["area"] for r in records), n)
    lines += _table("type (sentences)", collections.Counter(t for r in records for t in r["types"] or ["(none)"]), n)
    (ROOT / "data" / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


DEPARTMENTS = [("人才", "人才办 / 组织部人才工作"), ("组织部", "人才办 / 组织部人才工作"), ("农业农村", "农业农村局"),
               ("乡村振兴", "乡村振兴局"), ("科协", "科协"), ("经信", "经信局 / 经济和信息化局"), ("经济和信息化", "经信局 / 经济和信息化局"),
               ("科技和工业信息化", "科技局 / 科学技术局 / 科工局 / 科经局"), ("科技", "科技局 / 科学技术局 / 科工局 / 科经局"),
               ("科学技术", "科技局 / 科学技术局 / 科工局 / 科经局"), ("科工", "科技局 / 科学技术局 / 科工局 / 科经局"),
               ("科经", "科技局 / 科学技术局 / 科工局 / 科经局")]
OWN_CONDUCT = re.compile(r"党建|党风廉政|巡察|文明单位|政务公开|法治|绩效自评|述职|述廉|意识形态")


def kind_of(title: str) -> str:
    """The report's department family (own-conduct reports are counted as such), for the data card."""
    if OWN_CONDUCT.search(title):
        return "own conduct (党建, 廉政, 巡察整改, 文明创建, 政务公开, 法治, 绩效自评, 述职)"
    for cue, name in DEPARTMENTS:
        if cue in title:
            return name
    return "other"


def build() -> dict:
    schema = load_schema()
    reports_dir = CORPUS / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    for old in reports_dir.iterdir():
        old.unlink()
    out, summary, metas = [], collections.Counter(), []
    files = sorted(AUTHORING.glob("*.jsonl"))
    for k, path in enumerate(files):
        meta, items = read_authored(path)
        metas.append({**meta, "kind": kind_of(meta["title"])})
        for i, it in enumerate(items):
            if it["area"] not in schema.areas or not set(it["types"]) <= set(schema.types):
                raise SystemExit(f"{path}:{i + 2}: bad label {it['area']} {it['types']}")
        raw = write_raw(meta, render(meta, items), reports_dir)
        segs = [s.to_dict() for s in segment_file(raw)]
        labels, inexact = align(segs, items, path.name)
        summary["inexact"] += inexact
        if inexact:
            print(f"{path.name}: {inexact} segmenter record(s) differ from the authored lines", file=sys.stderr)
        split = "dev" if k % 6 == 3 else "train"
        rid = path.stem[1:] if path.stem.startswith("S") else path.stem[1:]
        prefix = "synth" if path.stem.startswith("S") else "corpus"
        for s, lab in zip(segs, labels):
            rec = {"id": f"{prefix}-{rid}-{s['index']:03d}", "doc": s["doc"], "section": s["section"],
                   "text": s["text"], "area": lab["area"], "types": [t for t in schema.types if t in lab["types"]],
                   "split": split, "file": f"reports/{raw.name}"}
            if lab.get("note"):
                rec["note"] = lab["note"]
            out.append(rec)
        summary["reports"] += 1
    (CORPUS / "corpus.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out),
                                         encoding="utf-8")
    summary["sentences"] = len(out)
    write_card(metas, out)
    return dict(summary)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--import-synthetic", type=Path, help="convert the shared synthetic reports first")
    args = ap.parse_args()
    if args.import_synthetic:
        import_synthetic(args.import_synthetic)
    print(json.dumps(build(), ensure_ascii=False))


if __name__ == "__main__":
    main()
