"""The interface every backend implements, and what they share: context, calibration, prediction rows,
save and load.

A backend is an estimator in scikit-learn's shape: ``__init__`` only stores hyperparameters, ``fit``
returns self, learned state ends in ``_``. Evaluation and tagging code hold a `Tagger` and never ask
which backend it is. A trained model is a directory (see `Tagger.save` and `govtag.backends.store`):

    config.json   backend, format version, label lists, schema, params, thresholds, temperature, metrics
    README.md     the model card
    ...           the backend's own weight files (no pickle)
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from govtag import __version__
from govtag.backends.store import FORMAT_VERSION, check_model_output, read_model_config, replaceable_by
from govtag.calibrate import expected_calibration_error, fit_temperature, softmax, tune_thresholds
from govtag.context import with_previous
from govtag.errors import GovtagError
from govtag.io import atomic_directory
from govtag.schema import Schema, load_schema

REVIEW_AREA_SCORE = 0.6  # a calibrated area score below this asks for a human look
REVIEW_MARGIN = 0.1      # a type score this close to its threshold asks for a human look


@dataclass
class RunOptions:
    """How one training run goes, as opposed to the model it makes: never saved as a hyperparameter.

    Attributes:
        threads: CPU threads for torch while training (0: torch's default).
        checkpoint_dir: where checkpoints go while training; None: ``$GOVTAG_HOME/checkpoints/<run>``.
        resume: continue from the last checkpoint of this same run (``govtag train --resume``).
        precision: ``auto`` (bf16 autocast where the processor computes bf16 natively, else fp32), ``bf16``
            or ``fp32`` (`govtag.backends.precision`); the weights it trains are fp32 either way.
    """

    threads: int = 2
    checkpoint_dir: str | None = None
    resume: bool = False
    precision: str = "auto"

    def check(self) -> list[tuple[str, str]]:
        from govtag.backends.precision import PRECISIONS

        p = [("threads", "must be >= 0")] if self.threads < 0 else []
        if self.precision not in PRECISIONS:
            p.append(("precision", f"expected one of {', '.join(PRECISIONS)}"))
        return p


class Tagger(ABC):
    """Predicts one area and a set of types for each sentence record.

    Records are dicts with ``text``, ``doc`` (report title) and ``section`` (heading path), in report
    order: the Tagger gives each its previous sentence (`govtag.context.with_previous`) before fitting
    or scoring. Labelled records also carry ``area`` and ``types``.

    Args:
        params: the backend's hyperparameters (an instance of its ``Params`` dataclass).
        schema: the label schema; defaults to the schema shipped with govtag.
        seed: random seed for everything the backend draws.

    Example:
        >>> from govtag.backends import get_backend
        >>> rec = {"doc": "某县2023年工作计划", "section": []}
        >>> train = [{**rec, "text": t, "area": a, "types": ty} for t, a, ty in [
        ...     ("加强党风廉政教育。", "党建", []), ("新增高新技术企业35家。", "主体", ["metric"])]]
        >>> tagger = get_backend("tfidf")(seed=13).fit(train)
        >>> tagger.predict([{**rec, "text": "加强党风廉政建设。"}])[0]["area"]
        '党建'
    """

    backend: ClassVar[str]
    Params: ClassVar[type]
    resumable: ClassVar[bool] = False  # whether training keeps checkpoints that RunOptions.resume continues
    # how a network computes (auto, bf16, fp32): a run-time setting that `fit` and `load` take, never saved;
    # backends without a network ignore it
    precision: str = "auto"

    def __init__(self, params=None, schema: Schema | None = None, seed: int = 13):
        self.params = params if params is not None else self.Params()
        self.schema = schema if schema is not None else load_schema()
        self.seed = seed

    # --- what a backend implements -------------------------------------------------------------
    @abstractmethod
    def _fit(self, train: list[dict], dev: list[dict] | None, run: RunOptions) -> None:
        """Learn from labelled records with context attached (dev may be used for model selection only)."""

    @abstractmethod
    def _scores(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(area_logits [n, A], type_probs [n, T])``, columns in schema order."""

    @abstractmethod
    def _save_weights(self, directory: Path) -> None:
        """Write the learned weights into ``directory`` (no pickle)."""

    @abstractmethod
    def _load_weights(self, directory: Path) -> None:
        """Read what `_save_weights` wrote and restore the learned state (`store.reading` names bad files)."""

    # --- shared behaviour ----------------------------------------------------------------------
    def fit(self, train: list[dict], dev: list[dict] | None = None, run: RunOptions | None = None) -> "Tagger":
        """Train on ``train``; when ``dev`` is given, tune type thresholds and the area temperature on it.

        Args:
            train: labelled records, in report order.
            dev: labelled records for model selection and calibration (never trained on).
            run: how the run goes (threads, checkpoints, resume); defaults to `RunOptions()`.

        Returns:
            self, fitted.
        """
        if not train:
            raise GovtagError("the training split is empty; give training records (a JSONL file whose "
                              "records have no split field or split: train)")
        areas = sorted({r["area"] for r in train})
        if len(areas) < 2:
            raise GovtagError(f"the training split holds sentences of one area only ({areas[0]}); a model needs "
                              "at least two areas to tell apart: add labelled sentences of other areas")
        self.area_labels_ = list(self.schema.areas)
        self.type_labels_ = list(self.schema.types)
        self.thresholds_ = np.full(len(self.type_labels_), 0.5)
        self.temperature_ = 1.0
        self.calibration_: dict = {"fitted_on": None}
        dev = with_previous(dev) if dev else None
        run = run or RunOptions()
        self.precision = run.precision
        self._fit(with_previous(train), dev, run)
        if dev:
            self.calibrate(dev)
        return self

    def calibrate(self, dev: list[dict]) -> dict:
        """Tune per-type thresholds (max F1) and fit the area temperature on labelled dev records.

        Returns:
            ``{"fitted_on": n, "temperature": t, "ece_before": e0, "ece_after": e1, "thresholds": {...}}``.
        """
        self._check_fitted()
        logits, type_probs = self._scores(with_previous(dev))
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
                              "or load a trained model directory with Tagger.load(path)")

    def predict_proba(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated area probabilities ``[n, A]`` and type probabilities ``[n, T]``, schema order.

        Example:
            For a fitted ``tagger``, ``tagger.predict_proba([{"text": "加强党风廉政教育。", "doc": "",
            "section": []}])`` returns arrays of shape ``(1, 6)`` and ``(1, 3)``; each area row sums to 1.
        """
        self._check_fitted()
        if not records:
            return np.zeros((0, len(self.area_labels_))), np.zeros((0, len(self.type_labels_)))
        logits, type_probs = self._scores(with_previous(records))
        return softmax(logits, self.temperature_), type_probs

    def predict(self, records: list[dict]) -> list[dict]:
        """Labels, scores and a review flag for each record.

        Returns:
            One dict per record: ``area``, ``area_score``, ``types`` (schema order), ``type_scores``
            ({type: probability}) and ``review`` (True when the area score is low or a type score sits
            within 0.1 of its threshold).

        Example:
            A fitted default model gives "2023年拟新增高新技术企业35家。" under "二、2023年工作思路"
            ``types`` ``['plan', 'metric']``; see the class example for a run.
        """
        return self.decide(*self.predict_proba(records))

    def decide(self, area_p: np.ndarray, type_p: np.ndarray) -> list[dict]:
        """The rows `predict` returns, from probabilities `predict_proba` gave: lets a caller that needs
        both (``govtag evaluate``) run the model once.

        Example:
            For a fitted ``tagger`` and records such as "加强党风廉政教育。",
            ``tagger.decide(*tagger.predict_proba(records)) == tagger.predict(records)``.
        """
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

    # --- the model directory -------------------------------------------------------------------
    def save(self, path: str | Path, config: dict | None = None, metrics: dict | None = None,
             data: dict | None = None, force: bool = False) -> Path:
        """Write the model directory atomically (built in a hidden temporary folder, then renamed into place).

        Args:
            path: the model directory; an existing model directory of this backend is replaced only once
                the new one is complete. Anything else there is refused (`store.check_model_output`).
            config: the resolved training config, saved verbatim.
            metrics: dev metrics to record in config.json and the card.
            data: what it was trained on (files, counts, hash) for the card.
            force: allow replacing a model directory of another backend.

        Returns:
            The directory.
        """
        from govtag.card import render_card  # the card reads config.json's shape only

        self._check_fitted()
        path = check_model_output(path, self.backend, force)
        with atomic_directory(path, replaceable_by(self.backend, force)) as tmp:
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
            (tmp / "README.md").write_text(render_card(meta), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path, schema: Schema | None = None, precision: str = "auto") -> "Tagger":
        """Load a model directory: check config.json strictly, then restore the backend it names.

        Args:
            path: the directory `Tagger.save` wrote.
            schema: the schema the caller works with; defaults to the schema shipped with govtag. A model
                trained under different labels is refused.
            precision: how its network computes: ``auto``, ``bf16`` or ``fp32`` (`RunOptions.precision`).

        Returns:
            The fitted Tagger of the saved backend (a subclass of ``cls``).

        Example:
            After ``govtag train --config configs/baseline.yaml``,
            ``Tagger.load("models/baseline").predict([{"text": "加强党风廉政教育。", "doc": "",
            "section": []}])[0]["area"]`` is ``'党建'``.
        """
        from govtag.backends.precision import check_precision

        check_precision(precision)
        saved = read_model_config(path, schema or load_schema())
        if not issubclass(saved.cls, cls):
            raise GovtagError(f"{path}: holds a {saved.meta['backend']} model, not a {cls.backend} one; "
                              "load it with govtag.backends.Tagger.load")
        tagger = saved.cls(params=saved.params, schema=saved.schema, seed=saved.meta["seed"])
        meta = saved.meta
        tagger.area_labels_ = list(meta["area_labels"])
        tagger.type_labels_ = list(meta["type_labels"])
        tagger.thresholds_ = np.array([float(meta["thresholds"][t]) for t in tagger.type_labels_])
        tagger.temperature_ = float(meta["temperature"])
        tagger.calibration_ = meta.get("calibration", {})
        tagger.precision = precision
        tagger._load_weights(Path(path))
        return tagger
