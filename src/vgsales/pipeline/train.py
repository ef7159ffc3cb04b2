"""`invoke train`: a training job with SageMaker's built-in XGBoost, through sagemaker-core.

The image is pinned (never `latest`, which still means XGBoost 0.72) and the emulator trains with the
same XGBoost release, so a model trained on either target loads in the other.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError
from sagemaker.core import image_uris
from sagemaker.core.resources import TrainingJob
from sagemaker.core.shapes import (
    AlgorithmSpecification,
    Channel,
    DataSource,
    OutputDataConfig,
    ResourceConfig,
    S3DataSource,
    StoppingCondition,
)

from ..algorithm.hyperparameters import validate_hyperparameters
from ..context import Context
from ..discovery import sdk_tags
from ..errors import Interrupted, WorkshopError
from ..output import console
from ..records import DataRecord, EndpointRecord, StackRecord, TrainingRecord, run_name
from ..settings import Settings
from .job_logs import TRAINING_LOG_GROUP, LogFollower, container_line, last_log_lines

# libsvm is what `invoke data` uploads; the built-in algorithm takes it as text/libsvm.
CONTENT_TYPE = "text/libsvm"
TERMINAL = ("Completed", "Failed", "Stopped")
# The log is shown at most this late: AWS's 10 s between status polls (Target.poll_seconds) would hold it back.
LOG_POLL_SECONDS = 2.0


def run(ctx: Context) -> TrainingRecord:
    settings, state = ctx.settings, ctx.state
    stack = state.read(StackRecord)
    data = state.read(DataRecord)
    training = settings.training
    hyperparameters = validate_hyperparameters(training.hyperparameters)
    image = image_uri(settings)
    name = run_name(settings.name_prefix, "xgb")
    # What the job is sent, before it starts: the line to compare runs by. Values may hold [ ], so no markup.
    console.print(f"Hyperparameters: {name_values(hyperparameters)}", markup=False, highlight=False)
    try:
        job = TrainingJob.create(
            training_job_name=name,
            role_arn=stack.role_arn,
            algorithm_specification=AlgorithmSpecification(training_image=image, training_input_mode="File"),
            hyper_parameters=hyperparameters,
            input_data_config=channels(settings, data),
            output_data_config=output_config(settings, stack),
            resource_config=resource_config(settings),
            stopping_condition=stopping_condition(settings),
            enable_managed_spot_training=training.use_spot,
            tags=sdk_tags(settings),
            session=ctx.aws.session,
            region=ctx.region,
        )
        console.print(f"Training job {name} ({image}, {training.instance_count} x {training.instance_type})")
        started = time.monotonic()
        follow(ctx, job, training.instance_count)
    except KeyboardInterrupt:
        # From the create call on, the job may exist: one left running keeps billing. Stop it by name.
        raise Interrupted(_stop_interrupted(ctx, name)) from None
    if job.training_job_status != "Completed":
        raise WorkshopError(_failure_message(ctx, job))
    record = TrainingRecord(
        training_job_name=name,
        training_job_arn=job.training_job_arn,
        image=image,
        model_data_url=job.model_artifacts.s3_model_artifacts,
        hyperparameters=hyperparameters,
        instance_type=training.instance_type,
        instance_count=training.instance_count,
        final_metrics={m.metric_name: m.value for m in (job.final_metric_data_list or [])},
        seconds=round(time.monotonic() - started, 1),
    )
    state.write(record)
    state.forget(EndpointRecord)  # a new model: the endpoint record no longer describes what serves it
    console.print(f"[green]Training job {name} completed[/green] in {record.seconds} s; model at {record.model_data_url}")
    for metric, value in record.final_metrics.items():
        console.print(f"  {metric}: {value:.4f}")
    return record


def follow(ctx: Context, job: TrainingJob, instance_count: int) -> None:
    """Wait for the job to end, printing its log lines as they arrive (instead of sagemaker-core's wait(logs=True),
    whose log client is a process-wide singleton: see job_logs.py). The log is read after each status, so the
    lines of a finished job are all printed before this returns."""
    log = LogFollower(ctx.aws.client("logs"), TRAINING_LOG_GROUP, job.training_job_name)
    while True:
        job.refresh()
        for stream, message in log.new_events():
            console.print(f"  {container_line(stream, message, instance_count)}", markup=False, highlight=False)
        if job.training_job_status in TERMINAL:
            return
        time.sleep(min(ctx.target.poll_seconds, LOG_POLL_SECONDS))


def name_values(hyperparameters: dict[str, str]) -> str:
    """``eta=0.1, max_depth=3, ...``: sorted by name, so two runs' lines compare at a glance."""
    return ", ".join(f"{name}={value}" for name, value in sorted(hyperparameters.items()))


def _stop_interrupted(ctx: Context, name: str) -> str:
    """Stop the job a Ctrl-C left behind, whether or not its create call had returned; say what happened."""
    sagemaker = ctx.aws.client("sagemaker")
    return stop_after_interrupt(
        lambda: sagemaker.stop_training_job(TrainingJobName=name),
        f"training job {name}",
        stopped="so it stops billing. Run `invoke train` again to start a new one.",
        retry="`invoke train`",
    )


def stop_after_interrupt(stop, what: str, stopped: str, retry: str) -> str:
    """Call ``stop`` for the job a Ctrl-C left behind and say what happened, in one paragraph; ``what`` is
    "training job <name>", ``stopped`` ends the sentence after "... was asked to stop, "."""
    try:
        stop()
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if any(words in message.lower() for words in ("not found", "could not find", "can't find")):
            return f"Interrupted before {what} was created; nothing runs. Run {retry} to start one."
        return (
            f"Interrupted: {what} could not be stopped ({message}); it may have finished already. "
            "`invoke status` shows whether it still runs, and `invoke teardown` stops it."
        )
    return f"Interrupted: {what} was asked to stop, {stopped}"


def image_uri(settings: Settings) -> str:
    return image_uris.retrieve("xgboost", settings.region, settings.training.image_version)


def channels(settings: Settings, data: DataRecord) -> list[Channel]:
    """train and validation; never the test split, which stays on this machine until `invoke evaluate`."""
    # Several instances each read their own share of the files (distributed XGBoost on SageMaker).
    distribution = "ShardedByS3Key" if settings.training.instance_count > 1 else "FullyReplicated"
    return [_channel("train", data.train_uri, distribution), _channel("validation", data.validation_uri, distribution)]


def output_config(settings: Settings, stack: StackRecord) -> OutputDataConfig:
    return OutputDataConfig(s3_output_path=f"s3://{stack.bucket_name}/{settings.data_prefix}/output")


def resource_config(settings: Settings) -> ResourceConfig:
    training = settings.training
    return ResourceConfig(
        instance_type=training.instance_type,
        instance_count=training.instance_count,
        volume_size_in_gb=training.volume_size_gb,
    )


def _channel(name: str, uri: str, distribution: str) -> Channel:
    return Channel(
        channel_name=name,
        content_type=CONTENT_TYPE,
        data_source=DataSource(
            s3_data_source=S3DataSource(s3_data_type="S3Prefix", s3_uri=uri, s3_data_distribution_type=distribution)
        ),
    )


def stopping_condition(settings: Settings) -> StoppingCondition:
    training = settings.training
    if training.use_spot:
        return StoppingCondition(
            max_runtime_in_seconds=training.max_runtime_seconds, max_wait_time_in_seconds=training.max_wait_seconds
        )
    return StoppingCondition(max_runtime_in_seconds=training.max_runtime_seconds)


def _failure_message(ctx: Context, job: TrainingJob, lines: int = 15) -> str:
    tail = "\n".join(last_log_lines(ctx.aws.client("logs"), TRAINING_LOG_GROUP, job.training_job_name, lines))
    return (
        f"Training job {job.training_job_name} ended {job.training_job_status}: {job.failure_reason}. "
        f"Fix the cause and run `invoke train` again. The last log lines were:\n{tail or '(no log lines)'}"
    )
