"""The search behind a tuning job: optuna proposes each training job's hyperparameters and learns from its result.

SageMaker's strategies map onto optuna's samplers:
- Random: ``RandomSampler``, each job independent of the others;
- Bayesian: ``TPESampler`` (a sequential model-based optimiser; SageMaker's own uses a Gaussian process) with
  ``constant_liar``, so that jobs proposed while others still run do not all crowd the same point. Its first
  ``startup_jobs`` jobs are random, to give the model something to learn from;
- Grid: every combination of the categorical values once, in a shuffled order (as optuna's ``GridSampler``,
  which cannot run ask-and-tell).

Early stopping (TrainingJobEarlyStoppingType Auto) is optuna's ``MedianPruner``: after EARLY_STOPPING_AFTER_JOBS
jobs have ended, a job is stopped at a round if its best objective value so far is worse than the median of the
ended jobs' values at that round. That is the rule SageMaker documents ("the median of the running averages of
the objective metric of all previous training jobs up to the same epoch"), with values instead of running averages.

Importing this module imports optuna, so the emulator imports it only when a tuning job starts.
"""

from __future__ import annotations

import itertools
import math
import random
import threading

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from ..algorithm.tuning import ParameterRange

optuna.logging.set_verbosity(optuna.logging.WARNING)  # the emulator's log is not optuna's progress report

EARLY_STOPPING_AFTER_JOBS = 3
EARLY_STOPPING_WARM_UP_ROUNDS = 5


def _distribution(parameter: ParameterRange) -> BaseDistribution:
    if parameter.kind == "Categorical":
        return CategoricalDistribution(parameter.values)
    log = parameter.scaling == "Logarithmic"  # Auto: the emulator searches linearly (SageMaker decides itself)
    if parameter.kind == "Integer":
        return IntDistribution(int(parameter.low), int(parameter.high), log=log)
    if parameter.scaling == "ReverseLogarithmic":
        # Dense near 1, as SageMaker's reverse-logarithmic scale: search log(1 - x) over [1 - high, 1 - low].
        return FloatDistribution(1.0 - parameter.high, 1.0 - parameter.low, log=True)
    return FloatDistribution(parameter.low, parameter.high, log=log)


def _as_text(parameter: ParameterRange, value: float | int | str) -> str:
    """The hyperparameter string a training job receives, as SageMaker passes it."""
    if parameter.kind == "Categorical":
        return str(value)
    if parameter.kind == "Integer":
        return str(int(value))
    number = 1.0 - float(value) if parameter.scaling == "ReverseLogarithmic" else float(value)
    # Keep inside the range where 1 - (1 - x) rounds just outside it.
    number = min(max(number, parameter.low), parameter.high)
    return repr(number)


class Search:
    """Proposes hyperparameters for one tuning job. Thread-safe: rounds are reported from the jobs' threads."""

    def __init__(
        self,
        strategy: str,
        ranges: list[ParameterRange],
        maximize: bool,
        seed: int | None,
        max_jobs: int,
        early_stopping: bool,
    ) -> None:
        self._ranges = ranges
        self._distributions = {parameter.name: _distribution(parameter) for parameter in ranges}
        if strategy in ("Grid", "Random"):
            sampler: optuna.samplers.BaseSampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(
                seed=seed, constant_liar=True, n_startup_trials=self.startup_jobs(max_jobs)
            )
        pruner = (
            optuna.pruners.MedianPruner(
                n_startup_trials=EARLY_STOPPING_AFTER_JOBS, n_warmup_steps=EARLY_STOPPING_WARM_UP_ROUNDS
            )
            if early_stopping
            else optuna.pruners.NopPruner()
        )
        self._study = optuna.create_study(
            direction="maximize" if maximize else "minimize", sampler=sampler, pruner=pruner
        )
        self._lock = threading.Lock()
        if strategy == "Grid":
            # optuna's GridSampler ends its study from inside an objective function, which ask-and-tell has not:
            # queue every combination instead, in a shuffled order as GridSampler has.
            grid = list(itertools.product(*(parameter.values for parameter in ranges)))
            random.Random(seed).shuffle(grid)
            for values in grid:
                self._study.enqueue_trial(dict(zip((parameter.name for parameter in ranges), values)))

    @staticmethod
    def startup_jobs(max_jobs: int) -> int:
        """Random jobs before TPE models the results: optuna's default of 10, at most half of a small budget."""
        return max(1, min(10, max_jobs // 2))

    def propose(self) -> tuple[optuna.trial.Trial, dict[str, str]]:
        with self._lock:
            trial = self._study.ask(self._distributions)
        return trial, {parameter.name: _as_text(parameter, trial.params[parameter.name]) for parameter in self._ranges}

    def report_round(self, trial: optuna.trial.Trial, round_index: int, value: float) -> bool:
        """Record a round's objective value; True when early stopping would stop the job here."""
        if math.isnan(value):
            return False
        with self._lock:
            trial.report(value, round_index)
            return trial.should_prune()

    def finish(self, trial: optuna.trial.Trial, value: float | None, stopped_early: bool) -> None:
        with self._lock:
            if value is None or math.isnan(value):
                self._study.tell(trial, state=TrialState.FAIL)
            elif stopped_early:
                self._study.tell(trial, state=TrialState.PRUNED)
            else:
                self._study.tell(trial, value)
