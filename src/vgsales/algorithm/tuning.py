"""Tuning the built-in XGBoost algorithm: which hyperparameter takes which range, and what a tuning job may ask.

One set of rules for both sides: the emulator refuses a CreateHyperParameterTuningJob that breaks them
(emulator/tuning_request.py), and the workshop refuses `workshop.tuning` settings before anything runs
(settings.py). Values are checked by the algorithm's own hyperparameter rules (hyperparameters.py); scaling
rules are SageMaker's ("Define Hyperparameter Ranges" in the SageMaker developer guide). Importing this module
does not import xgboost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import WorkshopError
from .versions import Version
from .hyperparameters import (
    ALIASES,
    SCHEMA,
    TUNING_OBJECTIVES,
    InvalidHyperparameter,
    UnsupportedByEmulator,
    training_plan,
)

KINDS = ("Integer", "Continuous", "Categorical")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
MAX_RANGES = 30  # SageMaker's limit on the number of tuned hyperparameters


class InvalidTuning(WorkshopError, ValueError):
    """A range or a tuning job the algorithm (or SageMaker) would not accept; the message names the hyperparameter."""


@dataclass(frozen=True)
class ParameterRange:
    """One of a tuning job's ParameterRanges: kind Integer, Continuous or Categorical; scaling as SageMaker names it."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Auto"
    values: tuple[str, ...] = ()

    def text(self, value: float) -> str:
        return str(int(value)) if self.kind == "Integer" else repr(float(value))

    def first_value(self) -> str:
        return self.values[0] if self.kind == "Categorical" else self.text(self.low)

    def api_shape(self) -> dict[str, object]:
        """The entry of <Kind>ParameterRanges in a CreateHyperParameterTuningJob request."""
        if self.kind == "Categorical":
            return {"Name": self.name, "Values": list(self.values)}
        return {"Name": self.name, "MinValue": self.text(self.low), "MaxValue": self.text(self.high),
                "ScalingType": self.scaling}


def grid_size(ranges: list[ParameterRange]) -> int:
    """The training jobs of a Grid search: one per combination of the categorical values."""
    return math.prod(len(parameter.values) for parameter in ranges)


def range_kind(name: str) -> str | None:
    """The kind of range a hyperparameter takes (aliases count as their hyperparameter); None for no hyperparameter."""
    canonical = ALIASES.get(name, name)
    spec = SCHEMA.get(canonical)
    if spec is None or canonical.startswith("_"):
        return None
    return {"integer": "Integer", "continuous": "Continuous"}.get(spec.kind, "Categorical")


def objective_type(metric: str) -> str | None:
    """Maximize or Minimize, as the algorithm declares for a metric it can be tuned on; None for any other metric."""
    return TUNING_OBJECTIVES.get(metric)


def check_range(parameter: ParameterRange, version: Version | None = None) -> None:
    name = parameter.name
    expected = range_kind(name)
    if expected is None:
        raise InvalidTuning(f"{name!r} is not a hyperparameter of the built-in XGBoost algorithm.")
    if parameter.kind == "Categorical":
        if not parameter.values:
            raise InvalidTuning(f"the categorical range of {name!r} needs at least one value.")
        if len(set(parameter.values)) != len(parameter.values):
            raise InvalidTuning(f"the categorical range of {name!r} lists a value twice.")
        for value in parameter.values:
            _check_value(name, value, version)
        return
    if parameter.kind != expected:
        raise InvalidTuning(f"{name!r} is a {expected.lower()} hyperparameter, so its range must be {expected}, "
                            f"not {parameter.kind}.")
    if parameter.kind == "Integer" and not (float(parameter.low).is_integer() and float(parameter.high).is_integer()):
        raise InvalidTuning(f"the integer range of {name!r} needs whole-number bounds, got {parameter.low:g} and "
                            f"{parameter.high:g}.")
    if parameter.low > parameter.high:
        raise InvalidTuning(f"the range of {name!r} has its minimum {parameter.low:g} above its maximum {parameter.high:g}.")
    for bound in (parameter.low, parameter.high):
        _check_value(name, parameter.text(bound), version)
    if parameter.scaling not in SCALING_TYPES:
        raise InvalidTuning(f"the scaling {parameter.scaling!r} of {name!r} is not one of {', '.join(SCALING_TYPES)}.")
    if parameter.scaling == "Logarithmic" and parameter.low <= 0:
        raise InvalidTuning(f"{name!r}: Logarithmic scaling works only for ranges that have values greater than 0.")
    if parameter.scaling == "ReverseLogarithmic" and (
        parameter.kind != "Continuous" or not 0 <= parameter.low <= parameter.high < 1
    ):
        raise InvalidTuning(f"{name!r}: ReverseLogarithmic scaling works only for continuous ranges entirely within "
                            "0 <= x < 1.0.")


def _check_value(name: str, value: str, version: Version | None = None) -> None:
    try:
        training_plan({name: value} if ALIASES.get(name, name) == "num_round" else {name: value, "num_round": "1"}, version)
    except InvalidHyperparameter as exc:
        if exc.name in (name, ALIASES.get(name, name)):
            raise InvalidTuning(exc.problem) from None
    except UnsupportedByEmulator as exc:
        raise InvalidTuning(str(exc)) from None


def check_job(static: Mapping[str, str], ranges: list[ParameterRange], metric: str, version: Version | None = None) -> None:
    """The ranges together, and with the static hyperparameters: a job the algorithm of that image version
    (None: the newest) accepts at every range's first value, each hyperparameter in one place only."""
    names = [ALIASES.get(parameter.name, parameter.name) for parameter in ranges]
    if not names:
        raise InvalidTuning("a tuning job needs at least one hyperparameter range.")
    if len(names) > MAX_RANGES:
        raise InvalidTuning(f"{len(names)} hyperparameters are tuned; SageMaker allows at most {MAX_RANGES}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidTuning(f"{repeated[0]!r} has more than one range.")
    both = sorted({ALIASES.get(name, name) for name in static} & set(names))
    if both:
        raise InvalidTuning(f"{both[0]!r} is both a static hyperparameter and tuned; give it in one place.")
    for parameter in ranges:
        check_range(parameter, version)
    sample = {parameter.name: parameter.first_value() for parameter in ranges}
    try:
        training_plan({**static, **sample, "_tuning_objective_metric": metric}, version)
    except (InvalidHyperparameter, UnsupportedByEmulator) as exc:
        raise InvalidTuning(str(exc)) from None
