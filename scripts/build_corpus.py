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
from govtag.reflow import hard_wrap  # noqa: E402
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
    (sentences of one section form a paragraph); glued layout concatenates everything; wrapped is the
    lines layout hard-wrapped at ``meta["width"]`` characters, as text copied out of a PDF is; chrome
    is the lines layout with a sample-report site's banners, buttons and page counters around it."""
    if meta["layout"] == "glued":
        return "".join(it["text"] for it in items)
    text = _lines(items, excerpt=meta.get("shape") == "excerpt")
    if meta["layout"] == "wrapped":
        return hard_wrap(text.rstrip("\n"), int(meta["width"])) + "\n"
    if meta["layout"] == "chrome":
        return _with_chrome(text, meta)
    if meta["layout"] != "lines":
        raise SystemExit(f"{meta['title']}: unknown layout {meta['layout']!r}; expected lines, glued, wrapped, chrome")
    return text


def _with_chrome(text: str, meta: dict) -> str:
    """Insert what a saved 范文-site page carries: a breadcrumb, buttons and fields after the title,
    a page counter every dozen lines, and navigation at the end (all whole lines, as the sites have)."""
    seed = sum(map(ord, meta["title"]))
    lines = text.rstrip("\n").split("\n")
    pages = len(lines) // 12 + 1
    head = [lines[0], "当前位置：首页 > 范文大全 > 工作总结", "正文复制 收藏 举报",
            f"上传人：{'张王李赵陈刘'[seed % 6]}** 文档编号：WK{seed * 7919 % 1000000:06d}"]
    body = []
    for i, line in enumerate(lines[1:], 1):
        body.append(line)
        if i % 12 == 0:
            body.append(f"第{i // 12}页 / 共{pages}页" if seed % 2 else f"— {i // 12} —")
    tail = ["下载文档 收藏 分享", f"上一篇：{meta.get('year') or 2023}年度述职报告范文"]
    return "\n".join(head + body + tail) + "\n"


def _lines(items: list[dict], excerpt: bool = False) -> str:
    out, para = [], []
    for i, it in enumerate(items):
        if (i == 0 and not excerpt) or it.get("heading"):  # an excerpt starts mid-report, with no title
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
    authored = "".join(_bare(it["text"]) for it in items)
    body = [s for s in segs if not s.get("is_noise")]
    if "".join(_bare(s["text"]) for s in body) != authored:
        raise SystemExit(f"{where}: segmenter output does not reproduce the authored text")
    bounds, pos = [], 0
    for it in items:
        bounds.append((pos, pos + len(_bare(it["text"]))))
        pos += len(_bare(it["text"]))
    labels, inexact, pos = [], 0, 0
    for s in segs:
        if s.get("is_noise"):  # page chrome the build inserted: not report text, 其他 with no type
            labels.append({"area": "其他", "types": []})
            continue
        a, b = pos, pos + len(_bare(s["text"]))
        pos = b
        overlap = [max(0, min(b, e) - max(a, st)) for st, e in bounds]
        best = max(range(len(items)), key=lambda i: overlap[i])
        labels.append(items[best])
        inexact += (bounds[best] != (a, b))
    return labels, inexact


def _bare(text: str) -> str:
    """Text without whitespace: a wrapped copy's records differ from the authored lines only there."""
    return re.sub(r"\s", "", text)


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


CUES = {"平台": "平台|实验室|研究院|孵化|众创空间|园区|高新区|综合体|技术市场|技术合同",
        "主体": "企业|高企|科技型中小|研发投入|研发费用", "人才": "人才|专家|团队|博士|院士|引才|育才",
        "乡村振兴": "乡村|农村|农业|农民|特派员|茶|粮|村集体", "党建": "党建|党风|廉|作风|纪律|党组|支部|意识形态"}


def realism(records: list[dict]) -> dict:
    """The statistics real reports are matched on (issue: real reports), for a list of labelled records
    of whole reports: body-sentence length, heading depth, sentences naming several areas, plans,
    titles naming one area, and how far "every sentence takes its title's area" gets."""
    by_doc = collections.defaultdict(list)
    for r in records:
        by_doc[r["doc"]].append(r)
    heads = {h for r in records for h in r["section"]}
    body = [r for r in records if not r.get("is_noise") and r["text"] not in heads and r["text"] != r["doc"]]
    multi = sum(sum(bool(re.search(c, r["text"])) for c in CUES.values()) >= 2 for r in body)
    deep = sum(max(len(r["section"]) for r in rs) >= 3 for rs in by_doc.values())
    plans = sum(sum("plan" in r["types"] for r in rs) >= 0.2 * len(rs) for rs in by_doc.values())
    title_area = {d: next((r["area"] for r in rs if r["text"] == d), "其他") for d, rs in by_doc.items()}
    return {"reports": len(by_doc), "body sentences": len(body),
            "body-sentence length (mean chars)": round(sum(len(re.sub(r"\s", "", r["text"])) for r in body)
                                                       / max(len(body), 1), 1),
            "reports with ≥ 3 heading levels": f"{deep / len(by_doc):.0%}",
            "body sentences naming ≥ 2 areas (cue words)": f"{multi / max(len(body), 1):.0%}",
            "reports with ≥ 20 % plan sentences": plans,
            "titles naming one area": f"{sum(a != '其他' for a in title_area.values()) / len(by_doc):.0%}",
            "sentences whose area is the title's area": f"{sum(r['area'] == title_area[r['doc']] for r in records) / len(records):.0%}",
            "其他 share": f"{sum(r['area'] == '其他' for r in records) / len(records):.0%}"}


def _realism_table(metas: list[dict], records: list[dict]) -> list[str]:
    seed = [json.loads(x) for x in (ROOT / "data" / "seed.jsonl").read_text(encoding="utf-8").splitlines() if x]
    new = [r for r in records if r["id"].split("-")[1][0] in "5678"]
    cols = {"seed (real county report)": realism(seed), "corpus, all": realism(records),
            "corpus, G reports (real-statistics set)": realism(new)}
    lines = ["", "## How the corpus compares with real reports", "",
             "Computed by `scripts/build_corpus.py` (cue-word counts are rough).", "",
             "| statistic | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for key in cols["corpus, all"]:
        lines.append(f"| {key} | " + " | ".join(str(c[key]) for c in cols.values()) + " |")
    layouts = collections.Counter(m.get("layout", "lines") for m in metas)
    lines += ["", f"Raw copies: {layouts['wrapped']} hard-wrapped, {layouts['chrome']} with 范文-site chrome, "
              f"{layouts['glued']} glued web copies; "
              f"{sum(m.get('shape') == 'excerpt' for m in metas)} excerpts without headings; "
              f"{sum(m.get('shape') == 'gov-work-report' for m in metas)} 政府工作报告."]
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
    lines += _realism_table(metas, records)
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
    # every sixth report of a series is dev; the series are counted apart so that adding the G
    # reports (written to match real statistics) left the split of the first 120 reports as it was
    series = collections.Counter()
    for path in files:
        group = "G" if path.stem.startswith("G") else "RS"
        k = series[group]
        series[group] += 1
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
            if s.get("is_noise"):
                rec["is_noise"] = True
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
