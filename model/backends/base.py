"""The interface every backend implements, and what they share: calibration, prediction rows, save/load.

A backend is an estimator in scikit-learn's shape: ``__init__`` only stores hyperparameters, ``fit``
returns self, learned state ends in ``_``. Evaluation and tagging code hold a `Tagger` and never ask
which backend it is. A trained model is a directory (see `Tagger.save`):

    config.json   backend, format version, label lists, schema, params, thresholds, temperature, metrics
    README.md     the model card
    ...           the backend's own weight files (no pickle)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

import numpy as np

from govtag import __version__
from govtag.calibrate import expected_calibration_error, fit_temperature, softmax, tune_thresholds
from govtag.errors import GovtagError
from govtag.schema import Schema, load_schema

FORMAT_VERSION = 1
REVIEW_AREA_SCORE = 0.6  # a calibrated area score below this asks for a human look
REVIEW_MARGIN = 0.1      # a type score this close to its threshold asks for a human look


class Tagger(ABC):
    """Predicts one area and a set of types for each sentence record.

    Records are dicts with ``text``, ``doc`` (report title), ``section`` (heading path) and optionally
    ``prev`` (the sentence before); labelled records also carry ``area`` and ``types``.

    Args:
        params: the backend's hyperparameters (an instance of its ``Params`` dataclass).
        schema: the label schema; defaults to the schema shipped with govtag.
        seed: random seed for everything the backend draws.

    Example:
        >>> tagger = get_backend("tfidf")(seed=13).fit(train_records, dev_records)
        >>> tagger.predict([{"text": "新增高新技术企业35家。", "doc": "某县科技局2022年工作总结",
        ...                  "section": ["一、2022年工作总结"]}])[0]["area"]
        '主体'
    """

    backend: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params=None, schema: Schema | None = None, seed: int = 13):
        self.params = params if params is not None else self.Params()
        self.schema = schema if schema is not None else load_schema()
        self.seed = seed

    # --- what a backend implements -------------------------------------------------------------
    @abstractmethod
    def _fit(self, train: list[dict], dev: list[dict] | None) -> None:
        """Learn from labelled records (dev may be used for model selection only)."""

    @abstractmethod
    def _scores(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(area_logits [n, A], type_probs [n, T])``, columns in schema order."""

    @abstractmethod
    def _save_weights(self, directory: Path) -> None:
        """Write the learned weights into ``directory`` (no pickle)."""

    @abstractmethod
    def _load_weights(self, directory: Path) -> None:
        """Read what `_save_weights` wrote and restore the learned state."""

    # --- shared behaviour ----------------------------------------------------------------------
    def fit(self, train: list[dict], dev: list[dict] | None = None) -> "Tagger":
        """Train on ``train``; when ``dev`` is given, tune type thresholds and the area temperature on it.

        Returns:
            self, fitted.
        """
        if not train:
            raise GovtagError("the training split is empty; give training records (a JSONL file whose "
                              "records have no split field or split: train)")
        self.area_labels_ = list(self.schema.areas)
        self.type_labels_ = list(self.schema.types)
        self.thresholds_ = np.full(len(self.type_labels_), 0.5)
        self.temperature_ = 1.0
        self.calibration_: dict = {"fitted_on": None}
        self._fit(train, dev or None)
        if dev:
            self.calibrate(dev)
        return self

    def calibrate(self, dev: list[dict]) -> dict:
        """Tune per-type thresholds (max F1) and fit the area temperature on labelled dev records.

        Returns:
            ``{"fitted_on": n, "temperature": t, "ece_before": e0, "ece_after": e1, "thresholds": {...}}``.
        """
        self._check_fitted()
        logits, type_probs = self._scores(dev)
        gold_area = np.array([self.area_labels_.index(r["area"]) for r in dev])
        gold_types = np.array([[int(t in r["types"]) for t in self.type_labels_] for r in dev])
        self.thresholds_ = tune_thresholds(type_probs, gold_types)
        before = expected_calibration_error(softmax(logits), gold_area)
        self.temperature_ = fit_temperature(logits, gold_area)
        after = expected_calibration_error(softmax(logits, self.temperature_), gold_area)
        self.calibration_ = {"fitted_on": len(dev), "temperature": round(self.temperature_, 4),
                             "ece_before": before, "ece_after": after,
                             "thresholds": dict(zip(self.type_labels_, self.thresholds_.round(2).tolist()))}
        return self.calibration_

    def _check_fitted(self) -> None:
        if not hasattr(self, "area_labels_"):
            raise GovtagError(f"this {type(self).__name__} is not fitted yet; call fit(train, dev) "
                              "or load a trained model directory with govtag.backends.load_model(path)")

    def predict_proba(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated area probabilities ``[n, A]`` and type probabilities ``[n, T]``, schema order.

        Example:
            >>> area_p, type_p = tagger.predict_proba([{"text": "加强党风廉政教育。", "doc": "", "section": []}])
            >>> tagger.area_labels_[area_p[0].argmax()]
            '党建'
        """
        self._check_fitted()
        if not records:
            return np.zeros((0, len(self.area_labels_))), np.zeros((0, len(self.type_labels_)))
        logits, type_probs = self._scores(records)
        return softmax(logits, self.temperature_), type_probs

    def predict(self, records: list[dict]) -> list[dict]:
        """Labels, scores and a review flag for each record.

        Returns:
            One dict per record: ``area``, ``area_score``, ``types`` (schema order), ``type_scores``
            ({type: probability}) and ``review`` (True when the area score is low or a type score sits
            within 0.1 of its threshold).

        Example:
            >>> tagger.predict([{"text": "2023年拟新增高新技术企业35家。", "doc": "",
            ...                  "section": ["二、2023年工作思路"]}])[0]["types"]
            ['plan', 'metric']
        """
        area_p, type_p = self.predict_proba(records)
        rows = []
        for a, t in zip(area_p, type_p):
            best = int(a.argmax())
            chosen = [lab for lab, p, thr in zip(self.type_labels_, t, self.thresholds_) if p >= thr]
            unsure = bool(a[best] < REVIEW_AREA_SCORE or np.any(np.abs(t - self.thresholds_) < REVIEW_MARGIN))
            rows.append({"area": self.area_labels_[best], "area_score": round(float(a[best]), 4),
                         "types": chosen,
                         "type_scores": {lab: round(float(p), 4) for lab, p in zip(self.type_labels_, t)},
                         "review": unsure})
        return rows

    def save(self, path: str | Path, config: dict | None = None, metrics: dict | None = None,
             data: dict | None = None) -> Path:
        """Write the model directory atomically (built in a temp folder, then renamed into place).

        Args:
            path: the model directory; an existing one is replaced only once the new one is complete.
            config: the resolved training config, saved verbatim.
            metrics: dev metrics to record in config.json and the card.
            data: what it was trained on (files, counts, hash) for the card.

        Returns:
            The directory.
        """
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            self._save_weights(tmp)
            meta = {
                "format_version": FORMAT_VERSION, "backend": self.backend, "govtag_version": __version__,
                "area_labels": self.area_labels_, "type_labels": self.type_labels_,
                "schema": self.schema.raw, "params": asdict(self.params), "seed": self.seed,
                "thresholds": dict(zip(self.type_labels_, [float(x) for x in self.thresholds_])),
                "temperature": float(self.temperature_), "calibration": self.calibration_,
                "metrics": metrics or {}, "data": data or {}, "config": config or {},
            }
            (tmp / "config.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
            from govtag.card import render_card  # the card reads config.json's shape only
            (tmp / "README.md").write_text(render_card(meta), encoding="utf-8")
            tmp.chmod(0o755)  # mkdtemp makes it owner-only; a model folder is meant to be shared
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                path.rename(old)
                tmp.rename(path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return path

    def _restore(self, meta: dict, directory: Path) -> "Tagger":
        self.area_labels_ = list(meta["area_labels"])
        self.type_labels_ = list(meta["type_labels"])
        self.thresholds_ = np.array([meta["thresholds"][t] for t in self.type_labels_])
        self.temperature_ = float(meta["temperature"])
        self.calibration_ = meta.get("calibration", {})
        self._load_weights(directory)
        return self
