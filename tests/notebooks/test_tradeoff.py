"""The threshold comparison of "Further evaluation", on scores with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from vgsales.evaluation import tradeoff
from vgsales.evaluation.metrics import compute_metrics
from vgsales.evaluation.scoring import Predictions


@pytest.fixture
def predictions() -> Predictions:
    rng = np.random.default_rng(1729)
    y_true = (rng.random(800) < 0.17).astype(np.int64)
    # Hits score higher on average, with overlap: a realistic, imperfect classifier.
    y_score = np.clip(rng.normal(0.25 + 0.4 * y_true, 0.18), 0.001, 0.999)
    return Predictions(y_true, y_score, latencies_s=np.full(8, 0.01), batch_rows=np.full(8, 100), wall_seconds=0.1)


def test_each_row_is_the_metrics_at_that_threshold(predictions) -> None:
    table = tradeoff.compare_thresholds(predictions, thresholds=(0.3, 0.5, 0.7))
    assert list(table.index) == [0.3, 0.5, 0.7]
    for threshold, row in table.iterrows():
        metrics = compute_metrics(predictions.y_true, predictions.y_score, threshold)
        assert (row["true negatives"], row["false positives"], row["false negatives"], row["true positives"]) == (
            metrics.tn, metrics.fp, metrics.fn, metrics.tp)
        assert row["accuracy"] == round(metrics.accuracy, 4)
        assert row["recall"] == round(metrics.recall, 3)


def test_a_lower_threshold_finds_more_hits_with_more_false_alarms(predictions) -> None:
    table = tradeoff.compare_thresholds(predictions)
    assert table["recall"].is_monotonic_decreasing
    assert table["false positives"].is_monotonic_decreasing
    assert table["precision"].iloc[0] < table["precision"].iloc[-1]
    assert (table[["true negatives", "false positives", "false negatives", "true positives"]].sum(axis=1) == 800).all()


def test_confusion_frame_has_actual_rows_and_predicted_columns(predictions) -> None:
    metrics = compute_metrics(predictions.y_true, predictions.y_score)
    frame = tradeoff.confusion_frame(metrics)
    assert frame.index.name == "actual hit" and frame.columns.name == "predicted hit"
    assert frame.loc["yes", "no"] == metrics.fn
    assert frame.loc["no", "yes"] == metrics.fp
    assert frame.to_numpy().sum() == 800


def test_the_tradeoff_plot_marks_the_workshop_threshold(predictions) -> None:
    chart = tradeoff.plot_tradeoff(predictions)
    assert chart._repr_png_().startswith(b"\x89PNG")
    (axes,) = chart.figure.axes
    assert len(axes.get_lines()) == 4  # precision, recall, the 0.5 line, its two points
    assert axes.get_xlim() == (0.0, 1.0)
