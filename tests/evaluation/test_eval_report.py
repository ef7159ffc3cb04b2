"""report.md puts this run beside the workshop's published result and records the run's context."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from vgsales.evaluation.metrics import compute_metrics, render_table
from vgsales.evaluation.report import (
    PUBLISHED_RESULT,
    WORKSHOP_HYPERPARAMETERS,
    XGBOOST_3_2_REFERENCE,
    ModelOrigin,
    write_report,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

CONTEXT = {
    "timestamp": "2026-11-02T10:00:00+00:00",
    "endpoint": "vgsales-endpoint",
    "training job": "vgsales-xgboost-20261102",
    "image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0",
    "hyperparameters": {"max_depth": 3, "eta": 0.1, "objective": "binary:logistic"},
    "dataset sha256": "4ad802a9e51792e7a96b84da4501e5f64c97484d937ede9441d2e1145c1d7b03",
    "note": "a | pipe",
}


def metrics_for(confusion, auc_noise: float = 0.0):
    (tn, fp), (fn, tp) = confusion
    y_true = np.array([0] * (tn + fp) + [1] * (fn + tp))
    y_score = np.array([0.1] * tn + [0.9] * fp + [0.2] * fn + [0.8] * tp) + auc_noise
    return compute_metrics(y_true, y_score)


def table_row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def from_counts(confusion) -> dict[str, str]:
    """What the report's "this run" column must say, worked out here from the confusion counts alone."""
    (tn, fp), (fn, tp) = confusion
    n = tn + fp + fn + tp
    return {
        "test rows": str(n),
        "hits": str(fn + tp),
        "confusion matrix [[tn, fp], [fn, tp]]": f"[[{tn}, {fp}], [{fn}, {tp}]]",
        "accuracy": f"{(tn + tp) / n:.4f}",
        "error rate": f"{(fp + fn) / n:.4f}",
        "precision (hits)": f"{tp / (tp + fp):.3f}",
        "recall (hits)": f"{tp / (tp + fn):.3f}",
        "F1 (hits)": f"{2 * tp / (2 * tp + fp + fn):.3f}",
    }


def test_report_shows_both_results_side_by_side_with_context(tmp_path):
    metrics = metrics_for(((620, 51), (59, 73)))
    path = write_report(metrics, tmp_path / "report.md", CONTEXT)
    text = path.read_text()

    assert "| metric | this run | workshop (XGBoost 0.72) |" in text
    assert table_row(text, "accuracy") == ["accuracy", f"{(620 + 73) / 803:.4f}", "0.8655"]
    assert table_row(text, "error rate") == ["error rate", f"{(51 + 59) / 803:.4f}", "0.1345"]
    assert table_row(text, "recall (hits)") == ["recall (hits)", "0.553", "0.553"]
    assert table_row(text, "confusion matrix [[tn, fp], [fn, tp]]")[1:] == ["[[620, 51], [59, 73]]",
                                                                            "[[622, 49], [59, 73]]"]
    assert table_row(text, "test rows")[1:] == ["803", "803"]
    assert "XGBoost 0.72" in text and "3.2.0" in text
    assert "2 more false positives (non-hits predicted as hits: 51, not 49)" in text
    assert "2 fewer true negatives" in text and "accuracy -0.0025" in text
    assert "identical to the XGBoost 3.2.0 reference" in text
    for value in ("vgsales-endpoint", "vgsales-xgboost-20261102", "sagemaker-xgboost:3.2-0",
                  "max_depth=3, eta=0.1, objective=binary:logistic", CONTEXT["dataset sha256"],
                  "2026-11-02T10:00:00+00:00", "a \\| pipe"):
        assert value in text


def test_this_runs_column_is_computed_from_its_own_counts(tmp_path):
    """Counts unlike the workshop's and the XGBoost 3.2.0 reference's: a report that printed either's figures
    as this run's, instead of its own, fails here."""
    confusion = ((610, 61), (52, 80))
    assert confusion not in (PUBLISHED_RESULT.confusion_matrix, XGBOOST_3_2_REFERENCE.confusion_matrix)
    text = write_report(metrics_for(confusion), tmp_path / "report.md", {}).read_text()
    for label, ours in from_counts(confusion).items():
        assert table_row(text, label)[1] == ours, label
    assert table_row(text, "accuracy")[2] == f"{PUBLISHED_RESULT.accuracy:.4f}"


def test_report_says_when_the_workshop_is_reproduced_exactly(tmp_path):
    text = write_report(metrics_for(PUBLISHED_RESULT.confusion_matrix), tmp_path / "r.md", {}).read_text()
    assert "reproduces the workshop's confusion matrix exactly" in text


def test_report_warns_when_the_split_is_not_the_workshops(tmp_path):
    text = write_report(metrics_for(((90, 10), (5, 15))), tmp_path / "r.md", {}).read_text()
    assert "120 test rows with 20 hits, not the workshop's 803 with 132" in text


def test_report_links_plots_relative_to_itself(tmp_path):
    images = {"Confusion matrix": tmp_path / "confusion_matrix.png"}
    text = write_report(metrics_for(((620, 51), (59, 73))), tmp_path / "report.md", {}, images).read_text()
    assert "![Confusion matrix](confusion_matrix.png)" in text


TUNED = {**WORKSHOP_HYPERPARAMETERS, "eta": "0.23259744293880376", "max_depth": "6.0", "min_child_weight": "4",
         "subsample": "0.50"}


def explanation(text: str) -> str:
    return text.split("## Why the numbers differ", 1)[1].split("## Plots", 1)[0].split("## Run", 1)[0]


def test_a_tuned_model_is_named_and_its_hyperparameters_are_not_called_the_workshops(tmp_path):
    model = ModelOrigin("vgsales-tune-20261102-1000-007-1a2b3c4d", TUNED, tuning_job="vgsales-tune-20261102-1000")
    text = write_report(metrics_for(((620, 51), (59, 73))), tmp_path / "r.md", CONTEXT, model=model).read_text()
    why = explanation(text)
    assert "The hyperparameters are the same" not in text
    assert ("The hyperparameters are not the workshop's, since this model is the best training job of tuning job "
            "vgsales-tune-20261102-1000: eta=0.23259744293880376 (workshop: 0.1); max_depth=6.0 (workshop: 3); "
            "min_child_weight=4 (the workshop left it at the algorithm's default).") in why
    # subsample 0.50 is the workshop's 0.5, written differently: not a difference.
    assert "subsample=0.50" not in why
    assert ("Model: training job vgsales-tune-20261102-1000-007-1a2b3c4d, the best of tuning job "
            "vgsales-tune-20261102-1000\n") in text


def test_a_model_trained_with_other_settings_says_which_differ_and_where_they_come_from(tmp_path):
    changed = {name: value for name, value in WORKSHOP_HYPERPARAMETERS.items() if name != "subsample"}
    model = ModelOrigin("vgsales-xgb-1", {**changed, "num_round": "300"})
    why = explanation(write_report(metrics_for(((620, 51), (59, 73))), tmp_path / "r.md", {}, model=model).read_text())
    assert ("The hyperparameters are not the workshop's (workshop.training.hyperparameters sets them): "
            "num_round=300 (workshop: 100); subsample not set (workshop: 0.5).") in why


def test_the_workshops_hyperparameters_are_called_the_same(tmp_path):
    model = ModelOrigin("vgsales-xgb-1", dict(WORKSHOP_HYPERPARAMETERS))
    text = write_report(metrics_for(((620, 51), (59, 73))), tmp_path / "r.md", {}, model=model).read_text()
    assert "The hyperparameters are the same, but the trees are not" in explanation(text)
    assert "Model: training job vgsales-xgb-1" in text


def test_without_the_models_origin_the_report_claims_nothing_about_its_hyperparameters(tmp_path):
    why = explanation(write_report(metrics_for(((620, 51), (59, 73))), tmp_path / "r.md", {}).read_text())
    assert "The hyperparameters are the same" not in why and "not the workshop's" not in why


def test_the_default_training_hyperparameters_are_the_workshops():
    """README: training.hyperparameters defaults to the workshop's; the report compares against the same."""
    defaults = yaml.safe_load((PROJECT_ROOT / "invoke.yaml").read_text())["workshop"]["training"]["hyperparameters"]
    assert {name: str(value) for name, value in defaults.items()} == WORKSHOP_HYPERPARAMETERS


def test_the_console_table_says_when_the_model_is_tuned():
    metrics = metrics_for(((620, 51), (59, 73)))
    tuned = ModelOrigin("vgsales-tune-1-007-1a2b3c4d", TUNED, tuning_job="vgsales-tune-1")
    assert render_table(metrics, tuned).title == "Evaluation of a tuned model on 803 test rows (132 hits)"
    assert render_table(metrics, ModelOrigin("vgsales-xgb-1", WORKSHOP_HYPERPARAMETERS)).title == (
        "Evaluation on 803 test rows (132 hits)"
    )
