"""CreateTrainingJob runs the built-in XGBoost algorithm for real, and StopTrainingJob stops it.

moto records a training job and answers DescribeTrainingJob/ListTrainingJobs, but marks it Completed at once
and runs nothing. On the emulator's SageMaker backend (TrainingBackend, part of sagemaker.SageMakerBackend) a
job moves as on AWS: InProgress (Starting, Downloading, Training, Uploading)
then Completed, Failed with a FailureReason ("ClientError: ..." for the user's mistakes, "AlgorithmError: ..."
otherwise) or Stopped (by StopTrainingJob, or MaxRuntimeExceeded). The job runs in a background thread of the
emulator, acting as its RoleArn (role_access.py): it reads its channels from emulated S3, trains with the installed xgboost, streams each round to
CloudWatch Logs (/aws/sagemaker/TrainingJobs, stream "<job>/algo-1-<epoch>") and writes
<S3OutputPath>/<job>/output/model.tar.gz.

Only the XGBoost image (repository sagemaker-xgboost, or the legacy xgboost) is executed; any other image fails
the job with a reason saying the emulator cannot run it. A job with `sagemaker_program` runs the user's own script
instead of the algorithm, as the image does (script_mode/training.py).
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.sagemaker.models import FakeTrainingJob
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

from ..algorithm.checkpoints import style_for as checkpoint_style
from ..algorithm.versions import Version, image_repository, image_tag, image_version
from ..algorithm.hyperparameters import (
    CONTAINER_METRICS,
    NATIVE_METRICS,
    InvalidHyperparameter,
    TrainingPlan,
    UnsupportedByEmulator,
    training_plan,
)
from . import backends, metrics
from .lifecycle import QUICK_JOB_SECONDS, JobBackend, JobFailure, JobRun, JobStopped
from .checkpoint_sync import CheckpointSync
from .script_mode import training as script_training
from .role_access import S3_ACCESS_DENIED, AccessDenied
from .shapes import Document, Json, MotoArguments

if TYPE_CHECKING:
    from ..algorithm.data_formats import DataFile
    from ..algorithm.training import TrainingOutcome

log = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
XGBOOST_REPOSITORIES = frozenset({"sagemaker-xgboost", "xgboost"})
CHANNELS = ("train", "validation")
DEFAULT_MAX_RUNTIME_SECONDS = 86400  # AWS's default when a StoppingCondition gives none

# The metric definitions AWS attaches to the built-in algorithm: one per metric and data set, parsed from the
# round lines the algorithm logs.
METRIC_VALUE = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
XGBOOST_METRIC_DEFINITIONS = [
    {"Name": f"{data}:{metric}", "Regex": rf".*\[[0-9]+\].*#011{data}-{re.escape(metric)}:{METRIC_VALUE}.*"}
    for data in CHANNELS
    for metric in NATIVE_METRICS + CONTAINER_METRICS
]

# xgboost, scikit-learn and pandas take a second or more to import (2 s of CPU). The emulator imports them in the
# background once SageMaker is first asked for a job or a model (sagemaker.WARMED_BY), and a job imports them
# (from the cache by then) to run; an emulator that never trains or serves never pays for them.
XGBOOST_MODULES = ("vgsales.algorithm.training", "vgsales.algorithm.data_formats")



def download_denied(uri: str) -> str:
    return f"Data download failed:Unable to download object {uri} {S3_ACCESS_DENIED}"


def upload_denied(uri: str) -> str:
    return f"Artifact upload failed:Unable to upload object {uri} {S3_ACCESS_DENIED}"


def no_objects_found(uri: str, region: str, role_arn: str | None) -> str:
    """SageMaker's answer to a prefix it finds nothing under, whether it is empty or the role may not list it:
    the message does not tell which (aws/amazon-sagemaker-examples#2414, CreateTransformJob's wording)."""
    try:
        bucket = backends.parse_s3_uri(uri)[0]
    except ValueError:
        bucket = uri
    return (
        f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the bucket exists in '
        f'the selected region ({region}), that objects exist under that S3 prefix, and that the role "{role_arn}" has '
        f'"s3:ListBucket" permissions on bucket "{bucket}".'
    )


def _xgboost_modules():  # -> (algorithm.training, algorithm.data_formats)
    return tuple(importlib.import_module(name) for name in XGBOOST_MODULES)


_WARM_UP_LOCK = threading.Lock()
_warm_up_started = False


def warm_up(modules: tuple[str, ...]) -> None:
    """Import modules in a background thread, the first time this process asks (later calls return at once). Not a
    daemon, so a process never exits mid-import."""
    global _warm_up_started
    with _WARM_UP_LOCK:
        if _warm_up_started:
            return
        _warm_up_started = True
    # These register exit hooks when imported, which Python refuses once a short-lived process has begun to
    # shut down (it still waits for this thread); importing them here first keeps that off the thread.
    import concurrent.futures.process
    import concurrent.futures.thread

    del concurrent  # imported for their side effect only

    def run() -> None:
        for name in modules:
            importlib.import_module(name)

    threading.Thread(target=run, name="emulator-warm-up").start()


EARLY_STOPPED = "EarlyStopped"
STOP_MESSAGES = {  # reason: (log line, secondary status message)
    "Stopped": ("StopTrainingJob was called.", "Training job stopped"),
    "MaxRuntimeExceeded": ("MaxRuntimeInSeconds exceeded.", "Training job runtime exceeded MaxRuntimeInSeconds provided"),
    EARLY_STOPPED: ("the tuning job stopped it early (TrainingJobEarlyStoppingType Auto).",
                    "Training job stopped early by the hyperparameter tuning job"),
}


def is_builtin_xgboost(image: str | None) -> bool:
    return bool(image) and image_repository(image) in XGBOOST_REPOSITORIES  # type: ignore[arg-type]


def inference_script(container: Mapping[str, Any]) -> str | None:
    """The inference script a model's container names, or None when the image serves its built-in algorithm.

    The XGBoost image serves in script mode whenever SAGEMAKER_PROGRAM is set: serving.py's main() (tags v1.0-1 to
    v3.0-5) imports the user module when `serving_env.module_name` (SAGEMAKER_PROGRAM, sagemaker-containers'
    ServingEnv) is not None, and only otherwise serves the algorithm. The SDK sets it for `XGBoostModel(entry_point=...)`
    and for a framework estimator's `deploy()`."""
    program = (container.get("Environment") or {}).get("SAGEMAKER_PROGRAM")
    return program or None


def _info(message: str, level: str = "INFO") -> str:
    # The container's log prefix, e.g. "[2026-11-27:22:46:33:INFO] ..."
    return f"[{time.strftime('%Y-%m-%d:%H:%M:%S', time.gmtime())}:{level}] {message}"


def _transition(job: TrainingJob, status: str, message: str, job_status: str | None = None, final: bool = False) -> None:
    """Record a secondary status. Builds new containers instead of mutating them, because request threads
    serialise the job at any moment and must never see a half-updated list or dict."""
    now = utcnow()
    transitions = [dict(entry) for entry in job.secondary_status_transitions or []]
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    entry = {"Status": status, "StartTime": now, "StatusMessage": message}
    if final:
        entry["EndTime"] = now
    transitions.append(entry)
    job.secondary_status_transitions = transitions
    job.secondary_status = status
    if job_status:
        job.training_job_status = job_status
    job.last_modified_time = now


class TrainingJob(FakeTrainingJob):
    """moto's training job in AWS's initial state, with the tuning job that launched it (TuningJobArn)."""

    def __init__(self, tuning_job_arn: str | None = None, **request: MotoArguments) -> None:
        # moto overwrites the user's MetricDefinitions in place; keep a copy to restore.
        spec = request.get("algorithm_specification") or {}
        user_definitions = [dict(d) for d in spec.get("MetricDefinitions") or []]
        super().__init__(**request)
        _prepare(self, user_definitions)
        self.tuning_job_arn = tuning_job_arn


def _prepare(job: TrainingJob, user_metric_definitions: list[dict[str, str]]) -> None:
    """Give a new job AWS's initial state. Every attribute a later phase sets exists from here on: moto builds
    responses from the object's __dict__, which must not grow while a request thread iterates it."""
    job.training_job_status = "InProgress"
    job.secondary_status = "Starting"
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": job.creation_time, "StatusMessage": "Preparing the instances for training"}
    ]
    job.training_start_time = None
    job.training_end_time = None
    job.final_metric_data_list = None
    job.failure_reason = None
    job.training_time_in_seconds = None
    job.billable_time_in_seconds = None
    job.tuning_job_arn = None  # the tuning job that launches it, if any (DescribeTrainingJob's TuningJobArn)
    job.environment = {}  # CreateTrainingJob's Environment, which moto drops (sagemaker.py passes it)
    if job.algorithm_specification is None:
        return
    image = job.algorithm_specification.get("TrainingImage")
    # moto replaces MetricDefinitions with a placeholder; AWS keeps the user's, or the built-in algorithm's.
    # A script's metrics are its own: SageMaker attaches the algorithm's definitions in algorithm mode only.
    algorithm = is_builtin_xgboost(image) and not script_training.requested(job.hyper_parameters)
    definitions = XGBOOST_METRIC_DEFINITIONS if algorithm else user_metric_definitions
    if definitions:
        job.algorithm_specification["MetricDefinitions"] = [dict(d) for d in definitions]
    else:
        job.algorithm_specification.pop("MetricDefinitions", None)


# Observes each boosting round's metrics ({"validation:auc": 0.85, ...}) and answers True to stop the job early.
RoundObserver = Callable[[int, dict[str, float]], bool]


class TrainingRun(JobRun):
    """One training job executing in a thread of the emulator."""

    kind = "training"

    def __init__(
        self,
        backend: JobBackend,
        job: TrainingJob,
        observer: RoundObserver | None = None,
        on_finish: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(backend.runs, job.arn, job.training_job_name, on_finish)
        self.job = job
        self.observer = observer
        self.account_id: str = backend.account_id
        self.region: str = backend.region_name
        self.aws = backend.aws().acting_as(job.role_arn)
        condition = job.stopping_condition or {}
        self.max_runtime = float(condition.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS)
        self._started = time.monotonic()
        self._training_started: datetime | None = None
        self._streams: list[metrics.MeasuredLogStream] = []
        self._outcome: TrainingOutcome | None = None  # of a single-host job, once it has trained
        # the algorithm.training and algorithm.data_formats modules, once the job runs
        self._algorithm: ModuleType = ModuleType("unloaded")
        self._data: ModuleType = ModuleType("unloaded")

    # --- the lifecycle (lifecycle.JobRun) ---------------------------------------------------------------
    def status(self) -> str:
        return str(self.job.training_job_status)

    def not_stoppable(self, status: str) -> Exception:
        return ValidationError(message=f"The request was rejected because the training job is in status {status}.")

    def stopping(self) -> None:
        _transition(self.job, "Stopping", "Stopping the training job", job_status="Stopping")

    def end_stopped(self) -> None:
        self._finish_stopped(self._outcome)

    def end_failed(self, reason: str) -> None:
        self._fail(reason)

    def crash_reason(self, error: Exception) -> str:
        return f"AlgorithmError: {type(error).__name__}: {error}"

    def _observe(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.observer is not None and self._stop_reason is None and self.observer(epoch, metrics):
            self.request_stop(EARLY_STOPPED)

    def should_stop(self) -> bool:
        if self._stop_reason is None and time.monotonic() - self._started >= self.max_runtime:
            self._stop_reason = "MaxRuntimeExceeded"
        return self._stop_reason is not None

    def check_stop(self) -> None:
        if self.should_stop():
            raise JobStopped()

    # --- the job itself ---------------------------------------------------------------------------------
    # check_stop, write_log, enter_phase, fetch, output_uri, upload_archive and finish are public: script mode's
    # executor (script_mode/training.py) runs a job through them as the built-in algorithm's does here.
    def write_log(self, *messages: str, level: str = "INFO") -> None:
        if self._streams:
            self._streams[0].write(_info(message, level) for message in messages)

    def _round(self, line: str) -> None:
        if self._streams:
            self._streams[0].write([line])

    def enter_phase(self, status: str, message: str) -> None:
        with self._lock:
            if self._stop_reason is None or self.job.training_job_status == "InProgress":
                _transition(self.job, status, message)

    def execute(self) -> None:
        self._algorithm, self._data = _xgboost_modules()
        self._open_logs()
        self._check_image()
        if script_training.requested(self.job.hyper_parameters):
            self._training_started = self.job.training_start_time = utcnow()
            self.enter_phase("Downloading", "Downloading input data")
            script_training.ScriptTraining(self).execute()
            return
        plan = self._plan()
        self.check_stop()
        self._training_started = utcnow()
        self.job.training_start_time = self._training_started
        self.enter_phase("Downloading", "Downloading input data")
        if self.instance_count > 1:
            self._run_on_hosts(plan)
            return
        channels = self._download()
        self.check_stop()
        self.enter_phase("Training", "Training image download completed. Training in progress.")
        outcome = self._outcome = self._train(plan, channels)
        if outcome.stopped:
            # A tuning job's early stopping keeps the model of the round it stopped at, so that the job can
            # still be the best one and be deployed (the emulator's rule; see tuning.py).
            if plan.save_model_on_termination or self._stop_reason == EARLY_STOPPED:
                self._upload(outcome)
            raise JobStopped()
        self.check_stop()
        self.enter_phase("Uploading", "Uploading generated training model")
        self._upload(outcome)
        self.finish("Completed", "Completed", "Training job completed", outcome.final_metrics)

    @property
    def instance_count(self) -> int:
        return int((self.job.resource_config or {}).get("InstanceCount") or 1)

    def _open_logs(self) -> None:
        epoch = int(time.time())
        name = self.job.training_job_name
        # One stream per instance, as on AWS: the SDK waits for as many streams as instances before it shows logs.
        # SageMaker reads the job's metrics from its log lines by its MetricDefinitions and publishes them (metrics.py).
        sink = self.aws.metric_sink(metrics.TRAINING_NAMESPACE, {"TrainingJobName": name})
        definitions = metrics.definitions_of((self.job.algorithm_specification or {}).get("MetricDefinitions") or [])
        self._streams = [
            metrics.MeasuredLogStream(self.aws.log_stream(LOG_GROUP, f"{name}/algo-{i}-{epoch}"), definitions, sink)
            for i in range(1, self.instance_count + 1)
        ]

    def stream_of(self, host_index: int) -> metrics.LogWriter:
        return self._streams[host_index]

    def log_on(self, host_index: int, message: str, level: str = "INFO") -> None:
        self._streams[host_index].write([_info(message, level)])

    def _run_on_hosts(self, plan: TrainingPlan) -> None:
        """A multi-instance job: each host's share of the data, then distributed.run (or one host alone)."""
        from . import distributed

        count = self.instance_count
        hosts = [distributed.Host(f"algo-{index + 1}", index) for index in range(count)]
        channels = {c["ChannelName"]: c for c in self.job.input_data_config or []}
        data_format = self._check_channels(channels)
        for name, channel in channels.items():
            source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
            sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
            uris = self._channel_uris(name, source)
            for host, share in zip(hosts, distributed.shares(uris, count, sharded)):
                if share:
                    host.files[name] = [(uri, self.fetch(uri)) for uri in share]
            self.write_log(f"Channel '{name}': {len(uris)} object(s), {'ShardedByS3Key' if sharded else 'FullyReplicated'} "
                      f"over {count} hosts.")
        with_data = [host for host in hosts if host.has_training_data]
        if "validation" in channels and any("validation" not in host.files for host in with_data):
            raise JobFailure("ClientError", "Channel 'validation' has fewer objects than the hosts that train; with "
                             "ShardedByS3Key every training host needs its share of the validation objects too. Write "
                             "the validation channel as at least as many objects as instances.")
        self.check_stop()
        self.enter_phase("Training", "Training image download completed. Training in progress.")
        if len(with_data) == 1:
            host = with_data[0]
            for other in hosts:
                if other is not host:
                    self.log_on(other.index, f"Host {other.name} not being used for distributed training.", level="WARNING")
            self.write_log("Only 1 host with training data, starting single node training.")
            files = {name: (data_format, [self._data.DataFile(uri, content) for uri, content in objects])
                     for name, objects in host.files.items()}
            outcome = self._train(plan, files)
            if outcome.stopped:
                raise JobStopped()
            archive, metrics = self._algorithm.model_archive(outcome.booster), outcome.final_metrics
        else:
            result = distributed.run(self, hosts, data_format, dict(self.job.hyper_parameters or {}))
            archive, metrics = result.model_archive, result.final_metrics
        self.check_stop()
        self.enter_phase("Uploading", "Uploading generated training model")
        self.upload_archive(archive)
        self.finish("Completed", "Completed", "Training job completed", metrics)

    def _check_image(self) -> None:
        spec = self.job.algorithm_specification or {}
        image = spec.get("TrainingImage")
        if not is_builtin_xgboost(image):
            what = f"the training image {image!r}" if image else f"the algorithm {spec.get('AlgorithmName')!r}"
            raise JobFailure(
                "ClientError",
                f"The local emulator cannot run {what}: it executes only the SageMaker built-in XGBoost algorithm "
                "(image repository sagemaker-xgboost or xgboost). Use the aws target for other images.",
            )
        tag = image_tag(image)
        version = self._algorithm.XGBOOST_VERSION
        hosts = "one host" if self.instance_count == 1 else f"{self.instance_count} hosts"
        if script_training.requested(self.job.hyper_parameters):
            program = script_training.decoded(self.job.hyper_parameters[script_training.PROGRAM])
            self.write_log(f"Local emulator: running the training script {program} (script mode) of image {image} with "
                      f"xgboost {version}, on {hosts}, each a process of its own.")
        else:
            where = "in the emulator's process" if self.instance_count == 1 else f"on {hosts} (worker processes)"
            self.write_log(f"Local emulator: running the built-in XGBoost algorithm of image {image} with xgboost {version}, {where}.")
        if tag and not tag.startswith(".".join(version.split(".")[:2])):
            self.write_log(f"Image tag {tag} names another XGBoost release; results can differ slightly from AWS.")

    @property
    def image_version(self) -> Version | None:
        """The algorithm version of the job's image, whose hyperparameters it accepts (algorithm/versions.py)."""
        return image_version((self.job.algorithm_specification or {}).get("TrainingImage"))

    def _plan(self) -> TrainingPlan:
        try:
            plan = training_plan(self.job.hyper_parameters or {}, self.image_version)
        except InvalidHyperparameter as exc:
            raise JobFailure("ClientError", str(exc)) from None
        except UnsupportedByEmulator as exc:
            raise JobFailure("ClientError", str(exc)) from None
        self.write_log(*plan.notes)
        return plan

    def _channel_files(self, channel: Document) -> list[DataFile]:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise JobFailure("ClientError", f"Channel '{name}' has no S3DataSource; the emulator reads channels from S3 only.")
        if (channel.get("CompressionType") or "None") != "None":
            raise JobFailure("ClientError", f"Channel '{name}' is compressed ({channel['CompressionType']}); the built-in "
                             "XGBoost algorithm reads uncompressed libsvm or CSV files.")
        uris = self._channel_uris(name, source)
        files = []
        for uri in uris:
            files.append(self._data.DataFile(uri, self.fetch(uri)))
            self.check_stop()
        self.write_log(f"Channel '{name}': {len(files)} file(s), {sum(len(f.content) for f in files)} bytes.")
        return files

    def fetch(self, uri: str) -> bytes:
        try:
            return self.aws.get_object(uri)
        except backends.S3ObjectMissing as exc:
            raise JobFailure("ClientError", f"Data download failed: {exc}.") from None
        except AccessDenied:
            raise JobFailure("ClientError", download_denied(uri)) from None

    def _channel_uris(self, name: str, source: Document) -> list[str]:
        uri = source.get("S3Uri", "")
        data_type = source.get("S3DataType") or "S3Prefix"
        try:
            if data_type == "S3Prefix":
                bucket, _ = backends.parse_s3_uri(uri)
                keys = [k for k in self.aws.list_objects(uri) if self._data.is_data_file(k)]
                uris = [f"s3://{bucket}/{key}" for key in keys]
            elif data_type == "ManifestFile":
                uris = self._manifest_uris(uri)
            else:
                raise JobFailure("ClientError", f"Channel '{name}' uses S3DataType {data_type}, which the built-in "
                                 "XGBoost algorithm does not read (use S3Prefix or ManifestFile).")
        except (backends.S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Data download failed for channel '{name}' at {uri}: {exc}.") from None
        except AccessDenied as denied:
            if denied.action != "s3:ListBucket":  # the manifest
                raise JobFailure("ClientError", download_denied(denied.target)) from None
            uris = []
        if not uris:
            raise JobFailure("ClientError", no_objects_found(uri, self.region, self.job.role_arn))
        return uris

    def _manifest_uris(self, uri: str) -> list[str]:
        try:
            entries = json.loads(self.aws.get_object(uri))
            prefix = entries[0]["prefix"]
            return [prefix + relative for relative in entries[1:]]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"the manifest is not of the form [{{\"prefix\": \"s3://...\"}}, \"key\", ...] ({exc})") from None

    def _check_channels(self, channels: dict[str, Document]) -> str:
        """The channels the algorithm reads, with one content type; returns its data format."""
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise JobFailure("ClientError", f"Extraneous channel found: {unknown[0]}. The built-in XGBoost algorithm "
                             "reads the channels 'train' (required) and 'validation' (optional).")
        if "train" not in channels:
            raise JobFailure("ClientError", "Channel 'train' is required by the built-in XGBoost algorithm, but the job "
                             f"has {', '.join(repr(c) for c in channels) or 'no channels'}.")
        formats = {}
        for name, channel in channels.items():
            try:
                formats[name] = self._data.training_format(channel.get("ContentType"))
            except (self._data.InvalidTrainingData, self._data.UnsupportedTrainingData) as exc:
                raise JobFailure("ClientError", str(exc)) from None
        if "validation" in formats and formats["validation"] != formats["train"]:
            raise JobFailure("ClientError", "Channels 'train' and 'validation' must have the same content type.")
        return formats["train"]

    def _download(self) -> dict[str, tuple[str, list[DataFile]]]:
        channels = {c["ChannelName"]: c for c in self.job.input_data_config or []}
        data_format = self._check_channels(channels)
        return {name: (data_format, self._channel_files(channel)) for name, channel in channels.items()}

    def _train(self, plan: TrainingPlan, channels: dict[str, tuple[str, list[DataFile]]]) -> TrainingOutcome:
        data_format, train_files = channels["train"]
        validation_files = channels.get("validation", (data_format, None))[1]
        try:
            data = self._data.load_training_data(train_files, validation_files, data_format, plan.csv_weights)
        except self._data.InvalidTrainingData as exc:
            raise JobFailure("ClientError", str(exc)) from None
        self.write_log(f"Train matrix has {data.train.num_row()} rows and {data.train.num_col()} columns")
        if data.validation is not None:
            self.write_log(f"Validation matrix has {data.validation.num_row()} rows")
        self.check_stop()
        sync = self._checkpoints()
        resume_from = sync.resume(self._algorithm.load_booster) if sync else None
        after_round = sync.after_round if sync else None
        try:
            return self._algorithm.train(plan, data, self._round, self.should_stop, self._observe, resume_from, after_round)
        except self._algorithm.XGBoostError as exc:
            # XGBoost rejects what it cannot train on (labels out of range for the objective, bad parameter
            # combinations): the user's to fix, as the container reports it.
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JobFailure("ClientError", f"XGBoost could not train on this data and these hyperparameters: {first_line}") from None

    def _checkpoints(self) -> CheckpointSync | None:
        """The job's CheckpointConfig, written as its image's tag writes checkpoints (algorithm/checkpoints.py)."""
        uri = (self.job.checkpoint_config or {}).get("S3Uri")
        return CheckpointSync(self.aws, uri, checkpoint_style(self.image_version), self.write_log) if uri else None

    def output_uri(self) -> str:
        return self.job.model_artifacts["S3ModelArtifacts"]

    def _upload(self, outcome: TrainingOutcome) -> None:
        self.upload_archive(self._algorithm.model_archive(outcome.booster))

    def upload_archive(self, archive: bytes) -> None:
        try:
            self.aws.put_object(self.output_uri(), archive)
        except (backends.S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Unable to upload the model artifacts to {self.output_uri()}: {exc}.") from None
        except AccessDenied:
            raise JobFailure("ClientError", upload_denied(self.output_uri())) from None

    def _set_end_times(self) -> None:
        end = utcnow()
        self.job.training_end_time = end
        start = self._training_started or self.job.creation_time
        seconds = max(1, math.ceil((end - start).total_seconds()))
        self.job.training_time_in_seconds = seconds
        self.job.billable_time_in_seconds = seconds

    def _set_metrics(self, metrics: dict[str, float] | None) -> None:
        if not metrics:
            return
        now = utcnow()
        self.job.final_metric_data_list = [
            {"MetricName": name, "Value": value, "Timestamp": now} for name, value in metrics.items()
        ]

    def finish(self, job_status: str, status: str, message: str, metrics: dict[str, float] | None) -> None:
        self.last_a_second(self.job.creation_time)
        if job_status == "Completed" and self._stop_reason is not None:
            # Stopped while it waited out its first second: the stop, which SageMaker accepted, wins.
            logged, message = STOP_MESSAGES.get(self._stop_reason, STOP_MESSAGES["Stopped"])
            self.write_log(f"Training stopped: {logged}")
            job_status = status = "Stopped"
        with self._lock:
            self._set_metrics(metrics)
            self._set_end_times()
            _transition(self.job, status, message, job_status=job_status, final=True)

    def _finish_stopped(self, outcome: TrainingOutcome | None) -> None:
        reason = self._stop_reason or "Stopped"
        logged, message = STOP_MESSAGES.get(reason, STOP_MESSAGES["Stopped"])
        self.write_log(f"Training stopped: {logged}")
        # The secondary status of an early-stopped job is Stopped, as for StopTrainingJob.
        self.finish("Stopped", "Stopped" if reason == EARLY_STOPPED else reason, message,
                     outcome.final_metrics if outcome else None)

    def _fail(self, reason: str) -> None:
        try:
            self.write_log(f"Reporting training FAILURE: {reason}", level="ERROR")
        except Exception:  # the logs are best effort; the job's status is what matters
            log.exception("could not log the failure of training job %s", self.job.training_job_name)
        self.last_a_second(self.job.creation_time)
        with self._lock:
            self.job.failure_reason = reason[:1024]
            self._set_end_times()
            _transition(self.job, "Failed", "Training job failed", job_status="Failed", final=True)


# --- the backend ------------------------------------------------------------------------------------------

# SageMaker's API model (HyperParameterValue, HyperParameterKey): a value is at most 2,500 characters, a key
# at most 256; CreateTrainingJob refuses the call (moto took any length).
MAX_HYPERPARAMETER_VALUE = 2500
MAX_HYPERPARAMETER_KEY = 256


# CreateTrainingJob's Environment (TrainingEnvironmentMap): at most 100 entries, keys of the pattern below up to 512
# characters, values up to 512 (the service model, botocore's sagemaker service-2.json).
ENVIRONMENT_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
MAX_ENVIRONMENT_ENTRIES = 100
MAX_ENVIRONMENT_TEXT = 512


def check_environment(environment: Json) -> None:
    entries = dict(environment or {})  # type: ignore[call-overload]
    if len(entries) > MAX_ENVIRONMENT_ENTRIES:
        raise ValidationError(message="1 validation error detected: Value at 'environment' failed to satisfy "
                              f"constraint: Member must have length less than or equal to {MAX_ENVIRONMENT_ENTRIES}")
    for key, value in entries.items():
        if not ENVIRONMENT_KEY.fullmatch(str(key)) or len(str(key)) > MAX_ENVIRONMENT_TEXT:
            raise ValidationError(message="1 validation error detected: Value at 'environment' failed to satisfy "
                                  "constraint: Map keys must satisfy constraint: [Member must have length less than "
                                  f"or equal to {MAX_ENVIRONMENT_TEXT}, Member must satisfy regular expression "
                                  f"pattern: [a-zA-Z_][a-zA-Z0-9_]*] (key {str(key)[:64]!r})")
        if not isinstance(value, str) or len(value) > MAX_ENVIRONMENT_TEXT:
            raise ValidationError(message="1 validation error detected: Value at 'environment' failed to satisfy "
                                  "constraint: Map value must satisfy constraint: [Member must have length less than "
                                  f"or equal to {MAX_ENVIRONMENT_TEXT}] (key {str(key)[:64]!r})")


def check_hyperparameter_lengths(hyperparameters: Json) -> None:
    """SageMaker's constraint violation, as its API reports one (the value itself is not quoted back)."""
    for key, value in dict(hyperparameters or {}).items():
        for what, text, limit in (("key", key, MAX_HYPERPARAMETER_KEY), ("value", value, MAX_HYPERPARAMETER_VALUE)):
            if isinstance(text, str) and len(text) > limit:
                raise ValidationError(
                    message=f"1 validation error detected: Value at 'hyperParameters' failed to satisfy constraint: "
                    f"Map {what} must satisfy constraint: [Member must have length less than or equal to {limit}] "
                    f"(hyperparameter {key[:64]!r}, {len(text)} characters)"
                )



class TrainingBackend(JobBackend):
    """CreateTrainingJob runs the job, StopTrainingJob (which moto lacks) stops it; tuning jobs launch theirs."""

    def create_training_job(self, training_job_name: str, **request: MotoArguments) -> FakeTrainingJob:
        check_hyperparameter_lengths(request.get("hyper_parameters"))
        check_environment(request.get("environment"))
        if script_training.requested(request.get("hyper_parameters")):
            refused = script_training.refusal(request)
            if refused:
                raise ValidationError(message=refused)
        instances = int((request.get("resource_config") or {}).get("InstanceCount") or 1)
        if (request.get("checkpoint_config") or {}).get("S3Uri") and instances > 1:
            raise ValidationError(message=(
                "CheckpointConfig for a training job of several instances is not executed by the local emulator, "
                "which writes checkpoints for one instance as the image does and never reports any it did not write. "
                "Train on one instance, leave CheckpointConfig out, or use the aws target."
            ))
        job = self._new_training_job(training_job_name, None, request)
        TrainingRun(self, job).start(wait=QUICK_JOB_SECONDS)
        return job

    def launch_training_job(
        self,
        tuning_job_arn: str,
        observer: RoundObserver | None,
        on_finish: Callable[[], None],
        **request: MotoArguments,
    ) -> TrainingRun:
        """Create and start a training job on behalf of a tuning job, without waiting for it."""
        job = self._new_training_job(request.pop("training_job_name"), tuning_job_arn, request)
        run = TrainingRun(self, job, observer, on_finish)
        run.start()
        return run

    def _new_training_job(self, name: str, tuning_job_arn: str | None, request: Document) -> TrainingJob:
        """moto's create_training_job (moto/sagemaker/models.py) with the emulator's job, refusing a name in use
        as AWS does (moto would overwrite the job)."""
        environment = dict(request.pop("environment", None) or {})
        if name in self.training_jobs:
            arn = FakeTrainingJob.arn_formatter(name, self.account_id, self.region_name)
            raise ResourceInUseException(
                message="Training job names must be unique within an AWS account and region, and a training job "
                f"with this name already exists ({arn})"
            )
        job = TrainingJob(
            tuning_job_arn, account_id=self.account_id, region_name=self.region_name, training_job_name=name, **request
        )
        job.environment = environment
        self.training_jobs[name] = job
        return job

    def stop_training_job(self, training_job_name: str) -> None:
        job = self.training_jobs.get(training_job_name)
        if job is None:
            arn = FakeTrainingJob.arn_formatter(training_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find training job '{arn}'.")
        run = self.runs.get(job.arn)
        if run is None:
            raise ValidationError(
                message=f"The request was rejected because the training job is in status {job.training_job_status}."
            )
        run.request_stop()
