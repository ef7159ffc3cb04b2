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


def test_roc_curve_needs_both_classes(tmp_path):
    with pytest.raises(WorkshopError, match="both hits and non-hits"):
        plot_roc_curve(np.zeros(5, dtype=int), np.linspace(0, 1, 5), tmp_path / "roc_curve.png")
    assert not (tmp_path / "roc_curve.png").exists()
