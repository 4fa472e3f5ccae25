"""Turning raw scores into decisions users can trust: type thresholds, temperature, calibration error.

Shared by every backend: each produces area logits and type probabilities, and these functions,
fitted on the dev split, decide the type thresholds and the area temperature stored with the model.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import f1_score


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``.

    Example:
        >>> softmax(np.array([[2.0, 0.0]])).round(3)
        array([[0.881, 0.119]])
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def tune_thresholds(probs: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Pick, per type, the decision threshold that maximises F1 on held-out data.

    Args:
        probs: ``[n, T]`` predicted probabilities, columns in schema type order.
        gold: ``[n, T]`` 0/1 gold indicators.

    Returns:
        ``[T]`` thresholds; ties go to the threshold nearest 0.5, and a type with no positive
        example keeps 0.5 (there is nothing to tune it on).

    Example:
        >>> # "2023年拟新增高企35家。" is plan+metric: a type's best cut separates its scores
        >>> tune_thresholds(np.array([[0.9], [0.4], [0.2]]), np.array([[1], [1], [0]])).round(2)
        array([0.4])
    """
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    out = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        if gold[:, j].sum() == 0:
            continue
        scores = [f1_score(gold[:, j], probs[:, j] >= t, zero_division=0) for t in grid]
        best = max(scores)
        candidates = grid[np.isclose(scores, best)]
        out[j] = candidates[np.argmin(np.abs(candidates - 0.5))]
    return out


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Fit the temperature that minimises the negative log-likelihood of the gold areas.

    Args:
        logits: ``[n, A]`` area logits.
        gold: ``[n]`` gold area indices.

    Returns:
        The temperature (> 0); dividing logits by it calibrates the softmax.

    Example:
        >>> fit_temperature(np.array([[8.0, 0.0], [8.0, 0.0], [0.0, 8.0]]), np.array([0, 1, 1])) > 1
        True
    """
    logits = np.asarray(logits, dtype=np.float64)

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(gold)), gold] + 1e-12)))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-1 area: the support-weighted gap between confidence
    and accuracy over equal-width confidence bins.

    Args:
        probs: ``[n, A]`` area probabilities.
        gold: ``[n]`` gold area indices.
        bins: number of confidence bins.

    Example:
        >>> expected_calibration_error(np.array([[0.9, 0.1], [0.9, 0.1]]), np.array([0, 1]))
        0.4
    """
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return round(float(ece), 6)


def reliability(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> list[dict]:
    """Per-bin confidence, accuracy and count of the top-1 area, for the evaluation report.

    Example:
        >>> reliability(np.array([[0.95, 0.05]]), np.array([0]))[-1]["count"]
        1
    """
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "count": int(mask.sum()),
                     "confidence": float(conf[mask].mean()) if mask.any() else None,
                     "accuracy": float(correct[mask].mean()) if mask.any() else None})
    return rows
