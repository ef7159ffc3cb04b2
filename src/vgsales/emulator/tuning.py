"""CreateHyperParameterTuningJob runs a real search, and every training job it reports is one the emulator ran.

moto 5.2.5 marks a tuning job Completed at once, invents its BestTrainingJob ('FakeTrainingJobName', Accuracy
1.0) and runs nothing; ListTrainingJobsForHyperParameterTuningJob is a 500. On the emulator's SageMaker backend (TuningBackend):

- The request is validated before anything is created (tuning_request.py); what the emulator does not
  execute is refused by name.
- A thread of the emulator runs the search (tuning_search.py: optuna) and launches each child as a real training
  job (training.py), named "<tuning job>-<NNN>-<8 hex>" as SageMaker names them, carrying the tuning job's tags and
  `_tuning_objective_metric`, which the algorithm adds to its evaluation metrics. At most MaxParallelTrainingJobs
  run at once, and never more than the machine has cores.
- Describe and List answer from those jobs: TrainingJobStatusCounters, ObjectiveStatusCounters, BestTrainingJob,
  ConsumedResources; ListTrainingJobsForHyperParameterTuningJob sorts, filters and pages as SageMaker documents.
- StopHyperParameterTuningJob stops the running children, and the tuning job ends Stopped.
- The emulator's own rules, where SageMaker does not document one: the first FAILING_START_JOBS children all
  failing fails the tuning job with the first one's reason; a child stopped early keeps its model
  (training.EARLY_STOPPED), so it may be the best and be deployed.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import FakeTrainingJob, HyperParameterTuningJob, SageMakerModelBackend

from . import training
from .lifecycle import JobRun
from .script_mode import training as script_training
from .shapes import Document, Json, MotoArguments, ReadDocument
from .tuning_request import TuningSpec, refuse, validate_request

if TYPE_CHECKING:
    import optuna

    from .tuning_search import Search

log = logging.getLogger(__name__)

FAILING_START_JOBS = 3
SORT_KEYS = ("Name", "CreationTime", "Status", "FinalObjectiveMetricValue")
LIST_PAGE_DEFAULT, LIST_PAGE_MAX = 10, 100
TERMINAL = ("Completed", "Failed", "Stopped")


# --- the run ----------------------------------------------------------------------------------------------

class Child:
    """One training job launched by a tuning job."""

    def __init__(self, run: training.TrainingRun, trial: optuna.trial.Trial, tuned: dict[str, str]) -> None:
        self.run = run
        self.trial = trial
        self.tuned = tuned


class TuningRun(JobRun):
    """One tuning job executing in a thread of the emulator."""

    kind = "tuning"

    def __init__(self, backend: TuningBackend, job: TuningJob, spec: TuningSpec) -> None:
        super().__init__(backend.runs, job.arn, job.hyper_parameter_tuning_job_name)
        self.backend = backend
        backend.aws()  # looked up now, in the request's thread, for the children (see backends.ServiceAccess)
        self.job = job
        self.spec = spec
        self._events: queue.Queue[str] = queue.Queue()
        self._started = time.monotonic()
        self._children: dict[str, Child] = {}  # by training job name, in launch order
        self._scores: dict[str, float] = {}  # objective values of the ended children, in the order they ended
        self._ended: list[str] = []
        self._not_improving = 0  # children ended since the best one
        self.parallel = max(1, min(spec.max_parallel, spec.max_jobs, os.cpu_count() or 1))

    # --- the lifecycle (lifecycle.JobRun) ---------------------------------------------------------------
    def status(self) -> str:
        return str(self.job.hyper_parameter_tuning_job_status)

    def not_stoppable(self, status: str) -> Exception:
        return refuse(f"The hyperparameter tuning job is in status {status} and cannot be stopped.")

    def stopping(self) -> None:
        self._set(status="Stopping")

    def woken(self) -> None:
        self._events.put("stop")

    def execute(self) -> None:
        self._loop(self.spec.new_search())

    def end_stopped(self) -> None:  # the loop ends the job itself; it raises no JobStopped
        self._end("Stopped")

    def end_failed(self, reason: str) -> None:
        self._end("Failed", failure=reason)

    def crash_reason(self, error: Exception) -> str:
        return f"InternalServerError: the emulator's tuning run crashed: {type(error).__name__}: {error}"

    # --- the loop ---------------------------------------------------------------------------------------

    def _loop(self, search: Search) -> None:
        launched = 0
        running: dict[str, Child] = {}
        failure: str | None = None
        while True:
            for name in [name for name, child in running.items() if child.run.finished.is_set()]:
                failure = self._record(search, running.pop(name)) or failure
            ending = self._ending_reason(failure)
            if ending:
                for child in running.values():
                    _stop_quietly(child.run)
            elif launched < self.spec.max_jobs:
                while len(running) < self.parallel and launched < self.spec.max_jobs:
                    launched += 1
                    child = self._launch(search, launched)
                    running[child.run.job.training_job_name] = child
            if not running and (ending or launched >= self.spec.max_jobs):
                break
            self._update_counters()
            try:
                self._events.get(timeout=0.5)
            except queue.Empty:
                pass
        self._update_counters()
        if self._stop_reason == "Failed":
            self._end("Failed", failure=failure)
        elif self._stop_reason in ("Stopped", "MaxRuntimeExceeded"):
            self._end("Stopped")
        else:
            self._end("Completed")

    def _ending_reason(self, failure: str | None) -> str | None:
        with self._lock:
            if self._stop_reason is None and self.spec.max_runtime and time.monotonic() - self._started >= self.spec.max_runtime:
                self._stop_reason = "MaxRuntimeExceeded"
            if self._stop_reason is None and (failure or self._target_reached() or self._stalled()):
                self._stop_reason = "CompletionCriteria" if not failure else "Failed"
            return self._stop_reason

    def _target_reached(self) -> bool:
        best = self._best()
        if best is None or self.spec.target_value is None:
            return False
        value = best[1]
        return value >= self.spec.target_value if self.spec.maximize else value <= self.spec.target_value

    def _stalled(self) -> bool:
        return self.spec.not_improving is not None and self._not_improving >= self.spec.not_improving

    def _launch(self, search: Search, index: int) -> Child:
        trial, tuned = search.propose()
        definition = self.spec.definition
        name = f"{self.job.hyper_parameter_tuning_job_name}-{index:03d}-{secrets.token_hex(4)}"
        observer = self._observer(search, trial) if self.spec.early_stopping else None
        algorithm = dict(definition.get("AlgorithmSpecification") or {})
        run = self.backend.launch_training_job(
            self.job.arn,
            observer,
            lambda: self._events.put("finished"),
            training_job_name=name,
            hyper_parameters=self.spec.child_hyperparameters(tuned),
            algorithm_specification=algorithm,
            role_arn=definition.get("RoleArn"),
            input_data_config=[dict(channel) for channel in definition.get("InputDataConfig") or []],
            output_data_config=dict(definition.get("OutputDataConfig") or {}),
            resource_config=_resource_config(definition),
            vpc_config=definition.get("VpcConfig"),
            stopping_condition=dict(definition.get("StoppingCondition") or {}),
            environment=dict(definition.get("Environment") or {}),
            tags=[dict(tag) for tag in self.job.tags or []],  # SageMaker tags the children with the tuning job's tags
            enable_network_isolation=definition.get("EnableNetworkIsolation"),
            enable_inter_container_traffic_encryption=definition.get("EnableInterContainerTrafficEncryption"),
            enable_managed_spot_training=definition.get("EnableManagedSpotTraining"),
            checkpoint_config=definition.get("CheckpointConfig"),
            debug_hook_config=None,
            debug_rule_configurations=None,
            tensor_board_output_config=None,
            experiment_config=None,
        )
        child = Child(run, trial, tuned)
        with self._lock:
            self._children[name] = child
            self.job.children = list(self._children.items())
        return child

    def _observer(self, search: Search, trial: optuna.trial.Trial) -> training.RoundObserver:
        metric = self.spec.metric

        def observe(round_index: int, metrics: dict[str, float]) -> bool:
            value = metrics.get(metric)
            return value is not None and search.report_round(trial, round_index, value)

        return observe

    def _record(self, search: Search, child: Child) -> str | None:
        """Tell the search how a finished child did; return a failure reason when the tuning job must fail."""
        job = child.run.job
        name = job.training_job_name
        value = objective_value(job, self.spec.metric)
        search.finish(child.trial, value, stopped_early=job.training_job_status == "Stopped" and value is not None)
        best = self._best()
        better = value is not None and (best is None or (value > best[1] if self.spec.maximize else value < best[1]))
        self._not_improving = 0 if better else self._not_improving + 1
        with self._lock:
            self._ended.append(name)
            if value is not None:
                self._scores[name] = value
            self.job.best_training_job = self._summary_of_best()
        first = self._ended[:FAILING_START_JOBS]
        if len(self._ended) == min(FAILING_START_JOBS, self.spec.max_jobs) and all(
            self._children[ended].run.job.training_job_status == "Failed" for ended in first
        ):
            return (f"ClientError: the first {len(first)} training job(s) failed, the first one with: "
                    f"{self._children[first[0]].run.job.failure_reason}")
        return None

    def _best(self) -> tuple[str, float] | None:
        if not self._scores:
            return None
        pick = max if self.spec.maximize else min
        return pick(self._scores.items(), key=lambda item: item[1])

    def _summary_of_best(self) -> Document | None:
        best = self._best()
        return child_summary(self.job, best[0], self._children[best[0]].tuned, self.backend) if best else None

    def _update_counters(self) -> None:
        jobs = [child.run.job for child in list(self._children.values())]
        status = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
        objective = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        for job in jobs:
            state = job.training_job_status
            status["NonRetryableError" if state == "Failed" else "InProgress" if state == "Stopping" else state] += 1
            objective[objective_status(job, self.spec.metric)] += 1
        with self._lock:
            self.job.training_job_status_counters = status
            self.job.objective_status_counters = objective
            self.job.last_modified_time = utcnow()

    def _set(self, status: str) -> None:
        self.job.hyper_parameter_tuning_job_status = status
        self.job.last_modified_time = utcnow()

    def _end(self, status: str, failure: str | None = None) -> None:
        self.last_a_second(self.job.creation_time)
        with self._lock:
            self.job.best_training_job = self._summary_of_best()
            self.job.failure_reason = failure[:1024] if failure else None
            end = utcnow()
            self.job.hyper_parameter_tuning_end_time = end
            self.job.consumed_resources = {"RuntimeInSeconds": max(1, math.ceil((end - self.job.creation_time).total_seconds()))}
            if self._children and self.job.best_training_job is not None:
                self.job.tuning_job_completion_details = {"NumberOfTrainingJobsObjectiveNotImproving": self._not_improving}
            self._set(status)


def _resource_config(definition: ReadDocument) -> Document:
    """ResourceConfig, or the instance type, count and volume of HyperParameterTuningResourceConfig."""
    if definition.get("ResourceConfig"):
        return dict(definition["ResourceConfig"])
    tuning = definition.get("HyperParameterTuningResourceConfig") or {}
    keys = ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")
    return {key: tuning[key] for key in keys if key in tuning}


def _stop_quietly(run: training.TrainingRun) -> None:
    try:
        run.request_stop()
    except ValidationError:  # it ended meanwhile
        pass


def objective_value(job: FakeTrainingJob, metric: str) -> float | None:
    for entry in job.final_metric_data_list or []:
        if entry["MetricName"] == metric and job.training_job_status in ("Completed", "Stopped"):
            return float(entry["Value"])
    return None


def objective_status(job: FakeTrainingJob, metric: str) -> str:
    if job.training_job_status in ("InProgress", "Stopping"):
        return "Pending"
    return "Succeeded" if objective_value(job, metric) is not None else "Failed"


def child_summary(
    tuning_job: HyperParameterTuningJob, name: str, tuned: Mapping[str, str], backend: SageMakerModelBackend
) -> Document:
    """A HyperParameterTrainingJobSummary, from the training job as it is now."""
    job = backend.training_jobs[name]
    config = tuning_job.hyper_parameter_tuning_job_config
    metric = config["HyperParameterTuningJobObjective"]["MetricName"]
    summary: Document = {
        "TrainingJobName": name,
        "TrainingJobArn": job.arn,
        "TuningJobName": tuning_job.hyper_parameter_tuning_job_name,
        "CreationTime": job.creation_time,
        "TrainingStartTime": job.training_start_time,
        "TrainingEndTime": job.training_end_time,
        "TrainingJobStatus": job.training_job_status,
        "TunedHyperParameters": dict(tuned),
        "FailureReason": job.failure_reason,
        "ObjectiveStatus": objective_status(job, metric),
    }
    value = objective_value(job, metric)
    if value is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": config["HyperParameterTuningJobObjective"]["Type"], "MetricName": metric, "Value": value
        }
    return {key: value for key, value in summary.items() if value is not None}


# --- the tuning job and the backend ------------------------------------------------------------------------


class TuningJob(HyperParameterTuningJob):
    """moto's tuning job, in the state of a job that has just started, answering from the children it ran."""

    def __init__(self, spec: TuningSpec, **request: MotoArguments) -> None:
        super().__init__(**request)
        self.children: list[tuple[str, Child]] = []  # (training job name, child) in launch order
        _prepare(self, spec)

    def describe(self) -> Document:
        described = super().describe()
        described.pop("TrainingJobDefinitions", None)
        return {key: value for key, value in described.items() if value is not None}

    def summary(self) -> Document:
        return {key: value for key, value in super().summary().items() if value is not None}


def _prepare(job: TuningJob, spec: TuningSpec) -> None:
    """Replace moto's invented results with the state of a job that has just started."""
    job.hyper_parameter_tuning_job_status = "InProgress"
    job.hyper_parameter_tuning_end_time = None
    job.training_job_status_counters = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    job.objective_status_counters = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    job.best_training_job = None
    job.OverallBestTrainingJob = None  # only a warm-started job has one
    job.tuning_job_completion_details = None
    job.consumed_resources = None
    job.failure_reason = None
    config = job.hyper_parameter_tuning_job_config
    config.setdefault("Strategy", spec.strategy)
    config.setdefault("TrainingJobEarlyStoppingType", "Off")
    config.setdefault("ParameterRanges", {})
    for kind in ("Integer", "Continuous", "Categorical"):
        config["ParameterRanges"].setdefault(f"{kind}ParameterRanges", [])
    if spec.strategy == "Grid":
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = spec.max_jobs
    # SageMaker's description carries the objective as a static hyperparameter, and the algorithm's metric
    # definitions (SDK v2's HyperparameterTuner.attach relies on both); a script's definitions are the request's.
    definition = job.training_job_definition
    if "ResourceConfig" not in definition:
        # SDK v2 sends HyperParameterTuningResourceConfig and its HyperparameterTuner.attach reads ResourceConfig
        # back (sagemaker/estimator.py, _prepare_init_params_from_job_description): the description carries the
        # instances as a ResourceConfig too.
        definition["ResourceConfig"] = _resource_config(definition)
    definition["StaticHyperParameters"] = {**spec.static, "_tuning_objective_metric": spec.metric}
    if not script_training.requested(spec.static):
        definition.setdefault("AlgorithmSpecification", {})["MetricDefinitions"] = [
            dict(entry) for entry in training.XGBOOST_METRIC_DEFINITIONS
        ]


class TuningBackend(training.TrainingBackend):
    """CreateHyperParameterTuningJob runs the search; Stop, Delete and ListTrainingJobsFor... answer from it."""

    def create_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str, **request: MotoArguments) -> str:
        spec = validate_request(
            request.get("hyper_parameter_tuning_job_config"),
            request.get("training_job_definition"),
            request.get("training_job_definitions"),
            request.get("warm_start_config"),
            request.get("autotune"),
        )
        # moto's create_hyper_parameter_tuning_job (moto/sagemaker/models.py), with the emulator's job.
        job = TuningJob(
            spec, hyper_parameter_tuning_job_name=hyper_parameter_tuning_job_name, region_name=self.region_name,
            account_id=self.account_id, **request,
        )  # fmt: skip
        self.hyper_parameter_tuning_jobs[hyper_parameter_tuning_job_name] = job
        TuningRun(self, job, spec).start()
        return str(job.arn)

    def _tuning_job(self, name: str) -> TuningJob:
        job = self.hyper_parameter_tuning_jobs.get(name)
        if not isinstance(job, TuningJob):  # SageMaker's wording; moto's is "Could not find hyper parameter tuning job"
            raise ResourceNotFound(message=f"Amazon SageMaker can't find a tuning job called {name}. Type another name.")
        return job

    def describe_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str) -> Document:
        return self._tuning_job(hyper_parameter_tuning_job_name).describe()

    def stop_hyper_parameter_tuning_job(self, name: str) -> None:
        job = self._tuning_job(name)
        run = self.runs.get(job.arn)
        if run is None:
            raise refuse(f"The hyperparameter tuning job is in status {job.hyper_parameter_tuning_job_status} and "
                          "cannot be stopped.")
        run.request_stop()

    def delete_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str) -> None:
        job = self._tuning_job(hyper_parameter_tuning_job_name)
        if job.hyper_parameter_tuning_job_status not in TERMINAL:
            raise refuse(f"The hyperparameter tuning job is in status {job.hyper_parameter_tuning_job_status}; "
                          "stop it and wait until it ends before deleting it.")
        super().delete_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name)

    def list_training_jobs_for_hyper_parameter_tuning_job(
        self,
        name: str,
        sort_by: str | None,
        sort_order: str | None,
        status_equals: str | None,
        max_results: int | None,
        next_token: str | None,
    ) -> tuple[list[Document], str | None]:
        """Which moto lacks: sorted, filtered and paged as SageMaker documents."""
        job = self._tuning_job(name)
        summaries = [child_summary(job, child_name, child.tuned, self) for child_name, child in job.children]
        if status_equals:
            summaries = [summary for summary in summaries if summary["TrainingJobStatus"] == status_equals]
        sort_by = sort_by or "Name"
        if sort_by not in SORT_KEYS:
            raise refuse(f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value "
                          f"set: [{', '.join(SORT_KEYS)}]")
        if sort_by == "FinalObjectiveMetricValue":
            # SageMaker lists only the jobs that returned an objective metric when sorting by it.
            summaries = [summary for summary in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in summary]
        keys: dict[str, Callable[[Document], Json]] = {
            "Name": lambda summary: summary["TrainingJobName"],
            "CreationTime": lambda summary: summary["CreationTime"],
            "Status": lambda summary: summary["TrainingJobStatus"],
            "FinalObjectiveMetricValue": lambda summary: summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        }
        summaries.sort(key=keys[sort_by], reverse=(sort_order or "Ascending") == "Descending")
        page = max(1, min(int(max_results or LIST_PAGE_DEFAULT), LIST_PAGE_MAX))
        start = int(next_token) if next_token and next_token.isdigit() else 0
        end = start + page
        return summaries[start:end], (str(end) if end < len(summaries) else None)
