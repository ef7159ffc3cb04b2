"""CreateTransformJob runs batch transform for real, the way the built-in XGBoost container serves it in batch mode.

moto 5.2.5 marks a transform job Completed at once and writes nothing. On the emulator's SageMaker backend
(TransformBackend), a transform job of a model of the built-in XGBoost image:

- reads every input object (S3Prefix: every key under the prefix; ManifestFile: the manifest's keys), splits
  each by SplitType (Line: one record per line; None: the object is one request), and sends the records to the
  model in requests of one record (BatchStrategy SingleRecord) or as many as fit in MaxPayloadInMB
  (MultiRecord), each parsed, predicted and encoded by algorithm/serving.py as the container does;
- writes one `<input key relative to the prefix>.out` object per input object under S3OutputPath, one
  prediction per record, in order: the responses joined with newlines (AssembleWith Line), or concatenated
  (None); in batch mode the container answers with one score per line (serve_utils, SAGEMAKER_BATCH);
- runs TransformResources.InstanceCount workers concurrently, the input objects dealt out between them as
  SageMaker distributes objects to instances, each with at most MaxConcurrentTransforms requests at once;
- applies DataProcessing to text/csv input: InputFilter and OutputFilter as JSONPath index selections ($,
  $[n], $[a:b], $[a,b,...]) over each record's fields, JoinSource Input (the input record's fields, then the
  prediction's). For other content types DataProcessing is refused, field by field;
- acts as its model's ExecutionRoleArn (role_access.py) to read the model and the input and write the output;
- logs to /aws/sagemaker/TransformJobs, one stream per worker ("<job>/<instance id>-<epoch>") and the data log
  ("<job>/<instance id>-<epoch>/data-log") that names the object and line of a bad record, which fails the job
  with "ClientError: See job logs for more information", as SageMaker reports it;
- stops on StopTransformJob (Stopping, then Stopped), and on moto's reset; a job that ends within
  training.QUICK_JOB_SECONDS has ended when CreateTransformJob returns (lifecycle.QUICK_JOB_SECONDS).

A model whose container names an inference script (SAGEMAKER_PROGRAM) is run through it: the job starts one
model-server process of its own (script_mode/serving.py, with the batch variables SageMaker gives the container:
SAGEMAKER_BATCH, SAGEMAKER_MAX_PAYLOAD_IN_MB, SAGEMAKER_BATCH_STRATEGY, SAGEMAKER_MAX_CONCURRENT_TRANSFORMS, and the
job's Environment), sends it the same requests, and writes what the script answers: each answer as the container
gave it, followed by a newline unless it ends with one (AssembleWith Line), or the answers concatenated (None).
With DataProcessing the script's answer must have a line per record, which is joined and filtered as above. The
process ends, and its role session is revoked, when the job ends. A stop ends it at once, also while it loads the
model or answers a request (a request may take ModelClientConfig.InvocationsTimeoutInSeconds, 600 s by default), so
the job is Stopped without waiting for the script.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import FakeTransformJob, SageMakerModelBackend, arn_formatter

from . import backends, training
from .lifecycle import QUICK_JOB_SECONDS, JobBackend, JobFailure, JobRun, JobStopped
from .role_access import AccessDenied
from .script_mode import serving as script_serving
from .shapes import Document, MotoArguments

if TYPE_CHECKING:
    import xgboost as xgb

    from ..algorithm.serving import ResponseStyle
    from .backends import LogStream

log = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/TransformJobs"
DEFAULT_MAX_PAYLOAD_MB = 6
FAILURE_REASON = "ClientError: See job logs for more information"
SELECTOR = re.compile(r"^\$(?:\[(?P<body>[-0-9:, ]+)\])?$")


class TransformFailure(JobFailure):
    """Ends a transform job as Failed; the message goes to the data log, FAILURE_REASON to the job."""

    def __init__(self, message: str, reason: str = FAILURE_REASON) -> None:
        super().__init__("ClientError", message)
        self._reason = reason

    @property
    def reason(self) -> str:
        return self._reason


def _refuse(message: str) -> ValidationError:
    return ValidationError(message=message)


# --- DataProcessing on CSV records -------------------------------------------------------------------------


def _selector(expression: str | None, field: str) -> Callable[[list[str]], list[str]]:
    """A JSONPath index selection over a record's fields, as batch transform applies it to CSV."""
    if expression in (None, "", "$"):
        return lambda fields: fields
    match = SELECTOR.match(expression.strip())
    if match is None or match.group("body") is None:
        raise _refuse(f"DataProcessing.{field} {expression!r} is not supported by the local emulator: it applies "
                      "JSONPath index selections to CSV records ($, $[n], $[a:b], $[a,b,...]).")
    body = match.group("body").replace(" ", "")
    if ":" in body:
        if "," in body:
            raise _refuse(f"DataProcessing.{field} {expression!r}: mix either a slice or a list of indexes, not both.")
        start, _, stop = body.partition(":")
        window = slice(int(start) if start else None, int(stop) if stop else None)
        return lambda fields: fields[window]
    indexes = [int(index) for index in body.split(",") if index]
    return lambda fields: [fields[index] for index in indexes]


@dataclass(frozen=True)
class DataProcessing:
    input_filter: Callable[[list[str]], list[str]]
    output_filter: Callable[[list[str]], list[str]]
    join_input: bool
    active: bool


def data_processing(config: Document | None, content_type: str | None) -> DataProcessing:
    config = config or {}
    given = {key: value for key, value in config.items() if value not in (None, "", "$", "None")}
    if given and (content_type or "").split(";")[0].strip().lower() not in ("text/csv", "csv"):
        fields = ", ".join(f"{key}={value!r}" for key, value in sorted(given.items()))
        raise _refuse(f"DataProcessing ({fields}) is applied by the local emulator to text/csv input only; "
                      f"ContentType {content_type!r} would need JSON records, which the built-in XGBoost container "
                      "does not take. Leave DataProcessing out, or send CSV.")
    join = config.get("JoinSource") or "None"
    if join not in ("Input", "None"):
        raise _refuse(f"DataProcessing.JoinSource {join!r} is not one of Input, None.")
    return DataProcessing(
        input_filter=_selector(config.get("InputFilter"), "InputFilter"),
        output_filter=_selector(config.get("OutputFilter"), "OutputFilter"),
        join_input=join == "Input",
        active=bool(given),
    )


# --- the request ------------------------------------------------------------------------------------------


def validate_request(request: Document, backend: SageMakerModelBackend) -> None:
    """Refuse what the emulator would not run as asked, before the job exists."""
    model = backend._models.get(request["model_name"])
    if model is None:
        raise _refuse(f"Could not find model \"{arn_formatter('model', request['model_name'], backend.account_id, backend.region_name)}\".")
    container = model.primary_container or (model.containers[0] if model.containers else {})
    if not training.is_builtin_xgboost(container.get("Image")):
        raise _refuse(f"The local emulator runs batch transform for models of the SageMaker built-in XGBoost algorithm "
                      f"only (image repository sagemaker-xgboost or xgboost); model {model.model_name} has "
                      f"{container.get('Image')!r}. Use the aws target for other images.")
    transform_input = request.get("transform_input") or {}
    source = (transform_input.get("DataSource") or {}).get("S3DataSource") or {}
    if source.get("S3DataType", "S3Prefix") not in ("S3Prefix", "ManifestFile"):
        raise _refuse(f"TransformInput S3DataType {source.get('S3DataType')!r} is not run by the local emulator; use "
                      "S3Prefix or ManifestFile (AugmentedManifestFile needs JSON Lines, which the built-in XGBoost "
                      "container does not take).")
    if (transform_input.get("CompressionType") or "None") != "None":
        raise _refuse("TransformInput CompressionType Gzip is not run by the local emulator; give uncompressed objects.")
    split = transform_input.get("SplitType") or "None"
    if split not in ("None", "Line"):
        raise _refuse(f"TransformInput SplitType {split!r} is not run by the local emulator: the built-in XGBoost "
                      "container takes CSV and libsvm, split by Line or not at all (None).")
    output = request.get("transform_output") or {}
    if (output.get("AssembleWith") or "None") not in ("None", "Line"):
        raise _refuse(f"TransformOutput AssembleWith {output.get('AssembleWith')!r} is not one of None, Line.")
    strategy = request.get("batch_strategy") or "MultiRecord"
    if strategy not in ("MultiRecord", "SingleRecord"):
        raise _refuse(f"BatchStrategy {strategy!r} is not one of MultiRecord, SingleRecord.")
    payload = request.get("max_payload_in_mb")
    if payload is not None and not 0 <= int(payload) <= 100:
        raise _refuse(f"Value '{payload}' at 'maxPayloadInMB' failed to satisfy constraint: Member must have value "
                      "less than or equal to 100")
    if request.get("data_capture_config") or (request.get("model_client_config") or {}).get("InvocationsMaxRetries"):
        raise _refuse("DataCaptureConfig and ModelClientConfig.InvocationsMaxRetries are not run by the local emulator; "
                      "leave them out.")
    if data_processing(request.get("data_processing"), transform_input.get("ContentType")).active and split != "Line":
        raise _refuse("DataProcessing needs TransformInput SplitType Line: filters and JoinSource work record by record.")


# --- the model: the built-in algorithm, or the model's inference script ---------------------------------------

# SageMaker's default ModelClientConfig.InvocationsTimeoutInSeconds (CreateTransformJob's API reference).
DEFAULT_INVOCATIONS_TIMEOUT_SECONDS = 600


class _BadStatus(Exception):
    """The container answered a request with a status other than 200."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Algorithm:
    """The built-in algorithm: in batch mode one score per line, each ending with a newline (serving.py)."""

    def __init__(self, booster: xgb.Booster, style: ResponseStyle) -> None:
        self._booster, self._style = booster, style

    def answers(self, body: bytes, content_type: str, accept: str | None, per_record: bool) -> list[bytes]:
        from ..algorithm import serving

        try:
            prediction = serving.predict(self._booster, self._booster.num_features(), body, content_type, accept,
                                         self._style, batch=True)  # fmt: skip
        except serving.ServingError as error:
            raise _BadStatus(error.status, error.message) from None
        return prediction.body.splitlines()  # one answer per record, whatever the Accept header

    @staticmethod
    def assemble(answers: list[bytes], assemble_with: str, per_record: bool) -> bytes:
        # AssembleWith Line puts each record on its line; None concatenates the container's answers, and each of
        # those already ends with a newline (serve.py's SAGEMAKER_BATCH branch, every tag): the same bytes here.
        return b"".join(answer + b"\n" for answer in answers)

    def close(self) -> None:
        pass


class _Script:
    """The model's inference script, in a model-server process of the job's own: one answer per request."""

    def __init__(self, server: script_serving.ModelServer, timeout: float) -> None:
        self._server, self._timeout = server, timeout

    def answers(self, body: bytes, content_type: str, accept: str | None, per_record: bool) -> list[bytes]:
        try:
            answer = self._server.invoke(body, content_type, accept, self._timeout)
        except script_serving.InvocationTimeout:
            raise _BadStatus(0, f"Model server did not respond to /invocations request within {self._timeout:.0f} "
                             "seconds") from None  # fmt: skip
        if answer.status != 200:
            raise _BadStatus(answer.status, answer.text)
        return answer.body.splitlines() if per_record else [answer.body]

    @staticmethod
    def assemble(answers: list[bytes], assemble_with: str, per_record: bool) -> bytes:
        if assemble_with == "Line" or per_record:
            return b"".join(answer if answer.endswith(b"\n") else answer + b"\n" for answer in answers)
        return b"".join(answers)

    def close(self) -> None:
        self._server.close()


# --- the run ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputObject:
    uri: str
    relative: str  # its key after the input prefix: the output object is <S3OutputPath>/<relative>.out


class TransformRun(JobRun):
    kind = "transform"

    def __init__(self, backend: JobBackend, job: TransformJob) -> None:
        super().__init__(backend.runs, job.arn, job.transform_job_name)
        self.backend = backend
        self.job = job
        self.account_id: str = backend.account_id
        self.region: str = backend.region_name
        # A transform job acts as its model's execution role (CreateModel's ExecutionRoleArn).
        self.role_arn: str | None = backend._models[job.model_name].execution_role_arn
        self.aws = backend.aws().acting_as(self.role_arn)
        self._server: script_serving.ModelServer | None = None  # the script's model server, once there is one

    # --- the lifecycle (lifecycle.JobRun) ---------------------------------------------------------------
    def status(self) -> str:
        return str(self.job.transform_job_status)

    def not_stoppable(self, status: str) -> Exception:
        return _refuse(f"The transform job is in status {status} and cannot be stopped.")

    def stopping(self) -> None:
        self.job.transform_job_status = "Stopping"
        self.job.last_modified_time = utcnow()

    def woken(self) -> None:
        # The request in flight may wait for the script for InvocationsTimeoutInSeconds: a stop ends the model server
        # instead, and the requests get ServerClosed (_transform). A server made after this look sees the stop itself.
        server = self._server
        if server is not None:
            server.close(wait=0)

    def end_stopped(self) -> None:
        self._finish("Stopped")

    def end_failed(self, reason: str) -> None:
        self._finish("Failed", reason)

    def _check_stop(self) -> None:
        if self._stop_reason is not None:
            raise JobStopped()

    def execute(self) -> None:
        workers = max(1, int((self.job.transform_resources or {}).get("InstanceCount") or 1))
        epoch = int(time.time())
        streams = [self._worker_streams(epoch) for _ in range(workers)]
        model = self._load_model(streams[0][0])
        try:
            objects = self._inputs()
            shares = [objects[index::workers] for index in range(workers)]  # each instance gets its share
            errors: list[BaseException] = []
            threads = [
                threading.Thread(target=self._worker, args=(model, share, stream, errors), daemon=True)
                for share, stream in zip(shares, streams)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            model.close()
        if errors:
            raise errors[0]
        self._check_stop()
        self._finish("Completed")

    @property
    def _container(self) -> Document:
        model = self.backend._models[self.job.model_name]
        return model.primary_container or model.containers[0]

    def _load_model(self, stream: LogStream) -> _Algorithm | _Script:
        from ..algorithm import serving
        from .hosting import ModelLoadError, _booster_from_archive

        url = self._container.get("ModelDataUrl")
        script = training.inference_script(self._container)
        try:
            archive = self.aws.get_object(url) if url or script is None else None
            if script is not None:
                return self._launch_script(script, archive, url, stream)
            booster = _booster_from_archive(archive, url)  # type: ignore[arg-type]
            style = serving.response_style(self._container.get("Image"), self._container.get("Environment"))
            return _Algorithm(booster, style)
        except (backends.S3ObjectMissing, ValueError, AccessDenied):
            # The endpoint's wording (hosting.load_model): SageMaker names the role there.
            raise TransformFailure("", f"ClientError: Failed to download model data from URL: \"{url}\". Please ensure "
                                   "that there is an object located at the URL and that the role passed to CreateModel "
                                   "has permissions to download the object.") from None
        except ModelLoadError as exc:
            raise TransformFailure("", f"ClientError: {exc}") from None

    def _launch_script(self, script: str, archive: bytes | None, url: str | None, stream: LogStream) -> _Script:
        """The model's inference script in a model server of the job's own, with the variables SageMaker gives a
        container in batch transform."""
        strategy = self.job.batch_strategy or "MultiRecord"
        payload = self.job.max_payload_in_mb
        batch_env = {
            **{str(k): str(v) for k, v in (self.job.environment or {}).items()},
            "SAGEMAKER_BATCH": "true",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(DEFAULT_MAX_PAYLOAD_MB if payload is None else int(payload)),
            "SAGEMAKER_BATCH_STRATEGY": "SINGLE_RECORD" if strategy == "SingleRecord" else "MULTI_RECORD",
            "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": str(max(1, int(self.job.max_concurrent_transforms or 1))),
        }
        stream.write([training._info(f"Local emulator: starting the model server of {script} (script mode).")])
        try:
            server = script_serving.launch(
                kind="transform", name=self.job.transform_job_name, container=self._container, model_archive=archive,
                model_url=url, role_arn=self.role_arn, region=self.region, aws=self.aws, stream=stream,
                extra_env=batch_env, made=self._made,
            )  # fmt: skip
        except script_serving.ServerClosed:  # stopped while the model loaded (woken)
            self._check_stop()
            raise
        except script_serving.SetupFailure as exc:
            self._check_stop()  # what a stop ended is not the script's failure
            stream.write([training._info(str(exc), "ERROR")])
            raise TransformFailure("", f"ClientError: {exc}"[:1024]) from None
        client_config = self.job.model_client_config or {}
        timeout = client_config.get("InvocationsTimeoutInSeconds") or DEFAULT_INVOCATIONS_TIMEOUT_SECONDS
        return _Script(server, float(timeout))

    def _made(self, server: script_serving.ModelServer) -> None:
        self._server = server
        if self._stop_reason is not None:  # stopped before woken() could see the server
            server.close(wait=0)

    def _inputs(self) -> list[InputObject]:
        source = self.job.transform_input["DataSource"]["S3DataSource"]
        uri = source["S3Uri"]
        try:
            if (source.get("S3DataType") or "S3Prefix") == "ManifestFile":
                entries = json.loads(self.aws.get_object(uri))
                prefix = entries[0]["prefix"]
                return [InputObject(prefix + key, key) for key in entries[1:]]
            bucket, prefix = backends.parse_s3_uri(uri)
            keys = self.aws.list_objects(uri)
        except (backends.S3ObjectMissing, ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
            raise TransformFailure("", f"ClientError: Failed to read the input {uri}: {exc}.") from None
        except AccessDenied as denied:
            if denied.action != "s3:ListBucket":  # the manifest
                raise TransformFailure("", f"ClientError: {training.download_denied(uri)}") from None
            keys = []
        if not keys:
            raise TransformFailure("", f"ClientError: {training.no_objects_found(uri, self.region, self.role_arn)}")
        # A prefix that ends inside a name (s3://b/data/test) keeps the rest of the name; a folder, what is under it.
        folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix and not prefix.endswith("/") else prefix
        return [InputObject(f"s3://{bucket}/{key}", key[len(folder):]) for key in keys if not key.endswith("/")]

    def _worker_streams(self, epoch: int) -> tuple[backends.LogStream, backends.LogStream]:
        instance = f"i-{secrets.token_hex(8)}"
        name = f"{self.job.transform_job_name}/{instance}-{epoch}"
        make = functools.partial(self.aws.log_stream, LOG_GROUP)
        return make(name), make(f"{name}/data-log")

    def _worker(
        self,
        model: _Algorithm | _Script,
        share: list[InputObject],
        streams: tuple[LogStream, LogStream],
        errors: list[BaseException],
    ) -> None:
        stream, data_log = streams
        kind = "script mode" if isinstance(model, _Script) else "built-in XGBoost"
        stream.write([training._info(f"Local emulator: batch transform of {len(share)} object(s) with model "
                                     f"{self.job.model_name} ({kind}).")])
        concurrency = max(1, int(self.job.max_concurrent_transforms or 1))
        try:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="transform-request") as pool:
                for result in pool.map(lambda item: self._transform(model, item, data_log), share):
                    stream.write([training._info(result)])
        except BaseException as exc:  # noqa: BLE001 - handed to the job's thread, which ends the job
            errors.append(exc)

    def _transform(self, model: _Algorithm | _Script, item: InputObject, data_log: LogStream) -> str:
        self._check_stop()
        try:
            content = self.aws.get_object(item.uri)
        except AccessDenied:
            raise TransformFailure("", f"ClientError: {training.download_denied(item.uri)}") from None
        transform_input = self.job.transform_input
        content_type = transform_input.get("ContentType") or "text/csv"
        accept = (self.job.transform_output or {}).get("Accept")
        processing = data_processing(self.job.data_processing, content_type)
        records = self._records(content, transform_input.get("SplitType") or "None")
        answers: list[bytes] = []
        for first_line, batch in self._batches(records):
            self._check_stop()
            body = b"\n".join(self._filtered(processing, record) for record in batch)
            line = f", line {first_line}" if len(batch) == 1 else f", lines {first_line}-{first_line + len(batch) - 1}"
            try:
                scores = model.answers(body, content_type, accept, per_record=processing.active)
            except script_serving.ServerClosed:  # a stop ended the model server (woken)
                self._check_stop()
                raise
            except _BadStatus as error:
                if error.status == 0:  # no answer at all
                    data_log.write([f"{error.message} for {item.uri}{line}"])
                else:
                    data_log.write([f"Bad HTTP status received from algorithm: {error.status} for {item.uri}{line}: "
                                    f"{error.message}"])
                raise TransformFailure(error.message) from None
            if processing.active and len(scores) != len(batch) and len(batch) != 1:
                data_log.write([f"The answer for {item.uri}{line} has {len(scores)} line(s) for {len(batch)} records: "
                                "DataProcessing joins and filters an answer line by line."])
                raise TransformFailure(f"{len(scores)} answer lines for {len(batch)} records")
            answers.extend(self._joined(processing, batch, scores))
        self._check_stop()
        assemble_with = (self.job.transform_output or {}).get("AssembleWith") or "None"
        body = model.assemble(answers, assemble_with, per_record=processing.active)
        output = f"{self.job.transform_output['S3OutputPath'].rstrip('/')}/{item.relative}.out"
        try:
            self.aws.put_object(output, body)
        except AccessDenied:
            # S3's refusal quoted as the downloads quote it (training.S3_ACCESS_DENIED); the words are the emulator's.
            raise TransformFailure("", f"ClientError: Failed to upload the output {output} {training.S3_ACCESS_DENIED}") from None
        return f"{item.uri}: {len(answers)} record(s) -> {output}"

    @staticmethod
    def _records(content: bytes, split: str) -> list[bytes]:
        if split == "Line":
            return [line for line in content.split(b"\n") if line.strip()]
        return [content] if content.strip() else []

    def _batches(self, records: list[bytes]) -> Iterator[tuple[int, list[bytes]]]:
        """(line of the first record, records) per request: one record each, or as many as fit the payload."""
        limit_mb = self.job.max_payload_in_mb
        limit = (DEFAULT_MAX_PAYLOAD_MB if limit_mb is None else int(limit_mb)) * 1024 * 1024
        single = (self.job.batch_strategy or "MultiRecord") == "SingleRecord"
        batch: list[bytes] = []
        size, first = 0, 1
        for line, record in enumerate(records, start=1):
            if limit and len(record) > limit:
                raise TransformFailure(f"Record at line {line} is {len(record)} bytes, more than MaxPayloadInMB",
                                       "ClientError: Too much data for max payload size")
            if batch and (single or (limit and size + len(record) + 1 > limit)):
                yield first, batch
                batch, size, first = [], 0, line
            batch.append(record)
            size += len(record) + 1
        if batch:
            yield first, batch

    @staticmethod
    def _filtered(processing: DataProcessing, record: bytes) -> bytes:
        if not processing.active:
            return record
        return ",".join(processing.input_filter(record.decode("utf-8").rstrip("\r").split(","))).encode()

    @staticmethod
    def _joined(processing: DataProcessing, batch: list[bytes], scores: list[bytes]) -> list[bytes]:
        if len(scores) != len(batch) and len(batch) == 1:
            scores = [b"\n".join(scores)]  # SplitType None: the object's answers as one
        if not processing.active:
            return scores
        joined = []
        for record, score in zip(batch, scores):
            fields = (record.decode("utf-8").rstrip("\r").split(",") if processing.join_input else []) + score.decode().split(",")
            joined.append(",".join(processing.output_filter(fields)).encode())
        return joined

    def _finish(self, status: str, reason: str | None = None) -> None:
        self.last_a_second(self.job.creation_time)
        if status == "Completed" and self._stop_reason is not None:
            status = "Stopped"  # stopped while it waited out its first second: the accepted stop wins
        with self._lock:
            now = utcnow()
            self.job.transform_end_time = now
            self.job.failure_reason = reason
            self.job.transform_job_status = status
            self.job.last_modified_time = now


# --- the transform job and the backend ----------------------------------------------------------------------


class TransformJob(FakeTransformJob):
    """moto's transform job, InProgress from the start as on AWS."""

    def __init__(self, **request: MotoArguments) -> None:
        super().__init__(**request)
        self.transform_job_status = "InProgress"
        self.transform_start_time = self.creation_time
        self.transform_end_time = None
        self.failure_reason: str | None = None
        self.labeling_job_arn = None
        self.auto_ml_job_arn = None


class TransformBackend(JobBackend):
    """CreateTransformJob runs the batch transform, StopTransformJob (which moto lacks) stops it."""

    def create_transform_job(self, transform_job_name: str, **request: MotoArguments) -> FakeTransformJob:
        if transform_job_name in self.transform_jobs:
            raise ResourceInUseException(message=f"Job name must be unique within an AWS account and region, and a "
                                         "transform job with this name already exists "
                                         f"({self.transform_jobs[transform_job_name].arn})")
        validate_request({"transform_job_name": transform_job_name, **request}, self)
        # moto's create_transform_job (moto/sagemaker/models.py), with the emulator's job.
        job = TransformJob(
            account_id=self.account_id, region_name=self.region_name, transform_job_name=transform_job_name, **request
        )
        self.transform_jobs[transform_job_name] = job
        TransformRun(self, job).start(wait=QUICK_JOB_SECONDS)
        return job

    def stop_transform_job(self, transform_job_name: str) -> None:
        job = self.transform_jobs.get(transform_job_name)
        if job is None:
            arn = FakeTransformJob.arn_formatter(transform_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find job to update with name {arn}")
        run = self.runs.get(job.arn)
        if run is None:
            raise _refuse(f"The transform job is in status {job.transform_job_status} and cannot be stopped.")
        run.request_stop()
