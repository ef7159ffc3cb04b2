"""Score the endpoint on the held-out test split: metrics, a printed table, plots and a report.

``compute_metrics`` is plain scikit-learn on arrays; ``evaluate_run`` is the whole ``invoke evaluate`` stage
given an ``invoke`` callable, so the task itself only builds that callable and prints the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score

from vgsales.errors import WorkshopError
from vgsales.evaluation import plots, report
from vgsales.evaluation.scoring import LIBSVM, Invoke, Predictions, ProgressCallback, batches, predict_all

ConfusionMatrix = tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class Metrics:
    """Binary classification metrics with "hit" as the positive class."""

    n: int
    positives: int
    threshold: float
    confusion_matrix: ConfusionMatrix  # [[tn, fp], [fn, tp]]: rows actual, columns predicted
    accuracy: float
    error_rate: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None  # None when the rows hold only one class, where AUC is undefined

    @property
    def tn(self) -> int:
        return self.confusion_matrix[0][0]

    @property
    def fp(self) -> int:
        return self.confusion_matrix[0][1]

    @property
    def fn(self) -> int:
        return self.confusion_matrix[1][0]

    @property
    def tp(self) -> int:
        return self.confusion_matrix[1][1]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confusion_matrix"] = [list(row) for row in self.confusion_matrix]
        # Self-describing, so metrics.json reads correctly without this code at hand.
        data["confusion_matrix_layout"] = "[[tn, fp], [fn, tp]]: rows actual (no, yes), columns predicted (no, yes)"
        data["positive_class"] = "hit: Global_Sales above 1 million units"
        return data

    def to_json(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, path: Path) -> Metrics:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        fields["confusion_matrix"] = tuple(tuple(int(cell) for cell in row) for row in data["confusion_matrix"])
        return cls(**fields)


def compute_metrics(y_true: Sequence[int] | np.ndarray, y_score: Sequence[float] | np.ndarray,
                    threshold: float = 0.5) -> Metrics:
    """Metrics of scores against 0/1 labels; a score above ``threshold`` predicts a hit.

    Strictly above, because the workshop rounded scores with ``np.round``, which sends exactly 0.5 to 0.
    """
    y_true, y_score = _validated(y_true, y_score, threshold)
    y_pred = (y_score > threshold).astype(np.int64)
    matrix = confusion_matrix(y_true, y_pred, labels=[0, 1])
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, pos_label=1, average="binary", zero_division=0
    )
    accuracy = float(accuracy_score(y_true, y_pred))
    both_classes = 0 < int(y_true.sum()) < len(y_true)
    return Metrics(
        n=len(y_true),
        positives=int(y_true.sum()),
        threshold=float(threshold),
        confusion_matrix=tuple(tuple(int(cell) for cell in row) for row in matrix),
        accuracy=accuracy,
        error_rate=1.0 - accuracy,
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        roc_auc=float(roc_auc_score(y_true, y_score)) if both_classes else None,
    )


def _validated(y_true, y_score, threshold) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < threshold < 1.0:
        raise WorkshopError(f"The decision threshold must be between 0 and 1 exclusive; got {threshold!r}.")
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim != 1 or y_score.ndim != 1 or len(y_true) != len(y_score):
        raise WorkshopError(
            f"Labels and scores must be two flat lists of the same length; got shapes {y_true.shape} and "
            f"{y_score.shape}."
        )
    if len(y_true) == 0:
        raise WorkshopError("There are no predictions to evaluate: the test split is empty.")
    if not np.isin(y_true, (0, 1)).all():
        raise WorkshopError("Labels must be 0 (not a hit) or 1 (a hit); the test split holds other values.")
    if not np.isfinite(y_score).all():
        raise WorkshopError("Some scores are NaN or infinite; the endpoint's model is unusable.")
    return y_true.astype(np.int64), y_score


def render_table(metrics: Metrics, model: report.ModelOrigin | None = None) -> Table:
    """This run's metrics beside the workshop's published ones; the title says when the model is a tuned one,
    whose hyperparameters are not the workshop's (the line of ``model.describe()`` names the jobs)."""
    published = report.PUBLISHED_RESULT
    of = " of a tuned model" if model is not None and model.tuning_job else ""
    table = Table(title=f"Evaluation{of} on {metrics.n} test rows ({metrics.positives} hits)")
    table.add_column("metric")
    table.add_column("this run", justify="right")
    table.add_column(f"workshop (XGBoost {published.xgboost_version})", justify="right", style="dim")
    for label, ours, theirs in report.comparison_rows(metrics, published):
        table.add_row(escape(label), escape(ours), escape(theirs))
    return table


def render_confusion_matrix(metrics: Metrics) -> Table:
    table = Table(title="Confusion matrix (hit = yes)")
    table.add_column("")
    table.add_column("predicted no", justify="right")
    table.add_column("predicted yes", justify="right")
    table.add_row("actual no", str(metrics.tn), str(metrics.fp))
    table.add_row("actual yes", str(metrics.fn), str(metrics.tp))
    return table


@dataclass(frozen=True)
class EvaluationOutputs:
    metrics_json: Path
    confusion_matrix_png: Path
    roc_curve_png: Path
    report_md: Path

    def all(self) -> tuple[Path, ...]:
        return (self.metrics_json, self.confusion_matrix_png, self.roc_curve_png, self.report_md)


@dataclass(frozen=True)
class Evaluation:
    metrics: Metrics
    predictions: Predictions
    outputs: EvaluationOutputs


def evaluate_run(
    test_split: Path,
    out_dir: Path,
    invoke: Invoke,
    *,
    batch_size: int = 100,
    content_type: str = LIBSVM,
    n_features: int | None = None,
    concurrency: int = 4,
    threshold: float = 0.5,
    context: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    model: report.ModelOrigin | None = None,
) -> Evaluation:
    """Score the test split through ``invoke`` and write metrics.json, both plots and report.md to ``out_dir``.

    ``context`` (endpoint, training job, image, hyperparameters, dataset sha256, ...) goes into the report
    as given; the evaluation's own settings and latencies are added to it. ``model`` (the training record's job,
    hyperparameters and tuning job) lets the report say how the model's hyperparameters differ from the workshop's.
    """
    predictions = predict_all(
        batches(test_split, batch_size, content_type, n_features), invoke, concurrency, progress
    )
    metrics = compute_metrics(predictions.y_true, predictions.y_score, threshold)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = EvaluationOutputs(
        metrics_json=metrics.to_json(out_dir / "metrics.json"),
        confusion_matrix_png=plots.plot_confusion_matrix(metrics, out_dir / "confusion_matrix.png"),
        roc_curve_png=plots.plot_roc_curve(predictions.y_true, predictions.y_score, out_dir / "roc_curve.png"),
        report_md=out_dir / "report.md",
    )
    run_context = {"timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(context or {})}
    run_context.update({
        "test split": str(test_split),
        "batch size": batch_size,
        "request content type": content_type,
        "concurrency": concurrency,
        "requests": predictions.n_requests,
        "request latency p50 / p99 (ms)": f"{predictions.latency_ms(50):.1f} / {predictions.latency_ms(99):.1f}",
    })
    report.write_report(
        metrics, outputs.report_md, run_context,
        images={"Confusion matrix": outputs.confusion_matrix_png, "ROC curve": outputs.roc_curve_png},
        model=model,
    )
    return Evaluation(metrics, predictions, outputs)
