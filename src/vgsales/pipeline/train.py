"""`invoke train`: a training job with SageMaker's built-in XGBoost, through sagemaker-core.

The image is pinned (never `latest`, which still means XGBoost 0.72) and the emulator trains with the
same XGBoost release, so a model trained on either target loads in the other.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
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
from sagemaker.core.utils.exceptions import FailedStatusError

from .. import target
from ..algorithm.hyperparameters import validate_hyperparameters
from ..output import console, library_displays_off
from ..discovery import sdk_tags
from ..errors import Interrupted, WorkshopError
from ..records import DataRecord, EndpointRecord, StackRecord, TrainingRecord, run_name
from ..settings import Settings
from ..state import RunState

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
CLOUDWATCH_TAB = "#011"
# libsvm is what `invoke data` uploads; the built-in algorithm takes it as text/libsvm.
CONTENT_TYPE = "text/libsvm"
# A training job's log stream is "<job>/algo-<i>-<epoch>", one per instance (host).
HOST_OF_STREAM = re.compile(r"/(algo-\d+)-\d+$")


def run(settings: Settings) -> TrainingRecord:
    state = RunState(settings)
    stack = state.read(StackRecord)
    data = state.read(DataRecord)
    training = settings.training
    hyperparameters = validate_hyperparameters(training.hyperparameters)
    with target.activate(settings):
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
            )
            console.print(f"Training job {name} ({image}, {training.instance_count} x {training.instance_type})")
            started = time.monotonic()
            # The SDK's own wait panel is off: the streamed log is what this task shows while the job runs.
            with _streamed_logs(training.instance_count), library_displays_off():
                job.wait(poll=1, logs=True)
        except FailedStatusError:
            job.refresh()
            raise WorkshopError(_failure_message(job, settings)) from None
        except KeyboardInterrupt:
            # From the create call on, the job may exist: one left running keeps billing. Stop it by name.
            raise Interrupted(_stop_interrupted(name, settings.region)) from None
        job.refresh()
        if job.training_job_status != "Completed":
            raise WorkshopError(_failure_message(job, settings))
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


def name_values(hyperparameters: dict[str, str]) -> str:
    """``eta=0.1, max_depth=3, ...``: sorted by name, so two runs' lines compare at a glance."""
    return ", ".join(f"{name}={value}" for name, value in sorted(hyperparameters.items()))


class _LogLines(logging.Handler):
    """Prints the training log lines sagemaker-core's wait() reads from CloudWatch, as they arrive.

    The SDK logs each event as "<stream>:\n<message>" at INFO and leaves handlers to the application. CloudWatch
    shows the container's tabs as "#011" (the syslog escape); a person reads them as tabs. With more than one
    instance every host logs the same kind of line, so each line starts with its host (``[algo-2]``), taken from
    the stream's name; with one there is nothing to tell apart, and the lines stay as the container wrote them.
    """

    def __init__(self, instance_count: int = 1) -> None:
        super().__init__(logging.INFO)
        self.instance_count = instance_count

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if getattr(record, "markup", True) is False:  # a log event from the job's container
            head, newline, tail = message.partition("\n")
            stream, line = (head.removesuffix(":"), tail) if newline else ("", message)
            line = line.replace(CLOUDWATCH_TAB, "\t")
            if self.instance_count > 1 and stream:
                line = f"[{_host(stream)}] {line}"
            console.print(f"  {line}", markup=False, highlight=False)
        else:
            console.print(message)


def _host(stream: str) -> str:
    """algo-2 of "<job>/algo-2-<epoch>"; a stream named otherwise by its last part, still one name per host."""
    found = HOST_OF_STREAM.search(stream)
    return found.group(1) if found else stream.rsplit("/", 1)[-1]


@contextmanager
def _streamed_logs(instance_count: int = 1) -> Iterator[None]:
    sdk_logger = logging.getLogger("sagemaker.core.resources")
    handler, level = _LogLines(instance_count), sdk_logger.level
    sdk_logger.addHandler(handler)
    sdk_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        sdk_logger.removeHandler(handler)
        sdk_logger.setLevel(level)


def _stop_interrupted(name: str, region: str) -> str:
    """Stop the job a Ctrl-C left behind, whether or not its create call had returned; say what happened."""
    sagemaker = boto3.client("sagemaker", region_name=region)
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


def _failure_message(job: TrainingJob, settings: Settings, lines: int = 15) -> str:
    tail = "\n".join(last_log_lines(job.training_job_name, settings.region, lines)) or "(no log lines)"
    return (
        f"Training job {job.training_job_name} ended {job.training_job_status}: {job.failure_reason}. "
        f"Fix the cause and run `invoke train` again. The last log lines were:\n{tail}"
    )


def last_log_lines(job_name: str, region: str, count: int, group: str = LOG_GROUP) -> list[str]:
    """The job's last log lines across its streams, for a failure message."""
    logs = boto3.client("logs", region_name=region)
    try:
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job_name}/")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    events = []
    for stream in streams:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], limit=count, startFromHead=False)
        events.extend(page["events"])
    events.sort(key=lambda event: event["timestamp"])
    return [event["message"] for event in events[-count:]]
