"""The built-in XGBoost algorithm's training run: a plan and data in, a booster, its metrics and the artifact out.

Each boosting round is reported as the container prints it to CloudWatch, e.g.
``[3]#011train-auc:0.87512#011validation-auc:0.85201`` (``#011`` is how CloudWatch shows the tab the container
writes), and the caller can stop the run between rounds.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import xgboost as xgb

from .data_formats import TrainingData
from .hyperparameters import TrainingPlan, metric_is_maximized
from .metrics import container_metric

MODEL_FILENAME = "xgboost-model"
TAB = "#011"
XGBOOST_VERSION = xgb.__version__
XGBoostError = xgb.core.XGBoostError

EvalsLog = dict[str, dict[str, list[float]]]


def format_round(epoch: int, evals_log: EvalsLog) -> str:
    parts = [f"[{epoch}]"]
    for data_name, metrics in evals_log.items():
        for metric_name, values in metrics.items():
            parts.append(f"{data_name}-{metric_name}:{values[-1]:.5f}")
    return TAB.join(parts)


class _RoundReporter(xgb.callback.TrainingCallback):
    def __init__(
        self,
        report: Callable[[str], None],
        should_stop: Callable[[], bool],
        observe: Callable[[int, dict[str, float]], None] | None,
        after_round: Callable[[xgb.Booster, int], None] | None = None,
    ) -> None:
        super().__init__()
        self._report = report
        self._should_stop = should_stop
        self._observe = observe
        self._after_round = after_round
        self.latest: dict[str, float] = {}
        self.rounds = 0
        self._start = 0  # the rounds of a model resumed from, which XGBoost's epochs do not count

    def before_training(self, model: xgb.Booster) -> xgb.Booster:
        self._start = model.num_boosted_rounds()  # as XGBoost's own TrainingCheckPoint counts
        return model

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: EvalsLog) -> bool:
        epoch += self._start  # the container prints rounds counted from the first ever (PrintCheckpoint)
        self.rounds = epoch + 1
        if self._after_round is not None:
            self._after_round(model, epoch)
        if evals_log:
            self._report(format_round(epoch, evals_log))
            self.latest = {
                f"{data_name}:{metric_name}": float(values[-1])
                for data_name, metrics in evals_log.items()
                for metric_name, values in metrics.items()
            }
            if self._observe is not None:
                self._observe(epoch, dict(self.latest))
        return self._should_stop()


@dataclass
class TrainingOutcome:
    booster: xgb.Booster
    rounds: int
    final_metrics: dict[str, float]  # e.g. {"train:auc": 0.91, "validation:auc": 0.87}
    stopped: bool  # the caller's should_stop ended the run before num_round


def train(
    plan: TrainingPlan,
    data: TrainingData,
    report: Callable[[str], None],
    should_stop: Callable[[], bool] = lambda: False,
    observe: Callable[[int, dict[str, float]], None] | None = None,
    resume_from: xgb.Booster | None = None,
    after_round: Callable[[xgb.Booster, int], None] | None = None,
) -> TrainingOutcome:
    """Run xgboost.train as the algorithm does: evaluate on train (and validation), honour early stopping.

    ``observe`` sees each round's metrics (as {"validation:auc": ...}) before ``should_stop`` is asked.
    ``resume_from``: a checkpoint's model, whose rounds count towards num_round (checkpoints.py); ``after_round``
    gets the model after each round, with the round's index counted from the first ever (to write checkpoints).
    """
    evals = [(data.train, "train")]
    if data.validation is not None:
        evals.append((data.validation, "validation"))
    custom = container_metric(plan.container_metrics, plan.objective) if plan.container_metrics else None
    last_metric = (plan.native_metrics + plan.container_metrics)[-1:] or [None]
    maximize = metric_is_maximized(last_metric[0]) if custom and last_metric[0] else None
    stop_checks = {"stopped": False}

    def stop_requested() -> bool:
        stop_checks["stopped"] = stop_checks["stopped"] or should_stop()
        return stop_checks["stopped"]

    reporter = _RoundReporter(report, stop_requested, observe, after_round)
    callbacks: list[xgb.callback.TrainingCallback] = [reporter]
    # The container's early stopping (callback.get_callbacks): on the validation set only, on one named metric,
    # keeping the best round's model.
    if plan.early_stopping_rounds and plan.early_stopping_metric and data.validation is not None:
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=plan.early_stopping_rounds,
                data_name="validation",
                metric_name=plan.early_stopping_metric,
                maximize=metric_is_maximized(plan.early_stopping_metric),
                save_best=True,
            )
        )
    done = resume_from.num_boosted_rounds() if resume_from is not None else 0
    booster = xgb.train(
        plan.params,
        data.train,
        # the container: num_round - iteration; none left, and xgb.train returns the model as it is
        num_boost_round=max(0, plan.num_round - done),
        xgb_model=resume_from,
        evals=evals,
        maximize=maximize,
        verbose_eval=False,
        callbacks=callbacks,
        custom_metric=custom,
    )
    return TrainingOutcome(booster, reporter.rounds or done, reporter.latest, stop_checks["stopped"])


def load_booster(raw: bytes) -> xgb.Booster:
    """A model saved by save_model or save_raw (JSON or UBJSON), e.g. a checkpoint to resume from."""
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    return booster


def model_archive(booster: xgb.Booster) -> bytes:
    """model.tar.gz as the algorithm writes it: one member, ``xgboost-model``, loadable with Booster.load_model."""
    raw = bytes(booster.save_raw(raw_format="ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo(MODEL_FILENAME)
        member.size = len(raw)
        member.mode = 0o644
        member.mtime = int(time.time())
        archive.addfile(member, io.BytesIO(raw))
    return buffer.getvalue()
