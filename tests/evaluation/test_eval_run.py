"""evaluate_run: the whole evaluate stage through an ``invoke`` callable, files and all."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from vgsales.errors import WorkshopError
from vgsales.evaluation.metrics import Metrics, evaluate_run
from vgsales.evaluation.report import PUBLISHED_RESULT
from vgsales.evaluation.scoring import CSV

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_evaluate_run_writes_every_output_and_matches_scikit_learn(tmp_path, synthetic_split, make_endpoint):
    endpoint = make_endpoint(accept="application/json", held_first_calls=2)
    progress = []

    result = evaluate_run(
        synthetic_split.path, tmp_path / "run", endpoint,
        batch_size=25, concurrency=3, progress=lambda done, total: progress.append(done),
        context={"endpoint": "vgsales-endpoint", "training job": "vgsales-train-1"},
    )

    y_true, y_score = synthetic_split.labels, synthetic_split.expected_scores()
    assert result.metrics.confusion_matrix == tuple(
        map(tuple, skm.confusion_matrix(y_true, (y_score > 0.5).astype(int)).tolist())
    )
    assert result.metrics.roc_auc == pytest.approx(skm.roc_auc_score(y_true, y_score), rel=1e-6)
    assert len(endpoint.calls) == result.predictions.n_requests == 10
    assert progress[-1] == synthetic_split.n_rows

    outputs = result.outputs
    assert [path.name for path in outputs.all()] == ["metrics.json", "confusion_matrix.png", "roc_curve.png",
                                                    "report.md"]
    assert all(path.parent == tmp_path / "run" for path in outputs.all())
    assert Metrics.from_json(outputs.metrics_json) == result.metrics
    assert json.loads(outputs.metrics_json.read_text())["n"] == synthetic_split.n_rows
    for png in (outputs.confusion_matrix_png, outputs.roc_curve_png):
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5000
    report = outputs.report_md.read_text()
    # This run's accuracy as scikit-learn computes it from the data, beside the workshop's published one.
    accuracy = skm.accuracy_score(y_true, (y_score > 0.5).astype(int))
    accuracy_row = next(line for line in report.splitlines() if line.startswith("| accuracy |"))
    assert accuracy_row == f"| accuracy | {accuracy:.4f} | {PUBLISHED_RESULT.accuracy:.4f} |"
    assert "vgsales-endpoint" in report and "vgsales-train-1" in report
    assert "| batch size | 25 |" in report and "| requests | 10 |" in report
    assert "![ROC curve](roc_curve.png)" in report


def test_evaluate_run_over_csv(tmp_path, synthetic_split, make_endpoint):
    result = evaluate_run(synthetic_split.path, tmp_path, make_endpoint(), content_type=CSV,
                          n_features=synthetic_split.n_features)
    np.testing.assert_allclose(result.predictions.y_score, synthetic_split.expected_scores(), rtol=1e-6)


def test_evaluate_run_writes_nothing_when_the_endpoint_fails(tmp_path, synthetic_split):
    def down(payload: bytes, content_type: str):
        raise TimeoutError("read timed out")

    with pytest.raises(WorkshopError, match="batch 1 .*TimeoutError: read timed out"):
        evaluate_run(synthetic_split.path, tmp_path / "run", down)
    assert not (tmp_path / "run").exists()


def test_evaluate_run_refuses_batch_size_zero_before_sending(tmp_path, synthetic_split, endpoint):
    with pytest.raises(WorkshopError, match="batch size"):
        evaluate_run(synthetic_split.path, tmp_path, endpoint, batch_size=0)
    assert endpoint.calls == []
