"""`invoke tune`: a hyperparameter tuning job over the workshop's training job, through sagemaker-core.

Each of its training jobs is the one `invoke train` would run, with the tuned hyperparameters in place of the
defaults, on the train and validation channels only: the objective (workshop.tuning.objective_metric) is
computed on validation, and the test split stays on this machine until `invoke evaluate`. The best job's model
becomes the one `invoke deploy` serves next.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sagemaker.core.resources import HyperParameterTuningJob, TrainingJob
from sagemaker.core.shapes import (
    CategoricalParameterRange,
    ContinuousParameterRange,
    HyperParameterAlgorithmSpecification,
    HyperParameterTrainingJobDefinition,
    HyperParameterTuningJobConfig,
    HyperParameterTuningJobObjective,
    IntegerParameterRange,
    ParameterRanges,
    ResourceLimits,
)

from ..algorithm.tuning import ParameterRange, grid_size
from ..context import Context
from ..discovery import sdk_tags
from ..errors import Interrupted, WorkshopError
from ..output import console
from ..records import DataRecord, EndpointRecord, StackRecord, TrainingRecord, TuningRecord, tuning_job_name
from ..settings import Settings, static_hyperparameters
from . import train

FINISHED = ("Completed", "Failed", "Stopped")
LEADERBOARD_ROWS = 10


def run(ctx: Context) -> TuningRecord:
    settings, state = ctx.settings, ctx.state
    stack = state.read(StackRecord)
    data = state.read(DataRecord)
    tuning = settings.tuning
    name = tuning_job_name(settings.name_prefix)
    poll = ctx.target.poll_seconds
    static = static_hyperparameters(settings.training, settings.tuning)
    image = train.image_uri(settings)
    started = time.monotonic()
    announce(static, tuning.ranges)
    try:
        job = HyperParameterTuningJob.create(
            hyper_parameter_tuning_job_name=name,
            hyper_parameter_tuning_job_config=_config(settings),
            training_job_definition=HyperParameterTrainingJobDefinition(
                static_hyper_parameters=static,
                algorithm_specification=HyperParameterAlgorithmSpecification(
                    training_image=image, training_input_mode="File"
                ),
                role_arn=stack.role_arn,
                input_data_config=train.channels(settings, data),
                output_data_config=train.output_config(settings, stack),
                resource_config=train.resource_config(settings),
                stopping_condition=train.stopping_condition(settings),
                enable_managed_spot_training=settings.training.use_spot,
            ),
            tags=sdk_tags(settings),
            session=ctx.aws.session,
            region=ctx.region,
        )
        console.print(
            f"Tuning job {name}: {tuning.strategy}, {_job_count(settings)} training jobs, {tuning.max_parallel_jobs} "
            f"at a time, {tuning.objective_type.lower()} {tuning.objective_metric} "
            f"({image}, {settings.training.instance_count} x {settings.training.instance_type} each)"
        )
        _follow(job, _job_count(settings), poll)
    except KeyboardInterrupt:
        raise Interrupted(_stop_interrupted(ctx, name)) from None
    job.refresh()
    seconds = round(time.monotonic() - started, 1)
    console.print(leaderboard(job, tuning.objective_metric))
    if job.hyper_parameter_tuning_job_status != "Completed" or not _has_best(job):
        raise WorkshopError(_failure_message(job))
    best_name = job.best_training_job.training_job_name
    best = TrainingJob.get(best_name, session=ctx.aws.session, region=ctx.region)
    counters = job.training_job_status_counters
    record = TuningRecord(
        tuning_job_name=name,
        tuning_job_arn=job.hyper_parameter_tuning_job_arn,
        strategy=tuning.strategy,
        objective_metric=tuning.objective_metric,
        best_training_job_name=best_name,
        best_objective_value=float(job.best_training_job.final_hyper_parameter_tuning_job_objective_metric.value),
        status_counts={key: int(getattr(counters, _snake(key))) for key in
                       ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped")},
        seconds=seconds,
    )
    state.write(record)
    # The best job is the model `invoke deploy` serves next, exactly as if `invoke train` had trained it.
    state.write(
        TrainingRecord(
            training_job_name=best_name,
            training_job_arn=best.training_job_arn,
            image=image,
            model_data_url=best.model_artifacts.s3_model_artifacts,
            hyperparameters={k: v for k, v in (best.hyper_parameters or {}).items() if not k.startswith("_")},
            instance_type=settings.training.instance_type,
            instance_count=settings.training.instance_count,
            final_metrics={m.metric_name: m.value for m in (best.final_metric_data_list or [])},
            seconds=seconds,
            tuning_job_name=name,
        )
    )
    state.forget(EndpointRecord)
    console.print(
        f"[green]Tuning job {name} completed[/green] in {seconds} s: best {best_name}, "
        f"{tuning.objective_metric} {record.best_objective_value:.4f}; its model is the one `deploy` serves next"
    )
    return record


def _config(settings: Settings) -> HyperParameterTuningJobConfig:
    tuning = settings.tuning
    integer, continuous, categorical = [], [], []
    for parameter in tuning.ranges:
        shape = parameter.api_shape()
        if parameter.kind == "Integer":
            integer.append(IntegerParameterRange(name=parameter.name, min_value=shape["MinValue"],
                                                 max_value=shape["MaxValue"], scaling_type=parameter.scaling))
        elif parameter.kind == "Continuous":
            continuous.append(ContinuousParameterRange(name=parameter.name, min_value=shape["MinValue"],
                                                       max_value=shape["MaxValue"], scaling_type=parameter.scaling))
        else:
            categorical.append(CategoricalParameterRange(name=parameter.name, values=list(parameter.values)))
    limits = {"max_parallel_training_jobs": tuning.max_parallel_jobs}
    if tuning.strategy != "Grid":  # Grid runs every combination; SageMaker refuses a budget for it
        limits["max_number_of_training_jobs"] = tuning.max_jobs
    return HyperParameterTuningJobConfig(
        strategy=tuning.strategy,
        resource_limits=ResourceLimits(**limits),
        hyper_parameter_tuning_job_objective=HyperParameterTuningJobObjective(
            type=tuning.objective_type, metric_name=tuning.objective_metric
        ),
        parameter_ranges=ParameterRanges(
            integer_parameter_ranges=integer, continuous_parameter_ranges=continuous, categorical_parameter_ranges=categorical
        ),
        training_job_early_stopping_type="Auto" if tuning.early_stopping else "Off",
        random_seed=tuning.random_seed,
    )


def announce(static: dict[str, str], ranges: Iterable[ParameterRange]) -> None:
    """What every training job of the search is sent, before any starts (as `invoke train` prints its own). No
    markup: rich would take a categorical range's ``[a, b]`` for a style and print nothing of it."""
    console.print(f"Static hyperparameters: {train.name_values(static)}", markup=False, highlight=False)
    console.print(f"Tuned ranges: {describe_ranges(ranges)}", markup=False, highlight=False)


def describe_ranges(ranges: Iterable[ParameterRange]) -> str:
    """``eta=0.01..0.5 Logarithmic, max_depth=2..10, objective=[binary:logistic, reg:logistic]``, sorted by name:
    a numeric range as min..max (its scaling unless Auto), a categorical one as its list of values."""
    return ", ".join(_describe_range(parameter) for parameter in sorted(ranges, key=lambda parameter: parameter.name))


def _describe_range(parameter: ParameterRange) -> str:
    if parameter.kind == "Categorical":
        return f"{parameter.name}=[{', '.join(parameter.values)}]"
    shape = parameter.api_shape()
    scaling = "" if parameter.scaling == "Auto" else f" {parameter.scaling}"
    return f"{parameter.name}={shape['MinValue']}..{shape['MaxValue']}{scaling}"


def _job_count(settings: Settings) -> int:
    tuning = settings.tuning
    return grid_size(list(tuning.ranges)) if tuning.strategy == "Grid" else tuning.max_jobs


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")


def _follow(job: HyperParameterTuningJob, total: int, poll: float) -> None:
    """A live line of jobs completed, running and failed until the tuning job ends."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("jobs ended"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("Tuning", total=total)
        while True:
            job.refresh()
            counters = job.training_job_status_counters
            done = counters.completed + counters.stopped + counters.non_retryable_error + counters.retryable_error
            failed = counters.non_retryable_error + counters.retryable_error
            progress.update(
                task,
                completed=done,
                description=f"Tuning: {counters.completed} completed, {counters.in_progress} running, {failed} failed"
                + (f", {counters.stopped} stopped early" if counters.stopped else ""),
            )
            if job.hyper_parameter_tuning_job_status in FINISHED:
                return
            time.sleep(poll)


def _has_best(job: HyperParameterTuningJob) -> bool:
    best = getattr(job, "best_training_job", None)
    return bool(best) and bool(getattr(best, "training_job_name", None))


def leaderboard(job: HyperParameterTuningJob, metric: str, rows: int = LEADERBOARD_ROWS) -> Table:
    """The best jobs by objective: rank, job (its number in the tuning job), objective, one column per tuned
    hyperparameter; within 80 columns for the workshop's four ranges."""
    name = job.hyper_parameter_tuning_job_name
    summaries = job.get_all_training_jobs(sort_by="FinalObjectiveMetricValue",
                                          sort_order="Descending" if metric_maximized(job) else "Ascending")
    best = [summary for _, summary in zip(range(rows), summaries)]
    tuned = sorted({key for summary in best for key in (summary.tuned_hyper_parameters or {})})
    table = Table(title=f"Best of tuning job {name} by {metric}", caption=f"job NNN is training job {name}-NNN-<8 hex>",
                  box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    table.add_column("rank", justify="right")
    table.add_column("job", no_wrap=True)
    for header in (metric, *tuned):
        table.add_column(header, justify="right", min_width=len(header))
    for rank, summary in enumerate(best, start=1):
        values = summary.tuned_hyper_parameters or {}
        table.add_row(
            str(rank),
            summary.training_job_name.removeprefix(f"{name}-").split("-")[0],
            f"{summary.final_hyper_parameter_tuning_job_objective_metric.value:.4f}",
            *(_short(values.get(hyperparameter, "")) for hyperparameter in tuned),
        )
    return table


def metric_maximized(job: HyperParameterTuningJob) -> bool:
    return job.hyper_parameter_tuning_job_config.hyper_parameter_tuning_job_objective.type == "Maximize"


def _short(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else f"{number:.4g}"


def _failure_message(job: HyperParameterTuningJob) -> str:
    reason = getattr(job, "failure_reason", None) or "no training job returned the objective metric"
    return (
        f"Tuning job {job.hyper_parameter_tuning_job_name} ended {job.hyper_parameter_tuning_job_status}: {reason}. "
        "Fix the cause (the training jobs' logs are in CloudWatch, group /aws/sagemaker/TrainingJobs) and run "
        "`invoke tune` again; the model `deploy` serves is unchanged."
    )


def _stop_interrupted(ctx: Context, name: str) -> str:
    """Stop the tuning job a Ctrl-C left behind (it stops its training jobs); say what happened."""
    sagemaker = ctx.aws.client("sagemaker")
    return train.stop_after_interrupt(
        lambda: sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        f"tuning job {name}",
        stopped="and it stops its running training jobs, so nothing keeps billing. The model `deploy` serves is "
        "unchanged; run `invoke tune` again to start a new search.",
        retry="`invoke tune`",
    )
