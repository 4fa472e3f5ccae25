"""The model card: a README.md written into every model directory from its config.json."""

from __future__ import annotations

import json

from govtag.evaluate import prf_table


def _fmt(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def render_card(meta: dict) -> str:
    """Render the card for a model directory.

    Args:
        meta: the content of the model's config.json (backend, labels, params, thresholds,
            calibration, metrics, data).

    Returns:
        Markdown text.

    Example:
        >>> print(render_card({"backend": "tfidf", "area_labels": ["平台", "乡村振兴"], "type_labels": ["plan"],
        ...     "params": {}, "thresholds": {"plan": 0.5}, "temperature": 1.0}).splitlines()[0])
        # govtag model (tfidf)
    """
    lines = [f"# govtag model ({meta['backend']})", "",
             "Tags each sentence of a Chinese government work report with one work area and a set of "
             "sentence types. Load it with `govtag tag REPORT --model <this folder>` or "
             "`govtag.backends.Tagger.load(path)`.", "",
             f"- format version: {meta.get('format_version')}; govtag {meta.get('govtag_version')}",
             f"- areas: {', '.join(meta['area_labels'])}",
             f"- types: {', '.join(meta['type_labels'])}",
             f"- seed: {meta.get('seed')}"]
    params = meta.get("params", {})
    if "encoder" in params:
        lines.append(f"- base encoder: `{params['encoder']}`")
    data = meta.get("data") or {}
    if data:
        lines += ["", "## Data", ""]
        lines += [f"- {k}: {v}" for k, v in data.items()]
    lines += ["", "## Hyperparameters", "", "```json"]
    lines += [json.dumps(params, ensure_ascii=False, indent=2), "```", "",
              "## Decision rules", "",
              "Type thresholds (tuned for F1 on dev): "
              + ", ".join(f"{k} {_fmt(v)}" for k, v in meta["thresholds"].items()),
              f"Area temperature: {_fmt(meta['temperature'])}"]
    cal = meta.get("calibration") or {}
    if cal.get("fitted_on"):
        lines.append(f"Area expected calibration error on dev: {_fmt(cal['ece_before'])} before, "
                     f"{_fmt(cal['ece_after'])} after temperature scaling ({cal['fitted_on']} sentences).")
    else:
        lines.append("No dev split was given: thresholds are 0.5 and scores are uncalibrated.")
    m = meta.get("metrics") or {}
    if m.get("area"):
        lines += ["", f"## Dev scores ({m.get('n')} sentences)", "",
                  f"- area accuracy {_fmt(m['area']['accuracy'])}, macro-F1 {_fmt(m['area']['macro_f1'])}",
                  f"- types micro-F1 {_fmt(m['types']['micro_f1'])}, macro-F1 {_fmt(m['types']['macro_f1'])}",
                  f"- exact match (area and types) {_fmt(m['exact_match'])}", "",
                  *prf_table(m["area"]["per_class"], "area", markdown=True)]
    lines += ["", "## Limits", "",
              "Trained on county/district department reports and provincial government work reports; "
              "other genres may score lower. Rows flagged `review` deserve a human look.", ""]
    return "\n".join(lines)
