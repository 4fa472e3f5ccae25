"""The correction loop with Label Studio: export the model's least certain sentences as pre-annotated
tasks, and import the finished annotations as govtag training records.

Export writes Label Studio's JSON task format (``data`` + ``predictions``) and the labelling config
(`label_config`); import reads Label Studio's JSON export (tasks with ``annotations``), takes the
latest non-cancelled annotation of each task and checks every label against the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from govtag.errors import GovtagError
from govtag.io import atomic_write
from govtag.schema import Schema, load_schema

AREA, TYPES, TEXT = "area", "types", "text"  # names tying the config's tags to task results


def label_config(schema: Schema) -> str:
    """The Label Studio labelling config: title and section above the sentence, one area, any types.

    Example:
        >>> '<Choice value="乡村振兴"' in label_config(load_schema())
        True
    """
    def choices(entries):
        return "\n".join(f'    <Choice value={quoteattr(e["label"])} hint={quoteattr(e["description"])}/>'
                         for e in entries)

    return f"""<View>
  <Header value="$doc" size="5"/>
  <Text name="section" value="$section" granularity="word"/>
  <Text name="{TEXT}" value="$text"/>
  <Header value="领域 area (one)" size="6"/>
  <Choices name="{AREA}" toName="{TEXT}" choice="single-radio" showInline="true" required="true">
{choices(schema.raw["area"])}
  </Choices>
  <Header value="类型 types (any)" size="6"/>
  <Choices name="{TYPES}" toName="{TEXT}" choice="multiple" showInline="true">
{choices(schema.raw["types"])}
  </Choices>
</View>
"""


def uncertainty(area_p: np.ndarray, type_p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How much a human look is worth per sentence: low when the top two areas are close or a type
    score sits near its threshold (smaller = less certain; sort ascending).

    Args:
        area_p: ``[n, areas]`` calibrated area probabilities.
        type_p: ``[n, types]`` type probabilities.
        thresholds: ``[types]`` decision thresholds.

    Example:
        >>> uncertainty(np.array([[0.5, 0.4, 0.1]]), np.array([[0.9]]), np.array([0.5])).round(2)
        array([0.1])
    """
    top2 = np.sort(area_p, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    # a type score at distance d from its threshold is as doubtful as an area margin of 2d
    nearest = 2 * np.abs(type_p - thresholds).min(axis=1) if type_p.size else np.ones(len(area_p))
    return np.minimum(margin, nearest)


def make_tasks(records: list[dict], area_p: np.ndarray, type_p: np.ndarray, tagger, model_name: str,
               top: int | None = None) -> list[dict]:
    """Label Studio tasks with the model's labels as predictions, least certain first.

    Args:
        records: segmenter records (``file, doc, index, section, text``), headings and chrome excluded.
        area_p, type_p: the model's probabilities for them (`Tagger.predict_proba`).
        tagger: the fitted model (labels and thresholds).
        model_name: shown as the predictions' ``model_version``.
        top: keep only the ``top`` least certain (None: all).

    Returns:
        Task dicts: ``data`` (text, section, doc, file, index, govtag_id) and ``predictions``.
    """
    score = uncertainty(area_p, type_p, tagger.thresholds_)
    order = np.argsort(score, kind="stable")[: top if top else None]
    tasks = []
    for i in order:
        rec = records[i]
        best = int(area_p[i].argmax())
        chosen = [t for t, p, thr in zip(tagger.type_labels_, type_p[i], tagger.thresholds_) if p >= thr]
        result = [{"from_name": AREA, "to_name": TEXT, "type": "choices",
                   "value": {"choices": [tagger.area_labels_[best]]}, "score": round(float(area_p[i, best]), 4)}]
        if chosen:
            result.append({"from_name": TYPES, "to_name": TEXT, "type": "choices", "value": {"choices": chosen}})
        tasks.append({"data": {"text": rec["text"], "section": " > ".join(rec["section"]), "doc": rec["doc"],
                               "section_path": rec["section"], "file": rec.get("file", ""),
                               "index": rec["index"], "govtag_id": f"{rec['doc']}#{rec['index']}"},
                      "predictions": [{"model_version": model_name, "score": round(float(score[i]), 4),
                                       "result": result}]})
    return tasks


def export_tasks(inputs: list[str], model_dir: str | Path, out: str | Path, top: int | None = None) -> dict:
    """Tag reports and write Label Studio tasks (``out``) and ``label_config.xml`` beside it.

    Args:
        inputs: report files, folders or glob patterns.
        model_dir: a trained model directory.
        out: the tasks JSON file to write.
        top: keep the ``top`` least certain sentences (None: every sentence).

    Returns:
        ``{"tasks": n, "sentences": n, "out": path, "config": path}``.

    Example:
        >>> export_tasks(["data/reports/pingyang-keji-2022.txt"], "models/default", "out/tasks.json", top=20)["tasks"]
        20
    """
    from govtag.backends import load_model
    from govtag.segment import segment_file
    from govtag.tag import expand_inputs

    out = Path(out)
    if out.suffix.lower() != ".json":
        raise GovtagError(f"{out}: Label Studio imports a .json file; give -o tasks.json")
    if top is not None and top < 1:
        raise GovtagError(f"--top {top}: must be at least 1 (or leave it out for every sentence)")
    files = expand_inputs(inputs)
    tagger = load_model(model_dir)
    records = []
    for path in files:
        # headings stay in until the model has read them: they are the next sentence's "prev" context
        sents = [{**s.to_dict(), "file": str(path)} for s in segment_file(path)]
        records += sents
    if not any(not r.get("is_heading") and not r.get("is_noise") for r in records):
        raise GovtagError(f"{', '.join(inputs)}: no sentences to annotate (only headings or page chrome)")
    area_p, type_p = tagger.predict_proba(records)
    keep = [i for i, r in enumerate(records) if not r.get("is_heading") and not r.get("is_noise")]
    records = [records[i] for i in keep]
    tasks = make_tasks(records, area_p[keep], type_p[keep], tagger, Path(model_dir).name, top)
    with atomic_write(out, encoding="utf-8") as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    config = out.with_name("label_config.xml")
    with atomic_write(config, encoding="utf-8") as f:
        f.write(label_config(tagger.schema))
    return {"tasks": len(tasks), "sentences": len(records), "out": str(out), "config": str(config)}


def _latest(task: dict) -> dict | None:
    done = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    if not done:
        return None
    return max(done, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0))


def _labels(annotation: dict, where: str, schema: Schema) -> tuple[str, list[str]]:
    area, types = None, []
    for r in annotation.get("result") or []:
        picked = (r.get("value") or {}).get("choices") or []
        if r.get("from_name") == AREA:
            if len(picked) != 1:
                raise GovtagError(f"{where}: area must be exactly one choice, found {picked}")
            area = picked[0]
        elif r.get("from_name") == TYPES:
            types = list(picked)
    if area is None:
        raise GovtagError(f"{where}: the annotation has no area; label it or skip the task in Label Studio")
    if area not in schema.areas:
        raise GovtagError(f"{where}: unknown area {area!r}; expected one of {', '.join(schema.areas)} "
                          "(is this an export of another project?)")
    bad = [t for t in types if t not in schema.types]
    if bad:
        raise GovtagError(f"{where}: unknown type(s) {', '.join(bad)}; expected any of {', '.join(schema.types)}")
    return area, [t for t in schema.types if t in types]


def import_annotations(export: str | Path, out: str | Path, split: str = "train") -> dict:
    """Turn a Label Studio JSON export into govtag training records (JSONL) that `govtag train --train` reads.

    Args:
        export: the JSON file Label Studio exported (Export → JSON).
        out: the JSONL file to write.
        split: ``train`` or ``dev`` for every record.

    Returns:
        ``{"records": n, "skipped": n, "out": path}`` (skipped: tasks with no finished annotation).

    Example:
        >>> import_annotations("project-1-export.json", "data/my-reports.jsonl")["records"]
        120
    """
    schema = load_schema()
    export, out = Path(export), Path(out)
    if split not in ("train", "dev"):
        raise GovtagError(f"--split {split}: expected train or dev")
    try:
        tasks = json.loads(export.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise GovtagError(f"{export}: file not found; export the project from Label Studio as JSON") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GovtagError(f"{export}: not a Label Studio JSON export ({exc}); use Export → JSON") from None
    if not isinstance(tasks, list) or not tasks:
        raise GovtagError(f"{export}: no tasks; expected a non-empty JSON list from Label Studio's Export → JSON")
    records, skipped, seen = [], 0, {}
    for n, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        where = f"{export}: task {task.get('id', n) if isinstance(task, dict) else n}"
        if not isinstance(data, dict) or not isinstance(data.get("text"), str) or "govtag_id" not in data:
            raise GovtagError(f"{where}: not a govtag task (no data.text / data.govtag_id); export tasks "
                              "made by `govtag annotate export`")
        annotation = _latest(task)
        if annotation is None:
            skipped += 1
            continue
        area, types = _labels(annotation, where, schema)
        rec_id = f"ls-{data['govtag_id']}"
        if rec_id in seen and seen[rec_id][:2] != (area, types):
            raise GovtagError(f"{where}: sentence {data['govtag_id']} is labelled differently in task "
                              f"{seen[rec_id][2]}; keep one of the two annotations")
        seen[rec_id] = (area, types, task.get("id", n))
        records.append({"id": rec_id, "doc": data.get("doc", ""), "section": list(data.get("section_path") or []),
                        "text": data["text"], "area": area, "types": types, "split": split})
    if not records:
        raise GovtagError(f"{export}: none of its {len(tasks)} tasks has a finished annotation; label some first")
    records = list({r["id"]: r for r in records}.values())
    with atomic_write(out, encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return {"records": len(records), "skipped": skipped, "out": str(out)}
