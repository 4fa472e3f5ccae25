"""Training: read the config's data, fit the chosen backend, score it on dev, save the model directory."""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

import numpy as np

from govtag.backends.store import check_model_output
from govtag.config import Config, resolve_path
from govtag.data import load_records, split_records
from govtag.errors import GovtagError
from govtag.evaluate import compute_metrics, format_summary
from govtag.schema import Schema, load_schema


def _files(paths: list[str]) -> list[Path]:
    out = []
    for p in paths:
        path = resolve_path(p)
        if not path.is_file():
            raise GovtagError(f"{p}: data file not found; fix the path in the config's data section "
                              "or pass --train/--dev")
        out.append(path)
    return out


def load_training_data(cfg: Config, schema: Schema, note=None) -> tuple[list[dict], list[dict], dict]:
    """Gather train and dev records as the config says.

    Train files and the public file are split by each record's ``split`` field (none → train); every
    record of a dev file is dev. Ids must be unique across all files.

    Args:
        cfg: the resolved config; its ``data`` section names the files.
        schema: the labels records must use.
        note: called with one line when repeated records were taken once.

    Returns:
        ``(train, dev, info)`` where info names the files, counts and a SHA-256 of their bytes.

    Example:
        From the project folder, ``load_training_data(load_config("configs/baseline.yaml"), load_schema())``
        returns the seed and corpus sentences (such as "新增高新技术企业35家。") split into train and dev.
    """
    train_files = _files(cfg.data.train) + (_files([cfg.data.public]) if cfg.data.public else [])
    dev_files = _files(cfg.data.dev)
    records = load_records(train_files, schema, note)
    train, dev = split_records(records)
    if dev_files:
        extra = load_records(dev_files, schema, note)
        clash = {r["id"] for r in extra} & {r["id"] for r in records}
        if clash:
            raise GovtagError(f"id {sorted(clash)[0]!r} is in both a training and a dev file; "
                              "a sentence may not be trained and scored on")
        dev += extra
    if not train:
        raise GovtagError(f"the training split is empty: every record in {', '.join(map(str, train_files))} "
                          "has split: dev; give a file with training records")
    digest = hashlib.sha256()
    for f in train_files + dev_files:
        digest.update(f.read_bytes())
    info = {"train_files": [str(f) for f in train_files], "dev_files": [str(f) for f in dev_files],
            "train_sentences": len(train), "dev_sentences": len(dev),
            "test_sentences_held_out": sum(r.get("split") == "test" for r in records),
            "sha256": digest.hexdigest()[:16]}
    return train, dev, info


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when loaded) torch, so a config reproduces its model."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # the TF-IDF baseline runs without torch
        return
    torch.manual_seed(seed)


def train(cfg: Config, progress=print) -> dict:
    """Fit the configured backend, score it on dev, and save the model directory.

    Args:
        cfg: the resolved config (`govtag.config.load_config`).
        progress: where status lines go.

    Returns:
        ``{"output": dir, "seconds": s, "metrics": dev metrics or None, "data": info}``.

    The output path is checked before anything is read or trained (`check_model_output`): only a model
    directory of the same backend (any backend with ``cfg.force``) is ever replaced, never a folder
    holding the data.

    Example:
        From the project folder, ``train(load_config("configs/baseline.yaml"))`` writes ``models/baseline``,
        a model that tags "加强党风廉政教育。" 党建.
    """
    from govtag.backends import get_backend

    start = time.perf_counter()
    data_files = [*cfg.data.train, *cfg.data.dev, *([cfg.data.public] if cfg.data.public else [])]
    check_model_output(cfg.output, cfg.backend, cfg.force, keep=[resolve_path(f) for f in data_files])
    schema = load_schema()
    train_recs, dev_recs, info = load_training_data(cfg, schema, progress)
    progress(f"training {cfg.backend} on {info['train_sentences']} sentences "
             f"(dev {info['dev_sentences']}) from {', '.join(info['train_files'])}")
    seed_everything(cfg.seed)
    tagger = get_backend(cfg.backend)(params=cfg.params, schema=schema, seed=cfg.seed)
    tagger.fit(train_recs, dev_recs, cfg.run)
    metrics = None
    if dev_recs:
        metrics = compute_metrics(dev_recs, tagger.predict(dev_recs), schema)
        cal = tagger.calibration_
        metrics["calibration"] = {"ece": cal["ece_after"], "ece_uncalibrated": cal["ece_before"],
                                  "temperature": cal["temperature"]}
        progress("dev scores:\n" + format_summary(metrics))
    else:
        progress("no dev split: type thresholds stay at 0.5 and area scores are uncalibrated")
    out = tagger.save(cfg.output, config=cfg.to_dict(), metrics=metrics, data=info, force=cfg.force)
    seconds = time.perf_counter() - start
    progress(f"saved {out} in {seconds:.1f} s")
    return {"output": str(out), "seconds": round(seconds, 1), "metrics": metrics, "data": info}
