"""Flag likely label errors in an annotated JSONL file for a second reading.

Checks: ``plan`` under a looking-back section or ``achievement`` under a forward one; ``metric`` with
no number, placeholder or unit; an area that disagrees with strong cue words; exact and near
duplicates across reports; and the guide's rules 10-15 and types rule 3 by cue words: farmer and
rural-talent training not 乡村振兴 (rule 10), the technology market not 平台 (11), the department's
own management not 党建 (12), a 其他 opener naming several areas (13), a title against the
department's field (14), an expert station against its section (15), a count of activities without
``metric`` (types 3). A flag is settled either by fixing the label or by confirming it in
``data/corpus/confirmed.jsonl`` (``{"id", "check", "reason"}`` per line).

    python scripts/check_corpus.py data/corpus/corpus.jsonl            # list open flags, counts
    python scripts/check_corpus.py data/corpus/corpus.jsonl --strict   # exit 1 while any is open
    python scripts/check_corpus.py --authoring data/corpus/authoring/R*.jsonl   # before a rebuild

``--authoring`` reads authoring files (or folders of them) and segments them as
``scripts/build_corpus.py`` does, in a temporary folder, so the ids are the ones the build gives and
each flag also names the authoring file and line to edit; nothing under ``data/`` is written.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = Path(__file__).resolve().parent.parent
CONFIRMED = ROOT / "data" / "corpus" / "confirmed.jsonl"

BACK = re.compile(r"总结|回顾|成效|完成情况|工作情况|开展情况|取得|进展|成绩|亮点|落实情况|自评|履职情况|整改情况")
FORWARD = re.compile(r"思路|计划|打算|安排|要点|下一步|下半年|今后|展望|目标任务|重点任务|工作重点|努力方向")
NUMBER = re.compile(r"[0-9０-９%％]|xx|XX|×|[一二三四五六七八九十百千万]+(家|个|项|名|人|次|场|篇|批|座|所|条|户|亩|期)|"
                    r"亿元|万元|万平方米|平方米|完成率|增速|增长|占比|比重|排名|第[一二三四五六七八九十]")
CUES = {
    "平台": r"工作站|孵化器|众创空间|实验室|研究院|创新中心|高新区|科创园|创新服务综合体|技术转移|新型研发机构|加速器",
    "主体": r"企业|高新技术企业|高企|科技型中小企业|专精特新|企业研发|研发费用|企业技术中心|瞪羚|科技企业",
    "人才": r"人才|博士|专家|院士|领军|创新团队|引才|育才|博士后|工程师",
    # rule 10: rural talent (乡土人才, 田秀才, 土专家) is 乡村振兴 even though 人才 and 专家 are in the words
    "乡村振兴": r"特派员|农业|农村|农民|乡村|茶园|粮食|种植|养殖|村集体|帮扶村|农产品|乡土|田秀才|土专家|农创客",
    "党建": r"党风廉政|党组|党支部|廉政|廉洁|作风建设|意识形态|巡察|主题教育|支部|纪律|党员|从严治党",
}

# Rules 10-15 and types rule 3 of the guide: cue words that mark a likely breach, read in context.
RURAL_TRAINING = re.compile(r"高素质农民|职业农民|乡土人才|农村实用人才|乡村人才|农村人才|乡村振兴人才|农业科技人才|农技人员|"
                            r"乡村工匠|田秀才|土专家|农创客|头雁|乡贤|乡村运营师|农村电商人才|乡村科技带头人|返乡入乡|"
                            r"农村科普|科普惠农|科普带头人|科普骨干|农民培训|培训农民")
TECH_MARKET = re.compile(r"技术合同|技术市场|技术交易|技术经纪")
OWN_MANAGEMENT = re.compile(r"部门预算|预算执行|绩效自评|法治政府|依法行政|政务公开|信息公开|保密|档案管理|档案工作|机关档案|"
                            r"文书档案|机关安全|述职述廉|内控")
EXPERT_STATION = re.compile(r"(院士|专家|博士后)[^，,。；;、]{0,6}工作站|博士后创新实践基地")
# "12次", "4期", "xx人次"; not an ordinal (第2次, 五届人大五次会议), a frequency (每月1次) or a building phase (二期)
ACTIVITY_COUNT = re.compile(r"(?<![第每])(?:(?:[0-9０-９]+|xx|XX)(?:余|多)?(?:次|期|场|人次|家次|批次|轮|堂)|"
                            r"[两二三四五六七八九十百千]+(?:余|多)?(?:次(?!会议|全会|全体|党代会)|场|人次|家次|批次|轮|堂))")
# The areas an opener names (rule 13); rule 8's non-platforms are taken out first.
NAMED_AREAS = {"平台": r"平台|载体|孵化|实验室|研究院|高新区|科创园|技术市场|技术合同", "主体": r"企业|主体培育|创新主体|高企",
               "人才": r"人才|专家|团队|引才|育才", "乡村振兴": r"乡村|农业|农村|农民|特派员",
               "党建": r"党建|党风|廉政|党的建设|从严治党"}
NOT_PLATFORM = re.compile(r"工业互联网平台|融资平台|平台经济|服务平台")
# A title's field (rule 14): own-conduct reports first (巡察整改 is 党建 whatever the department),
# then one-area departments and subjects; a general department's report is 其他.
TITLE_FIELDS = [("党建", r"党建|党风|廉政|巡察|党史|主题教育|意识形态|述廉|政务公开|法治政府|绩效自评|文明单位|机关党委"),
                ("乡村振兴", r"农业农村|乡村振兴|农业局|特派员|农村|科普惠农|农业科技园"),
                ("人才", r"人才"), ("平台", r"高新区|高新技术产业开发区|高新技术产业园区|科创平台|孵化器|实验室"),
                ("主体", r"企业")]


def title_area(title: str) -> str:
    """The area rule 14 gives a report's title, e.g. '芷阳县农业农村局2021年工作总结' -> '乡村振兴'."""
    return next((area for area, cue in TITLE_FIELDS if re.search(cue, title)), "其他")


def named_areas(text: str) -> list[str]:
    """The areas a sentence names, in the order it names them (for rule 13)."""
    text = NOT_PLATFORM.sub("", text)
    first = {a: m.start() for a, p in NAMED_AREAS.items() if (m := re.search(p, text))}
    return sorted(first, key=first.get)


def section_area(r: dict, heading_area: dict) -> str:
    """The area of the innermost heading above a record that names an area other than 其他, or ''."""
    areas = [heading_area.get((r["doc"], h), "其他") for h in r["section"]]
    return next((a for a in reversed(areas) if a != "其他"), "")


def rule_flags(r: dict, heading_area: dict, opener: bool) -> list[tuple[str, str]]:
    """(check, detail) for a record's likely breaches of rules 10-15 and types rule 3; ``opener``: the
    record opens its report or its section (rule 13 is about openers; elsewhere a list of problems or
    measures naming several areas is usually 其他 by rule 1)."""
    text, area, out = r["text"], r["area"], []
    if text == r["doc"]:  # the title line: rule 14 only
        want = title_area(text)
        if area != want or r["types"]:
            out.append(("rule14-title", f"{area} {r['types']}, field gives {want} []"))
        return out
    if (m := RURAL_TRAINING.search(text)) and area != "乡村振兴":
        out.append(("rule10-rural-training", f"{area} but {m.group()}"))
    if (m := TECH_MARKET.search(text)) and area != "平台":
        out.append(("rule11-tech-market", f"{area} but {m.group()}"))
    if (m := OWN_MANAGEMENT.search(text)) and area != "党建":
        out.append(("rule12-own-management", f"{area} but {m.group()}"))
    if opener and area == "其他" and len(named := named_areas(text)) >= 2:
        out.append(("rule13-first-item", f"其他 but names {'、'.join(named)}"))
    if m := EXPERT_STATION.search(text):
        want = section_area(r, heading_area) or "人才"
        if area != want:
            out.append(("rule15-expert-station", f"{area} but {m.group()} under {want} ({' > '.join(r['section'])})"))
    if (m := ACTIVITY_COUNT.search(text)) and "metric" not in r["types"]:
        out.append(("types3-count-not-metric", f"{r['types']} but {m.group()}"))
    return out


def direction(section: list[str]) -> str | None:
    """'back' or 'forward' from the outermost heading that says which (the chapter decides), else None."""
    for head in section:
        back, fwd = bool(BACK.search(head)), bool(FORWARD.search(head))
        if back != fwd:
            return "back" if back else "forward"
    return None


def check(records: list[dict]) -> list[dict]:
    records = [r for r in records if not r.get("is_noise")]  # page chrome the build inserted repeats by design
    flags = []
    heads = {(r["doc"], h) for r in records for h in r["section"]}
    heading_area = {(r["doc"], r["text"]): r["area"] for r in records if (r["doc"], r["text"]) in heads}
    for i, r in enumerate(records):
        prev = records[i - 1] if i and records[i - 1]["doc"] == r["doc"] else None
        opener = prev is None or prev["text"] == r["doc"] or prev["text"] in r["section"][-1:]
        flags += [{"id": r["id"], "check": c, "detail": d} for c, d in rule_flags(r, heading_area, opener)]
        d = direction(r["section"])
        if d == "back" and "plan" in r["types"] and "achievement" not in r["types"]:
            flags.append({"id": r["id"], "check": "plan-in-past-section", "detail": " > ".join(r["section"])})
        if d == "forward" and "achievement" in r["types"] and "plan" not in r["types"]:
            flags.append({"id": r["id"], "check": "achievement-in-forward-section", "detail": " > ".join(r["section"])})
        if "metric" in r["types"] and not NUMBER.search(r["text"]):
            flags.append({"id": r["id"], "check": "metric-without-number", "detail": r["text"][:40]})
        hits = {a: set(re.findall(p, r["text"])) for a, p in CUES.items()}
        strong = [a for a, h in hits.items() if len(h) >= 2]
        if len(strong) == 1 and strong[0] != r["area"] and not hits.get(r["area"]) and r["area"] != "其他":
            flags.append({"id": r["id"], "check": "area-vs-cues",
                          "detail": f"{r['area']} but cues {strong[0]}: {'、'.join(sorted(hits[strong[0]]))}"})
    # duplicates across reports: cosine of character 3-gram TF-IDF, sentences of 12+ characters
    body = [r for r in records if len(r["text"]) >= 12 and r["text"] != r["doc"]]
    if body:
        x = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), lowercase=False).fit_transform(r["text"] for r in body)
        sim = (x @ x.T).tocoo()
        for i, j, v in zip(sim.row, sim.col, sim.data):
            if i < j and v >= 0.8 and body[i]["doc"] != body[j]["doc"]:
                kind = "duplicate" if body[i]["text"] == body[j]["text"] else "near-duplicate"
                flags.append({"id": body[j]["id"], "check": kind,
                              "detail": f"{np.round(v, 2)} with {body[i]['id']}: {body[j]['text'][:30]}"})
    return flags


def authored_records(paths: list[Path]) -> list[dict]:
    """The records scripts/build_corpus.py would build from authoring files, each with ``where``
    (authoring file and line), built in a temporary folder so nothing under data/ changes."""
    # the build's own steps, so that ids and sections are the ones the built corpus will have
    from build_corpus import align, read_authored, render, write_raw

    from govtag.segment import segment_file

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            meta, items = read_authored(path)
            segs = [s.to_dict() for s in segment_file(write_raw(meta, render(meta, items), Path(tmp)))]
            labels, _ = align(segs, items, path.name)
            line = {id(it): n for n, it in enumerate(items, 2)}
            prefix = "synth" if path.stem.startswith("S") else "corpus"  # the build's id scheme
            for s, lab in zip(segs, labels):
                if id(lab) in line:  # page chrome the build inserts carries no authored label
                    out.append({"id": f"{prefix}-{path.stem[1:]}-{s['index']:03d}", "doc": s["doc"],
                                "section": s["section"], "text": s["text"], "area": lab["area"],
                                "types": lab["types"], "where": f"{path.name}:{line[id(lab)]}"})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path, help="corpus JSONL files, or authoring files/folders with --authoring")
    ap.add_argument("--authoring", action="store_true", help="the files are authoring files (a folder: its *.jsonl)")
    ap.add_argument("--strict", action="store_true", help="exit 1 while any flag is neither fixed nor confirmed")
    ap.add_argument("--json", type=Path, help="write all flags (open and confirmed) here")
    args = ap.parse_args()
    if args.authoring:
        records = authored_records([p for f in args.files for p in (sorted(f.glob("*.jsonl")) if f.is_dir() else [f])])
    else:
        records = [json.loads(x) for f in args.files for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    confirmed = {}
    if CONFIRMED.exists():
        for x in CONFIRMED.read_text(encoding="utf-8").splitlines():
            if x.strip():
                c = json.loads(x)
                confirmed[(c["id"], c["check"])] = c["reason"]
    flags = check(records)
    where = {r["id"]: r["where"] for r in records if "where" in r}
    for f in flags:
        if f["id"] in where:
            f["where"] = where[f["id"]]
    open_flags = [f for f in flags if (f["id"], f["check"]) not in confirmed]
    for f in open_flags:
        print(f"{f['id']}\t{f['check']}\t{f['detail']}" + (f"\t{f['where']}" if "where" in f else ""))
    counts = collections.Counter(f["check"] for f in flags)
    opened = collections.Counter(f["check"] for f in open_flags)
    print(f"{len(records)} sentences; flags: " + ", ".join(f"{k} {v} ({opened.get(k, 0)} open)" for k, v in sorted(counts.items()))
          + f"; {len(open_flags)} open in total", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(flags, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if args.strict and open_flags else 0


if __name__ == "__main__":
    sys.exit(main())
