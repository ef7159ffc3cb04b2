"""The two PNG plots are written, valid, and drawn without touching pyplot's global state."""

from __future__ import annotations

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from vgsales.errors import WorkshopError
from vgsales.evaluation.metrics import compute_metrics
from vgsales.evaluation.plots import plot_confusion_matrix, plot_roc_curve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_valid_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = matplotlib.image.imread(path)
    height, width = pixels.shape[:2]
    assert height > 200 and width > 200
    assert pixels.std() > 0.01, "a blank image"


def test_confusion_matrix_and_roc_curve_are_valid_pngs(tmp_path, synthetic_split):
    y_true, y_score = synthetic_split.labels, synthetic_split.expected_scores()
    figures_before = plt.get_fignums()

    matrix = plot_confusion_matrix(compute_metrics(y_true, y_score), tmp_path / "out" / "confusion_matrix.png")
    roc = plot_roc_curve(y_true, y_score, tmp_path / "out" / "roc_curve.png")

    assert (matrix, roc) == (tmp_path / "out" / "confusion_matrix.png", tmp_path / "out" / "roc_curve.png")
    assert_valid_png(matrix)
    assert_valid_png(roc)
    assert plt.get_fignums() == figures_before  # no pyplot figures left open


def test_the_confusion_matrix_plot_has_actual_rows_and_predicted_columns(tmp_path, monkeypatch):
    """Rows actual, columns predicted, as the workshop reads it: a transposed matrix (fp and fn swapped) fails."""
    from matplotlib.figure import Figure

    drawn: list[Figure] = []
    save = Figure.savefig

    def keep(figure, *args, **kwargs):
        drawn.append(figure)
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    # 620 true negatives, 51 false positives, 59 false negatives, 73 true positives (the workshop's counts)
    labels = np.array([0] * 620 + [0] * 51 + [1] * 59 + [1] * 73)
    scores = np.array([0.1] * 620 + [0.9] * 51 + [0.1] * 59 + [0.9] * 73)
    metrics = compute_metrics(labels, scores)
    plot_confusion_matrix(metrics, tmp_path / "confusion_matrix.png")
    (axes,) = drawn[0].axes
    cells = {(round(text.get_position()[1]), round(text.get_position()[0])): text.get_text() for text in axes.texts}
    assert cells == {(0, 0): "620", (0, 1): "51", (1, 0): "59", (1, 1): "73"}  # (row, column)
    assert axes.get_ylabel() == "actual hit" and axes.get_xlabel() == "predicted hit"


def test_roc_curve_needs_both_classes(tmp_path):
    with pytest.raises(WorkshopError, match="both hits and non-hits"):
        plot_roc_curve(np.zeros(5, dtype=int), np.linspace(0, 1, 5), tmp_path / "roc_curve.png")
    assert not (tmp_path / "roc_curve.png").exists()
