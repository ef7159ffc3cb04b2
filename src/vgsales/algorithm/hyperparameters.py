"""The built-in SageMaker XGBoost algorithm's hyperparameters: validation, and their mapping onto ``xgboost.train``.

The schema follows the algorithm container's own (aws/sagemaker-xgboost-container, algorithm_mode/
hyperparameter_validation.py): the same names, aliases, types, ranges and cross-checks. A job that the real
algorithm would reject is rejected here with a reason that names the hyperparameter, and the workshop can call
``validate_hyperparameters`` before it creates a job on either target. Importing this module does not import
xgboost.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import WorkshopError
from .versions import Version, accepts_hyperparameter, image_text, versions_accepting

DOC_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost_hyperparameters.html"

# Evaluation metrics the algorithm accepts. XGBoost computes the native ones; the container computes the
# others itself (with scikit-learn), and so does the emulator (see metrics.py).
NATIVE_METRICS = (
    "aft-nloglik", "auc", "aucpr", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik",
    "interval-regression-accuracy", "logloss", "mae", "map", "mape", "merror", "mlogloss", "mphe", "ndcg",
    "poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik",
)
CONTAINER_METRICS = (
    "accuracy", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "mse", "precision", "precision_macro",
    "precision_micro", "r2", "recall", "recall_macro", "recall_micro",
)
MAXIMIZED_METRICS = frozenset(
    ("accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg", "precision",
     "precision_macro", "precision_micro", "r2", "recall", "recall_macro", "recall_micro")
)
# The metrics a tuning job may optimise, each on the validation channel, and the direction the algorithm declares
# for it (the container's algorithm_mode/metrics.py and constants/xgb_constants.py, XGB_MAXIMIZE_METRICS and
# XGB_MINIMIZE_METRICS).
TUNING_MAXIMIZED = (
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg", "precision", "r2",
    "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro",
)
TUNING_MINIMIZED = (
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy", "logloss",
    "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik",
)
TUNING_OBJECTIVES = {f"validation:{metric}": "Maximize" for metric in TUNING_MAXIMIZED} | {
    f"validation:{metric}": "Minimize" for metric in TUNING_MINIMIZED
}
# What the container marks tunable=True (algorithm_mode/hyperparameter_validation.py).
TUNABLE = (
    "num_round", "eta", "gamma", "max_depth", "min_child_weight", "max_delta_step", "subsample", "colsample_bytree",
    "colsample_bylevel", "colsample_bynode", "lambda", "alpha",
)
# A metric may carry a threshold or cut-off, e.g. error@0.7 or ndcg@5.
METRICS_WITH_PARAMETER = ("error", "ndcg", "map")

OBJECTIVES = (
    "binary:hinge", "binary:logistic", "binary:logitraw", "count:poisson", "multi:softmax", "multi:softprob",
    "rank:map", "rank:ndcg", "rank:pairwise", "reg:absoluteerror", "reg:gamma", "reg:linear", "reg:logistic",
    "reg:pseudohubererror", "reg:squarederror", "reg:squaredlogerror", "reg:tweedie", "survival:aft",
    "survival:cox",
)
DEFAULT_OBJECTIVE = "reg:squarederror"
UPDATERS = (
    "coord_descent", "distcol", "grow_colmaker", "grow_histmaker", "grow_local_histmaker",
    "grow_quantile_histmaker", "grow_skmaker", "prune", "refresh", "shotgun", "sync",
)

ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}


class InvalidHyperparameter(WorkshopError, ValueError):
    """A hyperparameter the built-in XGBoost algorithm would reject. ``name`` is the offending hyperparameter."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{problem} See {DOC_URL} for the hyperparameters of the built-in XGBoost algorithm.")


@dataclass(frozen=True)
class Interval:
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        def bound(value: float) -> str:
            if math.isinf(value):
                return "+inf" if value > 0 else "-inf"
            return str(int(value)) if float(value).is_integer() else str(value)

        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{left}{bound(self.low)}, {bound(self.high)}{right}"


AT_LEAST_0 = Interval(0)
AT_LEAST_1 = Interval(1)
UNIT = Interval(0, 1)
UNIT_OPEN_LOW = Interval(0, 1, low_open=True)
FLAG = Interval(0, 1)


@dataclass(frozen=True)
class Spec:
    kind: str  # integer | continuous | categorical | list | metrics | tuple | nested
    interval: Interval | None = None
    choices: tuple[str, ...] = ()
    required: bool = False


def _integer(interval: Interval, required: bool = False) -> Spec:
    return Spec("integer", interval=interval, required=required)


def _continuous(interval: Interval) -> Spec:
    return Spec("continuous", interval=interval)


def _categorical(*choices: str) -> Spec:
    return Spec("categorical", choices=choices)


SCHEMA: dict[str, Spec] = {
    "num_round": _integer(AT_LEAST_1, required=True),
    "num_class": _integer(Interval(2)),
    "alpha": _continuous(AT_LEAST_0),
    "aft_loss_distribution": _categorical("normal", "logistic", "extreme"),
    "aft_loss_distribution_scale": _continuous(AT_LEAST_0),
    "base_score": _continuous(AT_LEAST_0),
    "booster": _categorical("gbtree", "gblinear", "dart"),
    "colsample_bylevel": _continuous(UNIT_OPEN_LOW),
    "colsample_bynode": _continuous(UNIT_OPEN_LOW),
    "colsample_bytree": _continuous(UNIT_OPEN_LOW),
    "csv_weights": _integer(FLAG),
    "deterministic_histogram": _categorical("true", "false"),
    "dsplit": _categorical("row", "col"),
    "early_stopping_rounds": _integer(AT_LEAST_1),
    "eta": _continuous(UNIT),
    "eval_metric": Spec("metrics"),
    "gamma": _continuous(AT_LEAST_0),
    "grow_policy": _categorical("depthwise", "lossguide"),
    "interaction_constraints": Spec("nested"),
    "lambda": _continuous(AT_LEAST_0),
    "lambda_bias": _continuous(UNIT),
    "max_bin": _integer(AT_LEAST_0),
    "max_delta_step": _continuous(AT_LEAST_0),
    "max_depth": _integer(AT_LEAST_0),
    "max_leaves": _integer(AT_LEAST_0),
    "min_child_weight": _continuous(AT_LEAST_0),
    "monotone_constraints": Spec("tuple"),
    "normalize_type": _categorical("tree", "forest"),
    "nthread": _integer(AT_LEAST_1),
    "num_parallel_tree": _integer(AT_LEAST_1),
    "objective": _categorical(*OBJECTIVES),
    "one_drop": _integer(FLAG),
    "predictor": _categorical("auto", "cpu_predictor", "gpu_predictor"),
    "prob_buffer_row": _continuous(Interval(1, low_open=True)),
    "process_type": _categorical("default", "update"),
    "rate_drop": _continuous(UNIT),
    "refresh_leaf": _integer(FLAG),
    "sample_type": _categorical("uniform", "weighted"),
    "sampling_method": _categorical("uniform", "gradient_based"),
    "save_model_on_termination": _categorical("true", "false"),
    "scale_pos_weight": _continuous(Interval(0, low_open=True)),
    "seed": _integer(Interval(-(2**31), 2**31 - 1, low_open=True, high_open=True)),
    "silent": _integer(FLAG),
    "single_precision_histogram": _categorical("true", "false"),
    "sketch_eps": _continuous(Interval(0, 1, low_open=True, high_open=True)),
    "skip_drop": _continuous(UNIT),
    "subsample": _continuous(UNIT_OPEN_LOW),
    "tree_method": _categorical("auto", "exact", "approx", "hist", "gpu_hist"),
    "tweedie_variance_power": _continuous(Interval(1, 2, low_open=True, high_open=True)),
    "updater": Spec("list", choices=UPDATERS),
    "use_dask_gpu_training": _categorical("true", "false"),
    "verbosity": _integer(Interval(0, 3)),
    # Set by SageMaker automatic model tuning and cross-validation, not by users.
    "_tuning_objective_metric": Spec("categorical", choices=tuple(TUNING_OBJECTIVES)),
    "_kfold": _integer(Interval(2)),
    "_nfold": _integer(Interval(2)),  # 1.2-1's name for _kfold
    "_num_cv_round": _integer(AT_LEAST_1),
}


def _as_text(name: str, value: object) -> str:
    """The string SageMaker would carry for a value given in Python (YAML, a dict literal)."""
    spec = SCHEMA[name]
    if isinstance(value, bool):
        if spec.kind == "categorical" and set(spec.choices) == {"true", "false"}:
            return "true" if value else "false"
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} got the boolean {value!r}, which is not a valid value.")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, (list, tuple)) and spec.kind in ("metrics", "list"):
        return ",".join(str(item) for item in value)
    if isinstance(value, (list, tuple)) and spec.kind in ("tuple", "nested"):
        return str(tuple(value) if spec.kind == "tuple" else [list(inner) for inner in value])
    raise InvalidHyperparameter(name, f"Hyperparameter {name!r} got a {type(value).__name__}, which is not a valid value.")


def _number(name: str, text: str, spec: Spec) -> float:
    kind = "an integer" if spec.kind == "integer" else "a number"
    try:
        number = int(text) if spec.kind == "integer" else float(text)
    except ValueError:
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be {kind} in {spec.interval}, got {text!r}.") from None
    if isinstance(number, float) and math.isnan(number):
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be {kind} in {spec.interval}, got {text!r}.")
    if number not in spec.interval:  # type: ignore[operator]
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be in {spec.interval}, got {text!r}.")
    return number


def _check_metric(metric: str) -> None:
    base, _, parameter = metric.partition("@")
    if parameter:
        if base not in METRICS_WITH_PARAMETER:
            raise InvalidHyperparameter(
                "eval_metric",
                f"Hyperparameter 'eval_metric': metric {metric!r} is not supported; only {', '.join(METRICS_WITH_PARAMETER)} "
                "take an '@' parameter.",
            )
        try:
            float(parameter)
        except ValueError:
            raise InvalidHyperparameter(
                "eval_metric", f"Hyperparameter 'eval_metric': the threshold in {metric!r} must be a number, e.g. {base}@0.5."
            ) from None
        return
    if metric not in NATIVE_METRICS and metric not in CONTAINER_METRICS:
        close = difflib.get_close_matches(metric, NATIVE_METRICS + CONTAINER_METRICS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidHyperparameter("eval_metric", f"Hyperparameter 'eval_metric' names an unknown metric {metric!r}{hint}.")


def _check_value(name: str, text: str) -> None:
    spec = SCHEMA[name]
    if spec.kind in ("integer", "continuous"):
        _number(name, text, spec)
    elif spec.kind == "categorical" and spec.choices and text not in spec.choices:
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be one of {', '.join(spec.choices)}; got {text!r}.")
    elif spec.kind == "list":
        unknown = [item for item in text.split(",") if item not in spec.choices]
        if unknown:
            raise InvalidHyperparameter(
                name, f"Hyperparameter {name!r} lists {', '.join(map(repr, unknown))}, not among {', '.join(spec.choices)}."
            )
    elif spec.kind == "metrics":
        for metric in text.split(","):
            _check_metric(metric.strip())
    elif spec.kind == "tuple":
        constraints = _literal(name, text, "a tuple such as (1,0,-1)")
        if not isinstance(constraints, (tuple, list)) or any(c not in (-1, 0, 1) for c in constraints):
            raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be a tuple of -1, 0 and 1, got {text!r}.")
    elif spec.kind == "nested":
        groups = _literal(name, text, "a list of lists of feature indices such as [[0,1],[2,3]]")
        valid = isinstance(groups, list) and all(
            isinstance(group, list) and all(isinstance(i, int) and i >= 0 for i in group) for group in groups
        )
        if not valid:
            raise InvalidHyperparameter(
                name, f"Hyperparameter {name!r} must be a list of lists of feature indices, got {text!r}."
            )


def _literal(name: str, text: str, expected: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise InvalidHyperparameter(name, f"Hyperparameter {name!r} must be {expected}, got {text!r}.") from None


def _check_dependencies(hp: Mapping[str, str]) -> None:
    objective = hp.get("objective")
    if objective in ("multi:softmax", "multi:softprob") and "num_class" not in hp:
        raise InvalidHyperparameter("num_class", f"Objective {objective!r} needs hyperparameter 'num_class' (the number of classes).")
    if objective is None and "num_class" in hp:
        raise InvalidHyperparameter(
            "num_class", "Hyperparameter 'num_class' applies only to multi-class objectives (multi:softmax, multi:softprob)."
        )
    metrics = _evaluation_metrics(hp)  # a tuning job's objective metric is evaluated too
    effective_objective = objective or DEFAULT_OBJECTIVE
    ranking_or_classification = effective_objective.startswith(("binary:", "rank:"))
    if ("auc" in metrics or "aucpr" in metrics) and not ranking_or_classification:
        raise InvalidHyperparameter(
            "eval_metric",
            "Hyperparameter 'eval_metric': metric 'auc' can only be applied for classification and ranking "
            f"problems, not objective {effective_objective!r}.",
        )
    if "aft-nloglik" in metrics and effective_objective != "survival:aft":
        raise InvalidHyperparameter(
            "eval_metric",
            "Hyperparameter 'eval_metric': metric 'aft-nloglik' can only be applied for the 'survival:aft' objective.",
        )
    tree_method = hp.get("tree_method")
    if "monotone_constraints" in hp and tree_method not in ("exact", "hist"):
        raise InvalidHyperparameter(
            "monotone_constraints", "Hyperparameter 'monotone_constraints' can be used only when tree_method is 'exact' or 'hist'."
        )
    if "interaction_constraints" in hp and tree_method not in ("exact", "hist", "approx"):
        raise InvalidHyperparameter(
            "interaction_constraints",
            "Hyperparameter 'interaction_constraints' can be used only when tree_method is 'exact', 'hist' or 'approx'.",
        )


def validate_hyperparameters(hp: Mapping[str, object], version: Version | None = None) -> dict[str, str]:
    """Check hyperparameters as the built-in XGBoost algorithm of that image version does (versions.py; None: the
    newest); return them as the strings a job carries.

    Aliases (``learning_rate``, ``min_split_loss``, ``reg_lambda``, ``reg_alpha``) become their canonical names.
    Raises InvalidHyperparameter (a WorkshopError and a ValueError) naming the first offending hyperparameter.
    """
    validated: dict[str, str] = {}
    given_as: dict[str, str] = {}
    for raw_name, value in hp.items():
        name = ALIASES.get(raw_name, raw_name)
        if name not in SCHEMA:
            close = difflib.get_close_matches(name, list(SCHEMA) + list(ALIASES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidHyperparameter(
                raw_name, f"Hyperparameter {raw_name!r} is not a hyperparameter of the built-in XGBoost algorithm{hint}."
            )
        if not accepts_hyperparameter(name, version):
            raise InvalidHyperparameter(
                raw_name,
                f"Hyperparameter {raw_name!r} is not a hyperparameter of the built-in XGBoost algorithm in "
                f"{image_text(version)}; it is one in {versions_accepting(name)}.",
            )
        if name in validated:
            raise InvalidHyperparameter(
                raw_name, f"Hyperparameters {given_as[name]!r} and {raw_name!r} both set {name!r}; give only one of them."
            )
        given_as[name] = raw_name
        text = _as_text(name, value)
        _check_value(name, text)
        validated[name] = text
    for name, spec in SCHEMA.items():
        if spec.required and name not in validated:
            raise InvalidHyperparameter(
                name, f"Hyperparameter {name!r} is required by the built-in XGBoost algorithm (the number of boosting rounds)."
            )
    _check_dependencies(validated)
    return validated


class UnsupportedByEmulator(WorkshopError):
    """Valid for the algorithm on AWS, but the local emulator cannot honour it."""


# Accepted by the algorithm but gone from XGBoost 2+ (the container drops them too, or they only mattered on GPUs).
OBSOLETE = frozenset(
    ("deterministic_histogram", "dsplit", "lambda_bias", "predictor", "prob_buffer_row", "silent",
     "single_precision_histogram", "sketch_eps")
)
# Hyperparameters of the container that steer how it runs rather than XGBoost itself.
CONTAINER_ONLY = frozenset(
    ("num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination", "_tuning_objective_metric",
     "use_dask_gpu_training", "eval_metric")
)


@dataclass
class TrainingPlan:
    """What to hand to xgboost.train, derived from validated hyperparameters."""

    params: dict[str, Any]
    num_round: int
    early_stopping_rounds: int | None
    # The container stops on one metric of the validation set: the tuning objective's, else eval_metric's last.
    early_stopping_metric: str | None
    csv_weights: bool
    save_model_on_termination: bool
    native_metrics: list[str]
    container_metrics: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def objective(self) -> str:
        return str(self.params.get("objective", DEFAULT_OBJECTIVE))


def training_plan(hp: Mapping[str, object], version: Version | None = None) -> TrainingPlan:
    """Validate ``hp`` for the image version (None: the newest) and translate it into xgboost.train arguments for
    the installed XGBoost release.

    Raises InvalidHyperparameter for what the algorithm rejects, UnsupportedByEmulator for what it accepts but
    the emulator cannot do (GPU training, cross-validation mode).
    """
    validated = validate_hyperparameters(hp, version)
    notes: list[str] = []
    if validated.get("tree_method") == "gpu_hist" or validated.get("use_dask_gpu_training") == "true":
        raise UnsupportedByEmulator("The local emulator trains on CPU only; GPU training (tree_method=gpu_hist or "
                                    "use_dask_gpu_training=true) needs the aws target.")
    if "_kfold" in validated or "_nfold" in validated or "_num_cv_round" in validated:
        raise UnsupportedByEmulator("The local emulator does not run the algorithm's cross-validation mode "
                                    "(_kfold or _nfold, _num_cv_round); use the aws target.")
    params: dict[str, Any] = {}
    for name, text in validated.items():
        if name in CONTAINER_ONLY or name.startswith("_"):
            continue
        if name in OBSOLETE:
            notes.append(f"Hyperparameter {name}={text} has no effect with XGBoost 3 and is ignored.")
            continue
        spec = SCHEMA[name]
        if spec.kind == "integer":
            params[name] = int(text)
        elif spec.kind == "continuous":
            params[name] = float(text)
        else:
            params[name] = text
    if params.get("objective") == "reg:linear":
        params["objective"] = "reg:squarederror"
        notes.append("Objective reg:linear is the old name of reg:squarederror; training with reg:squarederror.")
    metrics = _evaluation_metrics(validated)
    native = [metric for metric in metrics if metric.split("@")[0] in NATIVE_METRICS]
    container = [metric for metric in metrics if metric in CONTAINER_METRICS]
    if native:
        params["eval_metric"] = native
    if container and not native:
        # Without a native metric XGBoost would add its default one and report it beside the requested ones.
        params["disable_default_eval_metric"] = 1
    stopping_metric = _stopping_metric(validated)
    if "early_stopping_rounds" in validated and stopping_metric is None:
        notes.append("Hyperparameter early_stopping_rounds has no effect without eval_metric (as in the algorithm's "
                     "container, which stops on a named metric only).")
    return TrainingPlan(
        params=params,
        num_round=int(validated["num_round"]),
        early_stopping_rounds=int(validated["early_stopping_rounds"]) if "early_stopping_rounds" in validated else None,
        early_stopping_metric=stopping_metric,
        csv_weights=validated.get("csv_weights") == "1",
        save_model_on_termination=validated.get("save_model_on_termination") == "true",
        native_metrics=native,
        container_metrics=container,
        notes=notes,
    )


def _tuning_metric(validated: Mapping[str, str]) -> str | None:
    """The metric part of _tuning_objective_metric ("validation:auc" -> "auc"), as the container decodes it."""
    objective = validated.get("_tuning_objective_metric")
    return objective.split(":")[1] if objective else None


def _evaluation_metrics(validated: Mapping[str, str]) -> list[str]:
    """eval_metric, joined by a tuning job's objective metric (train_utils.get_union_metrics: sorted when both)."""
    metrics = [metric.strip() for metric in validated.get("eval_metric", "").split(",") if metric.strip()]
    tuning = _tuning_metric(validated)
    if tuning is None:
        return metrics
    return sorted(set(metrics) | {tuning}) if metrics else [tuning]


def _stopping_metric(validated: Mapping[str, str]) -> str | None:
    """The container's early_stopping_metric (algorithm_mode/train.py): the objective's, else eval_metric's last."""
    if "early_stopping_rounds" not in validated:
        return None
    metrics = [_tuning_metric(validated)] if "_tuning_objective_metric" in validated else _evaluation_metrics(validated)
    return metrics[-1] if metrics else None


def metric_is_maximized(metric: str) -> bool:
    return metric.split("@")[0] in MAXIMIZED_METRICS
