"""The evaluation metrics that the algorithm container computes itself rather than XGBoost (accuracy, f1, r2, ...).

XGBoost hands a custom metric its transformed predictions (probabilities for binary:logistic, class
probabilities for multi:softprob); classification metrics turn them into labels the way the container does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xgboost as xgb
from sklearn import metrics as skm


def _labels(predictions: np.ndarray, objective: str) -> np.ndarray:
    if predictions.ndim == 2:
        return predictions.argmax(axis=1)
    if objective == "binary:logitraw":
        return (predictions > 0).astype(int)
    if objective == "binary:logistic":
        return (predictions > 0.5).astype(int)
    return np.rint(predictions).astype(int)


def _averaged(score: Callable[..., float], average: str | None) -> Callable[[np.ndarray, np.ndarray], float]:
    def compute(truth: np.ndarray, predicted: np.ndarray) -> float:
        chosen = average or ("binary" if set(np.unique(truth)) <= {0, 1} else "macro")
        return float(score(truth, predicted, average=chosen, zero_division=0))

    return compute


CLASSIFICATION: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda t, p: float(skm.accuracy_score(t, p)),
    "balanced_accuracy": lambda t, p: float(skm.balanced_accuracy_score(t, p)),
    "f1": _averaged(skm.f1_score, None),
    "f1_binary": _averaged(skm.f1_score, "binary"),
    "f1_macro": _averaged(skm.f1_score, "macro"),
    "precision": _averaged(skm.precision_score, None),
    "precision_macro": _averaged(skm.precision_score, "macro"),
    "precision_micro": _averaged(skm.precision_score, "micro"),
    "recall": _averaged(skm.recall_score, None),
    "recall_macro": _averaged(skm.recall_score, "macro"),
    "recall_micro": _averaged(skm.recall_score, "micro"),
}
REGRESSION: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "mse": lambda t, p: float(skm.mean_squared_error(t, p)),
    "r2": lambda t, p: float(skm.r2_score(t, p)),
}


def container_metric(names: Sequence[str], objective: str) -> Callable[[np.ndarray, xgb.DMatrix], list[tuple[str, float]]]:
    """An xgboost ``custom_metric`` that reports each named container metric."""

    def evaluate(predictions: np.ndarray, data: xgb.DMatrix) -> list[tuple[str, float]]:
        truth = data.get_label()
        results = []
        for name in names:
            if name in REGRESSION:
                results.append((name, REGRESSION[name](truth, predictions)))
            else:
                results.append((name, CLASSIFICATION[name](truth.astype(int), _labels(predictions, objective))))
        return results

    return evaluate
