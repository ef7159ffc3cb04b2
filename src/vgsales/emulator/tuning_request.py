"""A CreateHyperParameterTuningJob request, validated before anything is created.

The emulator accepts what it runs as asked and refuses the rest by name, with SageMaker's wording where SageMaker
has one: the built-in XGBoost image, one TrainingJobDefinition, ranges (Integer, Continuous, Categorical; scaling
Auto, Linear, Logarithmic, ReverseLogarithmic) checked by the algorithm's own hyperparameter rules, an objective
the algorithm emits (its validation:* metrics, in the direction it declares), and the limits. In script mode
(sagemaker_program among the static hyperparameters) the script takes whatever hyperparameters it parses, and the
objective is one of the definition's MetricDefinitions, read from the jobs' logs. Hyperband, warm
start, Autotune, several training job definitions, convergence detection and Auto early stopping of training jobs
with several instances or in script mode (their rounds run in processes the search does not see) are refused.
"""

from __future__ import annotations

from .shapes import ReadDocument

from collections.abc import Mapping
from typing import TYPE_CHECKING

from moto.sagemaker.exceptions import ValidationError

from ..algorithm.hyperparameters import TUNING_OBJECTIVES
from ..algorithm.tuning import KINDS, InvalidTuning, ParameterRange, check_job, grid_size
from ..algorithm.versions import image_version
from .script_mode import training as script_training
from .training import is_builtin_xgboost

if TYPE_CHECKING:
    from .tuning_search import Search

STRATEGIES = ("Bayesian", "Random", "Grid")


def refuse(message: str) -> ValidationError:
    return ValidationError(message=message)


def _not_executed(what: str, instead: str) -> ValidationError:
    return refuse(f"{what} is not executed by the local emulator, which runs tuning jobs for real and never "
                   f"reports one it did not run. {instead}")


# --- the request ------------------------------------------------------------------------------------------


class TuningSpec:
    """A validated CreateHyperParameterTuningJob request: what the run needs, in one place."""

    def __init__(self, config: ReadDocument, definition: ReadDocument) -> None:
        self.definition = definition
        self.strategy = config.get("Strategy") or "Bayesian"
        objective = config.get("HyperParameterTuningJobObjective") or {}
        self.metric = objective.get("MetricName", "")
        self.objective_type = objective.get("Type", "")
        self.maximize = self.objective_type == "Maximize"
        limits = config.get("ResourceLimits") or {}
        self.max_parallel = int(limits.get("MaxParallelTrainingJobs") or 0)
        self.max_runtime = limits.get("MaxRuntimeInSeconds")
        self.early_stopping = (config.get("TrainingJobEarlyStoppingType") or "Off") == "Auto"
        self.seed = config.get("RandomSeed")
        criteria = config.get("TuningJobCompletionCriteria") or {}
        self.target_value = criteria.get("TargetObjectiveMetricValue")
        self.not_improving = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
        self.ranges = _parameter_ranges(config.get("ParameterRanges") or {})
        self.static = dict(definition.get("StaticHyperParameters") or {})
        self.static.pop("_tuning_objective_metric", None)  # SageMaker sets it, whatever the request says
        if self.strategy == "Grid":
            self.max_jobs = grid_size(self.ranges)
        else:
            self.max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or 0)

    def new_search(self) -> Search:
        from .tuning_search import Search

        return Search(self.strategy, self.ranges, self.maximize, self.seed, self.max_jobs, self.early_stopping)

    def child_hyperparameters(self, tuned: Mapping[str, str]) -> dict[str, str]:
        return {**self.static, **tuned, "_tuning_objective_metric": self.metric}


def validate_request(
    config: ReadDocument | None,
    definition: ReadDocument | None,
    definitions: list[ReadDocument] | None,
    warm_start: ReadDocument | None,
    autotune: ReadDocument | None,
) -> TuningSpec:
    """Refuse, with SageMaker's wording where it has one, what the emulator would not run as asked."""
    if autotune:
        raise _not_executed("Autotune", "Give HyperParameterTuningJobConfig with a strategy and ranges instead.")
    if warm_start:
        raise _not_executed("WarmStartConfig (warm start from parent tuning jobs)",
                            "Start a tuning job without it, or use the aws target.")
    if definitions:
        raise _not_executed("TrainingJobDefinitions (one tuning job over several training job definitions)",
                            "Give a single TrainingJobDefinition.")
    if not definition:
        raise refuse("TrainingJobDefinition is required for this hyperparameter tuning job.")
    config = config or {}
    strategy = config.get("Strategy") or "Bayesian"
    if strategy == "Hyperband":
        raise _not_executed("Strategy Hyperband", "Use Bayesian, Random or Grid, or the aws target.")
    if strategy not in STRATEGIES:
        raise refuse(f"Value '{strategy}' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: "
                      "Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]")
    _check_image(definition)
    script = script_training.requested(definition.get("StaticHyperParameters"))
    if script:
        _check_script_objective(config.get("HyperParameterTuningJobObjective"), definition)
    else:
        _check_objective(config.get("HyperParameterTuningJobObjective"))
    _check_limits(strategy, config.get("ResourceLimits") or {})
    _check_completion(config.get("TuningJobCompletionCriteria") or {})
    early_stopping = config.get("TrainingJobEarlyStoppingType") or "Off"
    if early_stopping not in ("Off", "Auto"):
        raise refuse(f"Value '{early_stopping}' at 'trainingJobEarlyStoppingType' failed to satisfy constraint: "
                      "Member must satisfy enum value set: [Auto, Off]")
    instances = int((definition.get("ResourceConfig") or definition.get("HyperParameterTuningResourceConfig") or {})
                    .get("InstanceCount") or 1)
    if early_stopping == "Auto" and script:
        raise _not_executed("TrainingJobEarlyStoppingType Auto for a script-mode training job definition",
                            "Stop early in the script itself (xgboost's early_stopping_rounds), or tune with Off.")
    if early_stopping == "Auto" and instances > 1:
        raise _not_executed("TrainingJobEarlyStoppingType Auto for training jobs of several instances",
                            "Use early stopping with one instance per training job, or Off.")
    spec = TuningSpec(config, definition)
    if strategy == "Grid" and any(parameter.kind != "Categorical" for parameter in spec.ranges):
        raise refuse("The Grid strategy supports only CategoricalParameterRanges.")
    if not script:  # a script takes the hyperparameters it parses; only the algorithm's are known here
        _check_hyperparameters(spec)
    return spec


def _check_image(definition: ReadDocument) -> None:
    algorithm = definition.get("AlgorithmSpecification") or {}
    image = algorithm.get("TrainingImage")
    if not is_builtin_xgboost(image):
        what = f"the training image {image!r}" if image else f"the algorithm {algorithm.get('AlgorithmName')!r}"
        raise _not_executed(f"Tuning {what}",
                            "The emulator runs the SageMaker built-in XGBoost algorithm (image repository "
                            "sagemaker-xgboost or xgboost); use the aws target for other images.")
    if (definition.get("CheckpointConfig") or {}).get("S3Uri"):
        raise _not_executed("CheckpointConfig in a tuning job's training job definition",
                            "Leave it out of the tuning job, or use the aws target.")


def _check_objective(objective: ReadDocument | None) -> None:
    if not objective or not objective.get("MetricName"):
        raise refuse("HyperParameterTuningJobObjective is required for this hyperparameter tuning job.")
    metric, kind = objective["MetricName"], objective.get("Type")
    if kind not in ("Maximize", "Minimize"):
        raise refuse(f"Value '{kind}' at 'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective.type' "
                      "failed to satisfy constraint: Member must satisfy enum value set: [Maximize, Minimize]")
    if metric not in TUNING_OBJECTIVES:
        # SageMaker's message for an objective that is not among the algorithm's metric definitions.
        raise refuse("A metric is required for this hyperparameter tuning job objective. Provide a metric in the "
                      f"metric definitions. The built-in XGBoost algorithm can be tuned on: {', '.join(TUNING_OBJECTIVES)}.")
    if TUNING_OBJECTIVES[metric] != kind:
        raise refuse(f"The objective metric {metric} is one the algorithm declares for {TUNING_OBJECTIVES[metric]}; "
                      f"tuning it with Type {kind} would select the worst model.")


def _check_script_objective(objective: ReadDocument | None, definition: ReadDocument) -> None:
    """A script's objective is one of the definition's MetricDefinitions, which SageMaker reads from the job's logs
    (the SDK's HyperparameterTuner passes them for a framework estimator)."""
    if not objective or not objective.get("MetricName"):
        raise refuse("HyperParameterTuningJobObjective is required for this hyperparameter tuning job.")
    if objective.get("Type") not in ("Maximize", "Minimize"):
        raise refuse(f"Value '{objective.get('Type')}' at 'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective.type' "
                      "failed to satisfy constraint: Member must satisfy enum value set: [Maximize, Minimize]")
    names = [d.get("Name") for d in (definition.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []]
    if objective["MetricName"] not in names:
        # SageMaker's message for an objective that is not among the metric definitions.
        raise refuse("A metric is required for this hyperparameter tuning job objective. Provide a metric in the "
                      f"metric definitions. The training job definition defines: {', '.join(map(str, names)) or 'none'}.")


def _check_limits(strategy: str, limits: ReadDocument) -> None:
    parallel = limits.get("MaxParallelTrainingJobs")
    if not isinstance(parallel, int) or parallel < 1:
        raise refuse("ResourceLimits.MaxParallelTrainingJobs is required and must be at least 1.")
    jobs = limits.get("MaxNumberOfTrainingJobs")
    if strategy == "Grid":
        if jobs is not None:
            raise refuse("ResourceLimits.MaxNumberOfTrainingJobs must not be given for the Grid strategy, which "
                          "runs one training job per combination of the categorical values.")
    elif not isinstance(jobs, int) or jobs < 1:
        raise refuse(f"ResourceLimits.MaxNumberOfTrainingJobs is required for the {strategy} strategy and must be "
                      "at least 1.")
    runtime = limits.get("MaxRuntimeInSeconds")
    if runtime is not None and (not isinstance(runtime, int) or runtime < 120):
        raise refuse(f"Value '{runtime}' at 'hyperParameterTuningJobConfig.resourceLimits.maxRuntimeInSeconds' "
                      "failed to satisfy constraint: Member must have value greater than or equal to 120")


def _check_completion(criteria: ReadDocument) -> None:
    if (criteria.get("ConvergenceDetected") or {}).get("CompleteOnConvergence") == "Enabled":
        raise _not_executed("TuningJobCompletionCriteria.ConvergenceDetected",
                            "Use TargetObjectiveMetricValue or BestObjectiveNotImproving, which the emulator honours.")
    not_improving = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
    if not_improving is not None and (not isinstance(not_improving, int) or not_improving < 3):
        raise refuse(f"Value '{not_improving}' at 'maxNumberOfTrainingJobsNotImproving' failed to satisfy "
                      "constraint: Member must have value greater than or equal to 3")


def _parameter_ranges(ranges: ReadDocument) -> list[ParameterRange]:
    if ranges.get("AutoParameters"):
        raise _not_executed("AutoParameters", "Give IntegerParameterRanges, ContinuousParameterRanges or "
                            "CategoricalParameterRanges.")
    parsed = []
    for kind in KINDS:
        for entry in ranges.get(f"{kind}ParameterRanges") or []:
            name = entry.get("Name", "")
            if kind == "Categorical":
                parsed.append(ParameterRange(name=name, kind=kind, values=tuple(str(v) for v in entry.get("Values") or [])))
                continue
            try:
                low, high = float(entry["MinValue"]), float(entry["MaxValue"])
            except (KeyError, TypeError, ValueError):
                raise refuse(f"{kind}ParameterRanges: {name!r} needs numeric MinValue and MaxValue, got "
                             f"{entry.get('MinValue')!r} and {entry.get('MaxValue')!r}.") from None
            parsed.append(ParameterRange(name=name, kind=kind, low=low, high=high, scaling=entry.get("ScalingType") or "Auto"))
    return parsed


def _check_hyperparameters(spec: TuningSpec) -> None:
    try:
        image = (spec.definition.get("AlgorithmSpecification") or {}).get("TrainingImage")
        check_job(spec.static, spec.ranges, spec.metric, image_version(image))
    except InvalidTuning as exc:
        raise refuse(f"ParameterRanges and StaticHyperParameters: {exc}") from None
