"""Scoring a model on labelled sentences: metrics.json, report.md, a confusion-matrix picture
(`govtag.plots`), errors.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from govtag.calibrate import expected_calibration_error, reliability
from govtag.errors import GovtagError
from govtag.io import atomic_write, check_output_file, csv_safe, pad
from govtag.plots import plot_confusion
from govtag.schema import Schema


def area_macro_f1(gold: list, pred: list) -> float:
    """Area macro-F1, the one definition model selection and `govtag evaluate` share.

    The mean F1 over the areas present in gold or predictions (scikit-learn's default label set): an
    area predicted but absent from gold counts with F1 0, since those predictions are all wrong, while
    an area in neither has no F1 to count.

    Args:
        gold: gold areas (labels or indices).
        pred: predicted areas, same order.

    Example:
        >>> round(area_macro_f1(["乡村振兴", "其他"], ["乡村振兴", "党建"]), 4)   # 乡村振兴 1, 其他 0, 党建 0
        0.3333
    """
    labels = sorted(set(gold) | set(pred))
    return float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))


def prf_table(per_label: dict, head: str, markdown: bool = False) -> list[str]:
    """The precision/recall/F1/support table of `compute_metrics`' ``per_class`` or ``per_type``: Markdown
    for reports and model cards, padded columns (Chinese counted as two) for the terminal.

    Example:
        >>> for line in prf_table({"乡村振兴": {"precision": 0.9, "recall": 0.8, "f1": 0.8471, "support": 12}},
        ...                       "area", markdown=True):
        ...     print(line)
        | area | precision | recall | F1 | support |
        |---|---|---|---|---|
        | 乡村振兴 | 0.900 | 0.800 | 0.847 | 12 |
    """
    if markdown:
        return [f"| {head} | precision | recall | F1 | support |", "|---|---|---|---|---|"] + [
            f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
            for k, v in per_label.items()]
    return [f"  {pad(head, 12)}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"] + [
        f"  {pad(k, 12)}{v['precision']:>7.3f}{v['recall']:>7.3f}{v['f1']:>7.3f}{v['support']:>6}"
        for k, v in per_label.items()]


def compute_metrics(gold: list[dict], pred: list[dict], schema: Schema) -> dict:
    """Area and type scores in the stable shape scripts rely on.

    Args:
        gold: labelled records (``area``, ``types``).
        pred: predictions in the same order (``area``, ``types``), e.g. from `Tagger.predict`.
        schema: fixes the label order.

    Returns:
        ``{"n", "area": {"accuracy", "macro_f1", "per_class": {label: {"precision", "recall", "f1",
        "support"}}, "confusion": [[...]]}, "types": {"micro_f1", "macro_f1", "per_type": {...}},
        "exact_match"}``; area macro-F1 is `area_macro_f1`.

    Example:
        >>> from govtag.schema import load_schema
        >>> g = [{"area": "党建", "types": ["achievement"]}]  # 加强党风廉政教育。
        >>> compute_metrics(g, [{"area": "党建", "types": ["achievement"]}], load_schema())["exact_match"]
        1.0
    """
    areas, types = list(schema.areas), list(schema.types)
    ga = [r["area"] for r in gold]
    pa = [r["area"] for r in pred]
    p, r, f, s = precision_recall_fscore_support(ga, pa, labels=areas, zero_division=0)
    gt = np.array([[int(t in x["types"]) for t in types] for x in gold]).reshape(-1, len(types))
    pt = np.array([[int(t in x["types"]) for t in types] for x in pred]).reshape(-1, len(types))
    tp, tr, tf, ts = precision_recall_fscore_support(gt, pt, average=None, zero_division=0)
    exact = np.mean([a == b and set(x["types"]) == set(y["types"])
                     for a, b, x, y in zip(ga, pa, gold, pred)]) if gold else 0.0
    return {
        "n": len(gold),
        "area": {
            "accuracy": round(float(accuracy_score(ga, pa)), 4),
            "macro_f1": round(area_macro_f1(ga, pa), 4),
            "per_class": {a: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                              "f1": round(float(f[i]), 4), "support": int(s[i])} for i, a in enumerate(areas)},
            "confusion": confusion_matrix(ga, pa, labels=areas).tolist(),
        },
        "types": {
            "micro_f1": round(float(f1_score(gt, pt, average="micro", zero_division=0)), 4),
            "macro_f1": round(float(f1_score(gt, pt, average="macro", zero_division=0)), 4),
            "per_type": {t: {"precision": round(float(tp[i]), 4), "recall": round(float(tr[i]), 4),
                             "f1": round(float(tf[i]), 4), "support": int(ts[i])} for i, t in enumerate(types)},
        },
        "exact_match": round(float(exact), 4),
    }


def format_summary(m: dict) -> str:
    """The printed summary: area accuracy and macro-F1 with per-class P/R/F1, types micro/macro-F1
    with per-type P/R/F1, and exact match.

    Example:
        >>> from govtag.schema import load_schema
        >>> gold = [{"area": "乡村振兴", "types": ["plan"]}]   # 2023年拟新建高标准农田1万亩。
        >>> print(format_summary(compute_metrics(gold, gold, load_schema())).splitlines()[0])
        1 sentences
    """
    out = [f"{m['n']} sentences",
           f"area   accuracy {m['area']['accuracy']:.3f}   macro-F1 {m['area']['macro_f1']:.3f}",
           *prf_table(m["area"]["per_class"], "area"),
           f"types  micro-F1 {m['types']['micro_f1']:.3f}   macro-F1 {m['types']['macro_f1']:.3f}",
           *prf_table(m["types"]["per_type"], "type")]
    out.append(f"exact match (area + types) {m['exact_match']:.3f}")
    if "calibration" in m:
        out.append(f"area calibration error (ECE) {m['calibration']['ece']:.3f}")
    return "\n".join(out)


def _report_md(m: dict, model_dir: str, data: list[str], n_errors: int) -> str:
    lines = ["# govtag evaluation", "", f"- model: `{model_dir}`", f"- data: {', '.join(f'`{d}`' for d in data)}",
             f"- sentences: {m['n']}", "", "## Area", "",
             f"Accuracy {m['area']['accuracy']:.3f}, macro-F1 {m['area']['macro_f1']:.3f}.", "",
             *prf_table(m["area"]["per_class"], "area", markdown=True)]
    lines += ["", "![area confusion matrix](confusion.png)", "", "## Types", "",
              f"Micro-F1 {m['types']['micro_f1']:.3f}, macro-F1 {m['types']['macro_f1']:.3f}.", "",
              *prf_table(m["types"]["per_type"], "type", markdown=True)]
    lines += ["", f"Exact match (area and types both right): {m['exact_match']:.3f}.", ""]
    cal = m.get("calibration")
    if cal:
        lines += ["## Calibration of the area score", "", f"Expected calibration error {cal['ece']:.3f}.", "",
                  "| confidence bin | sentences | mean confidence | accuracy |", "|---|---|---|---|"]
        lines += [f"| {b['bin']} | {b['count']} | {b['confidence']:.3f} | {b['accuracy']:.3f} |"
                  for b in cal["bins"] if b["count"]]
    lines += ["", f"## Errors", "", f"{n_errors} sentences with a wrong area or type set are listed in "
              "`errors.csv` with gold and predicted labels and scores.", ""]
    return "\n".join(lines)


def evaluate(model_dir: str | Path, data: list[str | Path], report_dir: str | Path | None = None,
             split: str | None = None, precision: str = "auto") -> dict:
    """Score a trained model on labelled JSONL files and, optionally, write the full report.

    Args:
        model_dir: a model directory from `govtag train`.
        data: labelled JSONL files.
        report_dir: where to write metrics.json, report.md, confusion.png and errors.csv.
        split: score only records with this ``split`` value (``dev``); None scores every record.
        precision: how the network computes: ``auto``, ``bf16`` or ``fp32`` (`govtag.backends.precision`).

    Returns:
        The metrics (`compute_metrics` shape plus ``calibration``).

    Example:
        After ``govtag train``, ``evaluate("models/default", ["data/corpus/corpus.jsonl"], split="dev")``
        scores the corpus' dev sentences (such as "加强党风廉政教育。") and returns the metrics.
    """
    from govtag.backends import load_model
    from govtag.data import load_records

    if report_dir is not None:  # refused before the model runs, not after the work
        check_output_file(Path(report_dir) / "report.md")
    tagger = load_model(model_dir, precision=precision)
    records = load_records(list(data), tagger.schema)  # the tagger attaches each record's context
    if split is not None:
        records = [r for r in records if r.get("split", "train") == split]
        if not records:
            raise GovtagError(f"no record in {', '.join(map(str, data))} has split: {split}; "
                              "drop --split to score every record")
    area_p, type_p = tagger.predict_proba(records)
    pred = tagger.decide(area_p, type_p)  # the model runs once
    m = compute_metrics(records, pred, tagger.schema)
    gold_idx = np.array([tagger.area_labels_.index(r["area"]) for r in records])
    m["calibration"] = {"ece": expected_calibration_error(area_p, gold_idx), "bins": reliability(area_p, gold_idx)}
    if report_dir is not None:
        out = Path(report_dir)
        out.mkdir(parents=True, exist_ok=True)
        errors = [(g, p) for g, p in zip(records, pred)
                  if g["area"] != p["area"] or set(g["types"]) != set(p["types"])]
        with atomic_write(out / "errors.csv", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "doc", "section", "text", "gold_area", "pred_area", "area_score",
                        "gold_types", "pred_types", *[f"score_{t}" for t in tagger.type_labels_]])
            for g, p in errors:
                w.writerow([csv_safe(v) for v in [
                    g["id"], g["doc"], " > ".join(g["section"]), g["text"], g["area"], p["area"], p["area_score"],
                    "|".join(g["types"]), "|".join(p["types"]), *[p["type_scores"][t] for t in tagger.type_labels_]]])
        plot_confusion(m, tagger.schema, out / "confusion.png")
        with atomic_write(out / "metrics.json", encoding="utf-8") as f:
            json.dump(m, f, ensure_ascii=False, indent=2)
        with atomic_write(out / "report.md", encoding="utf-8") as f:
            f.write(_report_md(m, str(model_dir), [str(d) for d in data], len(errors)))
    return m
