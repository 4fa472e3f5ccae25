"""Flag likely label errors in an annotated JSONL file for a second reading.

Checks: ``plan`` under a looking-back section or ``achievement`` under a forward one; ``metric`` with
no number, placeholder or unit; an area that disagrees with strong cue words; exact and near
duplicates across reports. A flag is settled either by fixing the label or by confirming it in
``data/corpus/confirmed.jsonl`` (``{"id", "check", "reason"}`` per line).

    python scripts/check_corpus.py data/corpus/corpus.jsonl            # list open flags, counts
    python scripts/check_corpus.py data/corpus/corpus.jsonl --strict   # exit 1 while any is open
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
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
    "乡村振兴": r"特派员|农业|农村|农民|乡村|茶园|粮食|种植|养殖|村集体|帮扶村|农产品",
    "党建": r"党风廉政|党组|党支部|廉政|廉洁|作风建设|意识形态|巡察|主题教育|支部|纪律|党员|从严治党",
}


def direction(section: list[str]) -> str | None:
    """'back' or 'forward' from the outermost heading that says which (the chapter decides), else None."""
    for head in section:
        back, fwd = bool(BACK.search(head)), bool(FORWARD.search(head))
        if back != fwd:
            return "back" if back else "forward"
    return None


def check(records: list[dict]) -> list[dict]:
    flags = []
    for r in records:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--strict", action="store_true", help="exit 1 while any flag is neither fixed nor confirmed")
    ap.add_argument("--json", type=Path, help="write all flags (open and confirmed) here")
    args = ap.parse_args()
    records = [json.loads(x) for f in args.files for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    confirmed = {}
    if CONFIRMED.exists():
        for x in CONFIRMED.read_text(encoding="utf-8").splitlines():
            if x.strip():
                c = json.loads(x)
                confirmed[(c["id"], c["check"])] = c["reason"]
    flags = check(records)
    open_flags = [f for f in flags if (f["id"], f["check"]) not in confirmed]
    for f in open_flags:
        print(f"{f['id']}\t{f['check']}\t{f['detail']}")
    counts = collections.Counter(f["check"] for f in flags)
    opened = collections.Counter(f["check"] for f in open_flags)
    print(f"{len(records)} sentences; flags: " + ", ".join(f"{k} {v} ({opened.get(k, 0)} open)" for k, v in sorted(counts.items()))
          + f"; {len(open_flags)} open in total", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(flags, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if args.strict and open_flags else 0


if __name__ == "__main__":
    sys.exit(main())
