"""Metrics against scikit-learn computed directly, the workshop's published figures, and the printed tables."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console
from sklearn import metrics as skm

from vgsales.errors import WorkshopError
from vgsales.evaluation.metrics import Metrics, compute_metrics, render_confusion_matrix, render_table
from vgsales.evaluation.report import PUBLISHED_RESULT, XGBOOST_3_2_REFERENCE


def scores_for(confusion: tuple[tuple[int, int], tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores whose predictions at 0.5 give exactly this [[tn, fp], [fn, tp]] matrix."""
    (tn, fp), (fn, tp) = confusion
    y_true = np.array([0] * (tn + fp) + [1] * (fn + tp))
    y_score = np.array([0.1] * tn + [0.9] * fp + [0.2] * fn + [0.8] * tp)
    return y_true, y_score


def test_metrics_equal_scikit_learn_computed_directly(synthetic_split):
    y_true, y_score = synthetic_split.labels, synthetic_split.expected_scores()
    y_pred = (y_score > 0.5).astype(int)

    metrics = compute_metrics(y_true, y_score)

    assert metrics.confusion_matrix == tuple(map(tuple, skm.confusion_matrix(y_true, y_pred).tolist()))
    assert metrics.accuracy == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert metrics.error_rate == pytest.approx(1 - skm.accuracy_score(y_true, y_pred))
    assert metrics.precision == pytest.approx(skm.precision_score(y_true, y_pred))
    assert metrics.recall == pytest.approx(skm.recall_score(y_true, y_pred))
    assert metrics.f1 == pytest.approx(skm.f1_score(y_true, y_pred))
    assert metrics.roc_auc == pytest.approx(skm.roc_auc_score(y_true, y_score))
    assert (metrics.n, metrics.positives) == (len(y_true), int(y_true.sum()))
    assert metrics.tn + metrics.fp + metrics.fn + metrics.tp == metrics.n


def test_the_workshop_confusion_matrix_gives_its_published_figures():
    metrics = compute_metrics(*scores_for(PUBLISHED_RESULT.confusion_matrix))

    assert metrics.confusion_matrix == ((622, 49), (59, 73))
    assert (metrics.n, metrics.positives) == (803, 132)
    assert round(metrics.accuracy, 4) == 0.8655 == PUBLISHED_RESULT.accuracy
    assert round(metrics.error_rate, 4) == 0.1345 == PUBLISHED_RESULT.error_rate
    assert round(metrics.recall, 3) == 0.553 == PUBLISHED_RESULT.recall
    assert metrics.precision == pytest.approx(PUBLISHED_RESULT.precision) == pytest.approx(73 / 122)
    assert metrics.f1 == pytest.approx(PUBLISHED_RESULT.f1)


def test_the_xgboost_3_2_reference_is_consistent_with_its_matrix():
    metrics = compute_metrics(*scores_for(XGBOOST_3_2_REFERENCE.confusion_matrix))

    assert round(metrics.accuracy, 4) == XGBOOST_3_2_REFERENCE.accuracy == 0.8630
    assert round(metrics.error_rate, 4) == XGBOOST_3_2_REFERENCE.error_rate
    assert round(metrics.recall, 3) == XGBOOST_3_2_REFERENCE.recall


def test_a_score_of_exactly_the_threshold_is_not_a_hit_as_np_round_decided():
    assert compute_metrics([0, 1], [0.5, 0.5]).confusion_matrix == ((1, 0), (1, 0))
    assert compute_metrics([0, 1], [0.3, 0.35], threshold=0.32).confusion_matrix == ((1, 0), (0, 1))


def test_no_predicted_hits_gives_zero_precision_without_warnings():
    with np.errstate(all="raise"):
        metrics = compute_metrics([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    assert (metrics.precision, metrics.recall, metrics.f1) == (0.0, 0.0, 0.0)
    assert metrics.roc_auc == 1.0


def test_one_class_leaves_auc_undefined():
    metrics = compute_metrics([0, 0, 0], [0.1, 0.7, 0.2])
    assert metrics.roc_auc is None
    assert metrics.confusion_matrix == ((2, 1), (0, 0))


@pytest.mark.parametrize(
    ("y_true", "y_score", "threshold", "message"),
    [
        ([], [], 0.5, "no predictions"),
        ([0, 1], [0.2], 0.5, "same length"),
        ([0, 2], [0.2, 0.4], 0.5, "0 \\(not a hit\\) or 1"),
        ([0, 1], [0.2, float("nan")], 0.5, "NaN"),
        ([0, 1], [0.2, 0.4], 1.0, "threshold"),
    ],
)
def test_bad_inputs_are_refused(y_true, y_score, threshold, message):
    with pytest.raises(WorkshopError, match=message):
        compute_metrics(y_true, y_score, threshold)


def test_metrics_json_has_the_required_keys_and_round_trips(tmp_path):
    metrics = compute_metrics(*scores_for(((622, 49), (59, 73))))
    path = metrics.to_json(tmp_path / "run" / "metrics.json")

    data = json.loads(path.read_text())
    assert {"n", "accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix"} <= set(data)
    assert data["confusion_matrix"] == [[622, 49], [59, 73]]
    assert data["n"] == 803
    assert Metrics.from_json(path) == metrics


def test_tables_show_this_run_beside_the_workshop():
    # Counts unlike the published and the reference ones, so this run's figures cannot come from either.
    (tn, fp), (fn, tp) = confusion = ((610, 61), (52, 80))
    metrics = compute_metrics(*scores_for(confusion))
    console = Console(record=True, width=120)
    console.print(render_table(metrics))
    console.print(render_confusion_matrix(metrics))
    text = console.export_text()

    for expected in ("Evaluation on 803 test rows (132 hits)", "ROC AUC", "not published", "actual no", "actual yes",
                     "predicted no", "predicted yes"):
        assert expected in text
    cells = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
             for line in text.splitlines() if line.count("│") == 4}
    assert cells["accuracy"] == [f"{(tn + tp) / 803:.4f}", f"{PUBLISHED_RESULT.accuracy:.4f}"]
    assert cells["recall (hits)"] == [f"{tp / (tp + fn):.3f}", f"{PUBLISHED_RESULT.recall:.3f}"]
    assert cells["actual yes"] == [str(fn), str(tp)]
    assert "confusion matrix [[tn, fp], [fn, tp]]" in text  # not eaten as rich markup
