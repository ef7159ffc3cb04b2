"""PNG plots of an evaluation: the confusion matrix and the ROC curve.

Figures are built with matplotlib's object API and rendered by the Agg canvas, never through pyplot's
global state: nothing opens a window, nothing leaks between calls, and importing this module from a
notebook does not switch the notebook's backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

from vgsales.errors import WorkshopError

if TYPE_CHECKING:
    from vgsales.evaluation.metrics import Metrics

CLASS_LABELS = ("no", "yes")
DPI = 120


def plot_confusion_matrix(metrics: Metrics, path: Path) -> Path:
    figure, axes = _figure()
    display = ConfusionMatrixDisplay(np.array(metrics.confusion_matrix), display_labels=list(CLASS_LABELS))
    display.plot(ax=axes, cmap="Blues", colorbar=False, values_format="d")
    axes.set_xlabel("predicted hit")
    axes.set_ylabel("actual hit")
    axes.set_title(f"Confusion matrix, {metrics.n} test rows\naccuracy {metrics.accuracy:.4f}")
    return _save(figure, path)


def plot_roc_curve(y_true: np.ndarray, y_score: np.ndarray, path: Path) -> Path:
    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) != 2:
        raise WorkshopError(
            "A ROC curve needs both hits and non-hits among the test rows; this test split has only one class."
        )
    figure, axes = _figure()
    display = RocCurveDisplay.from_predictions(y_true, y_score, pos_label=1, name="endpoint", ax=axes,
                                               plot_chance_level=True)
    axes.set_xlabel("false positive rate (non-hits predicted as hits)")
    axes.set_ylabel("true positive rate (hits found)")
    axes.set_title(f"ROC curve, {len(y_true)} test rows\nAUC {display.roc_auc:.4f}")
    return _save(figure, path)


def _figure():
    figure = Figure(figsize=(5, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _save(figure: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path
