"""The classical baseline: character n-gram TF-IDF of the sentence and its context, logistic regression.

Trains in seconds and is the bar the transformer must clear. Features are the sentence's character
n-grams plus separate n-gram blocks for each context part (report title, section path, previous
sentence), because the section heading alone often decides achievement vs plan. The area is one
multinomial logistic regression; each type is its own binary one. Weights are saved as JSON and
``.npz`` arrays, never pickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from govtag.backends.base import RunOptions, Tagger
from govtag.backends.store import reading, require_finite
from govtag.context import context_part, context_problem


@dataclass
class TfidfParams:
    """Hyperparameters of the TF-IDF baseline (see configs/baseline.yaml for each key's meaning)."""

    ngram_min: int = 1
    ngram_max: int = 3
    min_df: int = 1
    max_features: int = 300000
    context: list[str] = field(default_factory=lambda: ["doc", "section"])
    context_weight: float = 0.3
    c_area: float = 10.0
    c_types: float = 10.0
    class_weight: str = "balanced"

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if not 1 <= self.ngram_min <= self.ngram_max:
            problems.append(("ngram_max", "must be >= ngram_min >= 1"))
        if self.min_df < 1:
            problems.append(("min_df", "must be >= 1"))
        if self.max_features < 1:
            problems.append(("max_features", "must be >= 1"))
        if context_problem(self.context):
            problems.append(("context", context_problem(self.context)))
        if self.context_weight < 0:
            problems.append(("context_weight", "must be >= 0"))
        for key in ("c_area", "c_types"):
            if getattr(self, key) <= 0:
                problems.append((key, "must be > 0"))
        if self.class_weight not in ("balanced", "none"):
            problems.append(("class_weight", "expected balanced or none"))
        return problems


class TfidfTagger(Tagger):
    """Character n-gram TF-IDF + logistic regression, behind the common `Tagger` interface.

    Example:
        >>> rec = {"doc": "某县2023年工作计划", "section": ["二、2023年工作思路"], "types": ["plan"]}
        >>> t = TfidfTagger().fit([{**rec, "text": "加强党风廉政教育。", "area": "党建"},
        ...                        {**rec, "text": "培育高新技术企业。", "area": "主体"}])
        >>> t.predict([{**rec, "text": "加强党风廉政建设。"}])[0]["area"]
        '党建'
    """

    backend = "tfidf"
    Params = TfidfParams

    def _vectorizer(self) -> TfidfVectorizer:
        p = self.params
        return TfidfVectorizer(analyzer="char", ngram_range=(p.ngram_min, p.ngram_max), min_df=p.min_df,
                               max_features=p.max_features, sublinear_tf=True, lowercase=False)

    def _blocks(self) -> list[str]:
        return ["text", *self.params.context]

    def _features(self, records: list[dict]) -> sp.csr_matrix:
        mats = []
        for name in self._blocks():
            texts = [r["text"] if name == "text" else context_part(r, name) for r in records]
            weight = 1.0 if name == "text" else self.params.context_weight
            mats.append(self.vectorizers_[name].transform(texts) * weight)
        return sp.hstack(mats, format="csr")

    def _fit(self, train: list[dict], dev: list[dict] | None, run: RunOptions) -> None:
        self.vectorizers_ = {}
        for name in self._blocks():
            texts = [r["text"] if name == "text" else context_part(r, name) for r in train]
            vec = self._vectorizer()
            # a context part that is empty everywhere has no vocabulary; keep a placeholder term
            vec.fit([t or "∅" for t in texts])
            self.vectorizers_[name] = vec
        x = self._features(train)
        cw = "balanced" if self.params.class_weight == "balanced" else None
        y_area = np.array([self.area_labels_.index(r["area"]) for r in train])
        area = LogisticRegression(C=self.params.c_area, class_weight=cw, max_iter=3000,
                                  random_state=self.seed).fit(x, y_area)
        # classes missing from train still need a column: give them a very negative bias
        w = np.zeros((len(self.area_labels_), x.shape[1]))
        b = np.full(len(self.area_labels_), -30.0)
        coef = area.coef_ if len(area.classes_) > 2 else np.vstack([-area.coef_[0] / 2, area.coef_[0] / 2])
        icpt = area.intercept_ if len(area.classes_) > 2 else np.array([-area.intercept_[0] / 2, area.intercept_[0] / 2])
        w[area.classes_], b[area.classes_] = coef, icpt
        self.area_coef_, self.area_intercept_ = w, b
        tw = np.zeros((len(self.type_labels_), x.shape[1]))
        tb = np.zeros(len(self.type_labels_))
        for j, t in enumerate(self.type_labels_):
            y = np.array([int(t in r["types"]) for r in train])
            if y.min() == y.max():  # a type never (or always) seen: a constant, confident answer
                tb[j] = 30.0 if y[0] else -30.0
                continue
            clf = LogisticRegression(C=self.params.c_types, class_weight=cw, max_iter=3000,
                                     random_state=self.seed).fit(x, y)
            tw[j], tb[j] = clf.coef_[0], clf.intercept_[0]
        self.type_coef_, self.type_intercept_ = tw, tb

    def _scores(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        x = self._features(records)
        area_logits = np.asarray(x @ self.area_coef_.T) + self.area_intercept_
        type_logits = np.asarray(x @ self.type_coef_.T) + self.type_intercept_
        return area_logits, 1.0 / (1.0 + np.exp(-type_logits))

    def _save_weights(self, directory: Path) -> None:
        vocab = {name: {"vocabulary": {k: int(v) for k, v in vec.vocabulary_.items()}}
                 for name, vec in self.vectorizers_.items()}
        (directory / "vectorizers.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        arrays = {f"idf_{name}": vec.idf_ for name, vec in self.vectorizers_.items()}
        np.savez_compressed(directory / "weights.npz", area_coef=self.area_coef_,
                            area_intercept=self.area_intercept_, type_coef=self.type_coef_,
                            type_intercept=self.type_intercept_, **arrays)

    def _load_weights(self, directory: Path) -> None:
        with reading(directory / "vectorizers.json"):
            vocab = json.loads((directory / "vectorizers.json").read_text(encoding="utf-8"))
            vocabularies = {name: dict(vocab[name]["vocabulary"]) for name in self._blocks()}
        names = ["area_coef", "area_intercept", "type_coef", "type_intercept", *(f"idf_{b}" for b in self._blocks())]
        with reading(directory / "weights.npz"), np.load(directory / "weights.npz", allow_pickle=False) as w:
            arrays = {name: np.asarray(w[name], dtype=np.float64) for name in names}
        require_finite(all(np.isfinite(a).all() for a in arrays.values()), directory / "weights.npz")
        self.area_coef_, self.area_intercept_ = arrays["area_coef"], arrays["area_intercept"]
        self.type_coef_, self.type_intercept_ = arrays["type_coef"], arrays["type_intercept"]
        self.vectorizers_ = {}
        for name in self._blocks():
            vec = self._vectorizer()
            vec.vocabulary_ = vocabularies[name]
            vec.idf_ = arrays[f"idf_{name}"]
            self.vectorizers_[name] = vec
