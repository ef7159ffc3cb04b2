"""The precision/recall trade-off, studied on the endpoint's scores without training again.

The endpoint returns a score between 0 and 1 for each game; calling a game a hit above 0.5 is a choice,
not part of the model. Moving that threshold trades hits found (recall) against false alarms (precision),
much as raising ``scale_pos_weight`` does at training time, at the cost of one scoring pass instead of a
training job per value.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve

from vgsales.context import Context
from vgsales.evaluation.metrics import Metrics, compute_metrics
from vgsales.evaluation.scoring import Predictions, batches, endpoint_invoker, predict_all
from vgsales.explore import Chart, new_figure
from vgsales.features import Manifest
from vgsales.records import DataRecord, EndpointRecord

DEFAULT_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def endpoint_scores(ctx: Context) -> Predictions:
    """Score the held-out test split through the deployed endpoint, in the batches `invoke evaluate` sends."""
    settings, state = ctx.settings, ctx.state
    data = state.read(DataRecord)
    endpoint = state.read(EndpointRecord)
    manifest = Manifest.from_json(Path(data.manifest))
    invoke = endpoint_invoker(ctx.aws.client("sagemaker-runtime"), endpoint.endpoint_name)
    requests = batches(
        Path(data.test_split), settings.evaluate.batch_size, settings.evaluate.content_type, manifest.n_features
    )
    return predict_all(requests, invoke, settings.evaluate.concurrency)


def confusion_frame(metrics: Metrics) -> pd.DataFrame:
    """The confusion matrix as the workshop's crosstab showed it: rows actual, columns predicted."""
    return pd.DataFrame(
        [list(row) for row in metrics.confusion_matrix],
        index=pd.Index(["no", "yes"], name="actual hit"),
        columns=pd.Index(["no", "yes"], name="predicted hit"),
    )


def compare_thresholds(predictions: Predictions, thresholds: Iterable[float] = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """One row per threshold: the four confusion-matrix cells, accuracy, precision, recall and F1 for hits."""
    rows = []
    for threshold in thresholds:
        metrics = compute_metrics(predictions.y_true, predictions.y_score, threshold)
        rows.append({
            "threshold": threshold,
            "true negatives": metrics.tn,
            "false positives": metrics.fp,
            "false negatives": metrics.fn,
            "true positives": metrics.tp,
            "accuracy": round(metrics.accuracy, 4),
            "precision": round(metrics.precision, 3),
            "recall": round(metrics.recall, 3),
            "f1": round(metrics.f1, 3),
        })
    return pd.DataFrame(rows).set_index("threshold")


def plot_tradeoff(predictions: Predictions, marked: float = 0.5) -> Chart:
    """Precision and recall for hits at every threshold, with the workshop's 0.5 marked."""
    precision, recall, thresholds = precision_recall_curve(predictions.y_true, predictions.y_score)
    figure, (axes,) = new_figure(width=6.0)
    # precision_recall_curve gives one more precision/recall pair than thresholds: the "predict nothing" end.
    axes.plot(thresholds, precision[:-1], label="precision (predicted hits that are hits)")
    axes.plot(thresholds, recall[:-1], label="recall (hits found)")
    marked_metrics = compute_metrics(predictions.y_true, predictions.y_score, marked)
    axes.axvline(marked, color="black", linewidth=0.8, linestyle="--")
    axes.plot([marked, marked], [marked_metrics.precision, marked_metrics.recall], "o", color="black")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("threshold: a score above it predicts a hit")
    axes.set_ylabel("share")
    axes.set_title(f"Precision and recall on {predictions.n} test games (hits: {int(np.sum(predictions.y_true))})")
    axes.legend(loc="lower left")
    return Chart(figure)
