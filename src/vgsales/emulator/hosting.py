"""Endpoints load their model for real, and InvokeEndpoint serves predictions from it.

moto marks an endpoint InService at once and answers InvokeEndpoint with canned bytes, even for endpoints that
do not exist. On the emulator's SageMaker backend (HostingBackend) and runtime (RuntimeService):
- CreateEndpoint is Creating until the model of the endpoint config's first variant is downloaded from
  emulated S3 (as the model's ExecutionRoleArn, role_access.py) and loaded, then InService; Failed with a
  FailureReason when the artifact is missing, unreadable by the role, corrupt or not for the built-in XGBoost
  algorithm. Serverless variants work the same way.
- UpdateEndpoint (which moto lacks) is Updating while the new model loads; the old one keeps serving. On
  success the new one replaces it; on failure the endpoint stays InService on the old one with a FailureReason,
  as on AWS. DeleteEndpoint unloads the model.
- InvokeEndpoint predicts with the loaded booster, in the built-in container's formats (algorithm/serving.py),
  and fails as AWS does: ValidationError for an unknown endpoint or an oversize body, ModelError (424, with
  OriginalStatusCode and OriginalMessage) for what the container refuses. Requests share the booster, which is
  only read, so serving is concurrent and never reloads.
- A model whose container names an inference script (SAGEMAKER_PROGRAM: the SDK's `XGBoostModel(entry_point=...)`
  and a framework estimator's deploy()) is served through it, as the image's script mode serves it: a model-server
  process of the endpoint's own runs the user's model_fn, input_fn, predict_fn, output_fn or transform_fn
  (script_mode/serving.py), one request at a time; the endpoint is Creating until model_fn has run, Failed when
  the code cannot be fetched, its requirements installed or the module loaded. UpdateEndpoint keeps the old
  process serving until the new one is ready; DeleteEndpoint ends it. A request gets SageMaker's timeout
  (ModelError, "Your invocation timed out ...") 60 s after it arrived, whatever it waited for: earlier requests,
  the process loading again after a crash, or a first try on a model replaced meanwhile.
"""

from __future__ import annotations

import http
import io
import json
import logging
import os
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from moto.core.utils import utcnow
from moto.iam import models as iam_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend, sagemaker_backends
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from . import access, backends
from .metrics import EndpointMetrics
from .role_access import AccessDenied, RoleUnavailable
from .script_mode import serving as script_serving
from .shapes import Document, Environ, MotoArguments, StartResponse, WsgiApp
from .training import inference_script, is_builtin_xgboost

if TYPE_CHECKING:
    import xgboost as xgb

    from ..algorithm.serving import ResponseStyle, ServingError

log = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """Why an endpoint could not load its model; becomes the endpoint's FailureReason."""


@dataclass(frozen=True)
class LoadedModel:
    booster: xgb.Booster
    num_features: int
    variant_name: str
    model_name: str
    log_stream: backends.LogStream
    production_variants: list[Document]  # of the endpoint config it was loaded for
    style: ResponseStyle  # how the model's image writes its answers (its tag, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT)
    metrics: EndpointMetrics  # Invocations, latencies and errors in AWS/SageMaker (metrics.py)


@dataclass(frozen=True)
class ScriptModel:
    """An endpoint's model served through its inference script, by a model-server process of its own."""

    server: script_serving.ModelServer
    variant_name: str
    model_name: str
    log_stream: backends.LogStream
    production_variants: list[Document]
    metrics: EndpointMetrics


def _close(model: LoadedModel | ScriptModel | None, wait: float = script_serving.CLOSE_GRACE_SECONDS) -> None:
    """Let go of a model the endpoint no longer serves: a script model's process ends (a booster is just dropped)."""
    if isinstance(model, ScriptModel):
        model.server.close(wait)


def _booster_from_archive(archive_bytes: bytes, url: str) -> xgb.Booster:
    import xgboost as xgb  # imported on first use, see training.XGBOOST_MODULES

    from ..algorithm.training import MODEL_FILENAME

    try:
        with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r:*") as archive:
            files = [member for member in archive.getmembers() if member.isfile()]
            chosen = [m for m in files if m.name.rsplit("/", 1)[-1] == MODEL_FILENAME] or files
            if len(chosen) != 1:
                raise ModelLoadError(
                    f"Unable to load model: {url} holds {len(files)} files and no '{MODEL_FILENAME}'; the built-in "
                    "XGBoost algorithm expects one model file."
                )
            extracted = archive.extractfile(chosen[0])
            content = extracted.read() if extracted else b""
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ModelLoadError(f"Unable to load model: {url} is not a valid model.tar.gz ({exc}).") from None
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(content))
    except (xgb.core.XGBoostError, UnicodeDecodeError) as exc:
        # XGBoost may quote the unreadable bytes, and then fails to decode its own message.
        text = str(exc).strip() if isinstance(exc, xgb.core.XGBoostError) else ""
        first_line = text.splitlines()[0] if text else "unreadable model"
        raise ModelLoadError(
            f"Unable to load model: {chosen[0].name} in {url} is not an XGBoost model that Booster.load_model can "
            f"read ({first_line})."
        ) from None
    # Requests run concurrently in their own threads; one OpenMP thread each keeps them from oversubscribing.
    booster.set_param({"nthread": 1})
    return booster


def load_model(
    backend: SageMakerModelBackend, aws: backends.ServiceAccess, endpoint_name: str, config_name: str
) -> LoadedModel | ScriptModel:
    """Download and load the model of an endpoint config's first production variant, as the model's execution role."""
    config = backend.endpoint_configs.get(config_name)
    if config is None or not config.production_variants:
        raise ModelLoadError(f"Endpoint configuration {config_name} does not exist or has no production variant.")
    variant = config.production_variants[0]
    variant_name = variant.get("VariantName", "AllTraffic")
    model = backend._models.get(variant["ModelName"])
    if model is None:
        raise ModelLoadError(f"Model {variant['ModelName']} of production variant {variant_name} does not exist.")
    container = model.primary_container or (model.containers[0] if model.containers else {})
    image = container.get("Image")
    if not is_builtin_xgboost(image):
        raise ModelLoadError(
            f"The local emulator cannot run the inference image {image!r} of model {model.model_name}: it serves only "
            "models of the SageMaker built-in XGBoost algorithm (image repository sagemaker-xgboost or xgboost). "
            "Use the aws target for other images."
        )
    script = inference_script(container)
    url = container.get("ModelDataUrl")
    if not url and script is None:
        raise ModelLoadError(f"Model {model.model_name} has no ModelDataUrl; the built-in XGBoost algorithm serves a model.tar.gz from S3.")
    aws = aws.acting_as(model.execution_role_arn)
    try:
        stream = aws.log_stream(f"/aws/sagemaker/Endpoints/{endpoint_name}", f"{variant_name}/local-emulator")
        stream.write([f"Loading the model of variant {variant_name} from {url or '(no ModelDataUrl)'}"])
        archive = aws.get_object(url) if url else None
    except RoleUnavailable as missing:
        raise ModelLoadError(str(missing)) from None
    except (backends.S3ObjectMissing, ValueError, AccessDenied):
        # SageMaker's words, the same whether the object is missing or the role may not read it
        # (aws-samples/cvat-on-aws-china#3, aws-solutions-library-samples/fraud-detection-using-machine-learning#9).
        message = (
            f'Failed to download model data for container "container_1" from URL: "{url}". Please ensure that there '
            "is an object located at the URL and that the role passed to CreateModel has permissions to download the object."
        )
        stream.write([message])
        raise ModelLoadError(message) from None
    if script is not None:
        try:
            server = script_serving.launch(
                kind="endpoint", name=endpoint_name, container=container, model_archive=archive, model_url=url,
                role_arn=model.execution_role_arn, region=backend.region_name, aws=aws, stream=stream,
                ready_timeout=script_serving.ready_timeout_of(variant),
            )  # fmt: skip
        except script_serving.SetupFailure as exc:
            raise ModelLoadError(_ping_failure(variant_name, str(exc))) from None
        stream.write([f"Model server ready: {script} loaded the model (script mode)."])
        return ScriptModel(server, variant_name, model.model_name, stream, list(config.production_variants),
                           aws.endpoint_metrics(endpoint_name, variant_name))  # fmt: skip
    assert archive is not None
    try:
        booster = _booster_from_archive(archive, url)
    except ModelLoadError as exc:
        stream.write([str(exc)])
        raise ModelLoadError(_ping_failure(variant_name, str(exc))) from None
    stream.write([f"Model loaded successfully: {booster.num_features()} features, {booster.num_boosted_rounds()} rounds."])
    from ..algorithm.serving import response_style

    style = response_style(image, container.get("Environment"))
    return LoadedModel(
        booster, booster.num_features(), variant_name, model.model_name, stream, list(config.production_variants), style,
        aws.endpoint_metrics(endpoint_name, variant_name),
    )


def _ping_failure(variant_name: str, why: str) -> str:
    """SageMaker's FailureReason for a container that never answers /ping with 200, with what the emulator saw in
    the middle, shortened so that the whole fits FailureReason's 1024 characters."""
    start = f"The primary container for production variant {variant_name} did not pass the ping health check: "
    end = " Please check CloudWatch logs for this endpoint."
    room = 1024 - len(start) - len(end)
    return start + (why if len(why) <= room else why[:room - 4].rstrip() + " ...") + end


# --- InvokeEndpoint ---------------------------------------------------------------------------------------


def _error(status: int, code: str, body: Document) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps(body).encode()


def _validation_error(message: str, status: int = 400) -> tuple[int, dict[str, str], bytes]:
    return _error(status, "ValidationError", {"message": message})


def _model_error(
    region: str, account_id: str, endpoint_name: str, loaded: LoadedModel | ScriptModel, failure: ServingError
):
    console = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group=/aws/sagemaker/Endpoints/{endpoint_name}"
    )
    # SageMaker's words: "client error" for the container's 4xx, "server error" for its 5xx and for no answer at
    # all (status 0, "Your invocation timed out ...", aws/amazon-sagemaker-examples#799).
    kind = "client" if 400 <= failure.status < 500 else "server"
    message = (
        f'Received {kind} error ({failure.status}) from primary with message '
        f'"{failure.message}". '
        f"See {console} in account {account_id} for more information."
    )
    return _error(
        424,
        "ModelError",
        {
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL",
            "LogStreamArn": loaded.log_stream.arn,
            "Message": message,
            "OriginalMessage": failure.message,
            "OriginalStatusCode": failure.status,
        },
    )


def invoke(
    account_id: str,
    region: str,
    endpoint_name: str,
    body: bytes,
    content_type: str | None,
    accept: str | None,
    target_variant: str | None = None,
    received: float | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Answer one InvokeEndpoint request: (HTTP status, headers, body). ``received``: when a retried request
    first arrived (perf_counter), which SageMaker's timeout counts from."""
    retried = received is not None
    received = time.perf_counter() if received is None else received
    from ..algorithm import serving as xgboost_serving  # imported on first use, see training.XGBOOST_MODULES

    backend = sagemaker_backends[account_id][region]
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        return _validation_error(f"Endpoint {endpoint_name} of account {account_id} not found.")
    loaded = backend.loaded.get(endpoint.arn) if isinstance(backend, HostingBackend) else None
    if loaded is None:
        return _validation_error(
            f"Endpoint {endpoint_name} of account {account_id} is not serving: its status is {endpoint.endpoint_status}."
        )
    if len(body) > xgboost_serving.MAX_PAYLOAD_BYTES:
        return _validation_error(f"Request {uuid.uuid4()} has oversize body.", status=413)
    if target_variant and target_variant != loaded.variant_name:
        return _validation_error(
            f"Target variant {target_variant} is not served by endpoint {endpoint_name}; the local emulator serves "
            f"its first production variant, {loaded.variant_name}."
        )
    if isinstance(loaded, ScriptModel):
        try:
            return _invoke_script(region, account_id, endpoint_name, loaded, body, content_type, accept, received)
        except script_serving.ServerClosed:  # updated away or deleted meanwhile: ask again, once
            if retried:
                return _validation_error(f"Endpoint {endpoint_name} of account {account_id} is not serving.")
            return invoke(account_id, region, endpoint_name, body, content_type, accept, target_variant, received)
    model_started = time.perf_counter()
    try:
        prediction = xgboost_serving.predict(loaded.booster, loaded.num_features, body, content_type, accept, loaded.style)
    except xgboost_serving.ServingError as failure:
        _record(loaded, failure.status, received, model_started)
        loaded.log_stream.write([f"Request refused with status {failure.status}: {failure.message}"])
        return _model_error(region, account_id, endpoint_name, loaded, failure)
    _record(loaded, 200, received, model_started)
    headers = {"Content-Type": prediction.content_type, "x-Amzn-Invoked-Production-Variant": loaded.variant_name}
    return 200, headers, prediction.body


# SageMaker's message when an endpoint's container gives no answer within its 60 s (aws/amazon-sagemaker-examples#799).
INVOCATION_TIMED_OUT = (
    "Your invocation timed out while waiting for a response from container primary. Review the latency metrics for "
    "each container in Amazon CloudWatch, resolve the issue, and try again."
)


def _invoke_script(
    region: str, account_id: str, endpoint_name: str, loaded: ScriptModel, body: bytes, content_type: str | None,
    accept: str | None, received: float,
) -> tuple[int, dict[str, str], bytes]:
    """One request through the endpoint's inference script: its answer, or ModelError for its non-200 answers."""
    from ..algorithm.serving import ServingError

    model_started = time.perf_counter()
    # SageMaker's 60 s count from the request's arrival, a first try on a model since replaced included.
    remaining = script_serving.ENDPOINT_INVOCATION_TIMEOUT_SECONDS - (model_started - received)
    try:
        if remaining <= 0:
            raise script_serving.InvocationTimeout(script_serving.ENDPOINT_INVOCATION_TIMEOUT_SECONDS)
        answer = loaded.server.invoke(body, content_type, accept, remaining)
    except script_serving.InvocationTimeout:
        _record(loaded, 500, received, model_started)  # SageMaker counts it as a server error
        return _model_error(region, account_id, endpoint_name, loaded, ServingError(0, INVOCATION_TIMED_OUT))
    _record(loaded, answer.status, received, model_started)
    if answer.status != 200:
        return _model_error(region, account_id, endpoint_name, loaded, ServingError(answer.status, answer.text))
    headers = {"Content-Type": answer.content_type, "x-Amzn-Invoked-Production-Variant": loaded.variant_name}
    return 200, headers, answer.body


def _record(loaded: LoadedModel | ScriptModel, status: int, received: float, model_started: float) -> None:
    """The invocation's metrics: the model's time, and the emulator's own before and around it (OverheadLatency)."""
    now = time.perf_counter()
    loaded.metrics.record(status, model_seconds=now - model_started, overhead_seconds=model_started - received)


# --- a shortcut past moto's request pipeline ---------------------------------------------------------------

INVOCATION_PATH = re.compile(r"^/endpoints/([^/]+)/invocations$")
# SigV4: "AWS4-HMAC-SHA256 Credential=<access key>/<date>/<region>/sagemaker/aws4_request, ..."
_SAGEMAKER_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/sagemaker/aws4_request")


def serve_invocations(app: WsgiApp) -> WsgiApp:
    """Wrap the emulator's WSGI app so that InvokeEndpoint requests skip moto's routing and dispatch.

    Answers exactly what RuntimeService.invoke_endpoint answers (both call invoke()), resolving the account the way
    moto does, but in a fraction of the time per request: moto's router scans its package folder and parses
    the request generically, which costs more than a prediction. Everything else goes to ``app``.
    """

    def middleware(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = INVOCATION_PATH.match(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "POST" else None
        credential = _SAGEMAKER_CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "")) if path else None
        length = environ.get("CONTENT_LENGTH")
        if not credential or not length or environ.get("HTTP_CONTENT_ENCODING"):
            return app(environ, start_response)
        access_key, region = credential.groups()
        # moto's precedence: MOTO_ACCOUNT_ID, then the x-moto-account-id header, then the access key.
        account_id = os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID") or iam_models.get_account_id_from(access_key)
        body = environ["wsgi.input"].read(int(length))
        name = unquote(path.group(1))
        refused = access.refuse_invocation(environ, account_id, region, name, body)
        status, headers, content = refused or invoke(
            account_id,
            region,
            name,
            body,
            environ.get("CONTENT_TYPE"),
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_X_AMZN_SAGEMAKER_TARGET_VARIANT"),
        )
        response_headers = {**headers, "x-amzn-RequestId": str(uuid.uuid4()), "Content-Length": str(len(content))}
        start_response(f"{status} {http.HTTPStatus(status).phrase}", list(response_headers.items()))
        return [content]

    return middleware


# --- the endpoint and the backend --------------------------------------------------------------------------

# A model of the workshop's size loads in tens of milliseconds. CreateEndpoint and UpdateEndpoint wait that
# long for it, so a client's first describe already sees the state the load reached (SDK v2 otherwise sleeps
# 30 s between polls); a slower load goes on in the background, and the endpoint is Creating meanwhile.
LOAD_WAIT_SECONDS = 2.0


class Endpoint(FakeEndpoint):
    """moto's endpoint, Creating until its model is loaded (moto's is InService at once)."""

    def __init__(self, **request: MotoArguments) -> None:
        super().__init__(**request)
        self.endpoint_status = "Creating"


class HostingBackend(backends.ServiceBackend):
    """Endpoints that load their model and serve it; the loaded models live here, so moto's reset drops them."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        # Endpoint ARN -> the model it serves. Readers take a reference without a lock; writers replace entries whole.
        self.loaded: dict[str, LoadedModel | ScriptModel] = {}
        # Endpoint ARN -> number of the latest load started, so that a superseded or deleted load never publishes.
        self._generations: dict[str, int] = {}
        self._loads: list[threading.Thread] = []
        self._hosting_lock = threading.Lock()

    def reset(self) -> None:
        # A load in progress publishes nothing once its endpoint is gone; wait for it so that no thread remains.
        with self._hosting_lock:
            self._generations.clear()
            loads = list(self._loads)
        for load in loads:
            load.join(LOAD_WAIT_SECONDS * 15)
        with self._hosting_lock:
            models = list(self.loaded.values())
        for model in models:  # a script model's process and role session end with the backend
            _close(model)
        super().reset()

    def create_endpoint(self, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]) -> FakeEndpoint:
        if endpoint_name in self.endpoints:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        # moto's create_endpoint (moto/sagemaker/models.py), with the emulator's endpoint.
        try:
            endpoint_config = self.describe_endpoint_config(endpoint_config_name)
        except KeyError:
            arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find endpoint_config '{arn}'.") from None
        endpoint = Endpoint(
            account_id=self.account_id, region_name=self.region_name, endpoint_name=endpoint_name,
            endpoint_config_name=endpoint_config_name, production_variants=endpoint_config["ProductionVariants"],
            data_capture_config=endpoint_config["DataCaptureConfig"], tags=tags,
        )  # fmt: skip
        self.endpoints[endpoint_name] = endpoint
        # A model left from an earlier endpoint of this name must never answer for it.
        self._unload(endpoint.arn)
        self._start_load(endpoint, endpoint_config_name, updating=False)
        return endpoint

    def delete_endpoint(self, endpoint_name: str) -> None:
        endpoint = self.endpoints.get(endpoint_name)
        super().delete_endpoint(endpoint_name)
        if endpoint is not None:
            self._unload(endpoint.arn)

    def update_endpoint(self, endpoint_name: str, endpoint_config_name: str) -> FakeEndpoint:
        """Which moto lacks."""
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        if endpoint_config_name not in self.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
        if endpoint.endpoint_status in ("Creating", "Updating"):
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        if endpoint.endpoint_status != "InService":
            raise ValidationError(
                message=f'Cannot update endpoint "{endpoint.arn}" because its status is {endpoint.endpoint_status}; '
                "delete it and create it again."
            )
        endpoint.failure_reason = None
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = utcnow()
        self._start_load(endpoint, endpoint_config_name, updating=True)
        return endpoint

    def _start_load(self, endpoint: FakeEndpoint, config_name: str, updating: bool) -> None:
        aws = self.aws()
        with self._hosting_lock:
            generation = self._generations.get(endpoint.arn, 0) + 1
            self._generations[endpoint.arn] = generation

        def run() -> None:
            loaded, error = None, None
            try:
                loaded = load_model(self, aws, endpoint.endpoint_name, config_name)
            except ModelLoadError as exc:
                error = str(exc)
            except Exception as exc:  # an emulator bug must still end the load, never leave it Creating
                log.exception("loading the model of endpoint %s failed", endpoint.endpoint_name)
                error = f"Unable to load model: {type(exc).__name__}: {exc}"
            let_go = None  # the model no longer served: the one replaced, or this one when it is not wanted
            with self._hosting_lock:
                if threading.current_thread() in self._loads:  # not after a reset, which made a new list
                    self._loads.remove(threading.current_thread())
                if self._generations.get(endpoint.arn) != generation or self.endpoints.get(endpoint.endpoint_name) is not endpoint:
                    let_go = loaded  # deleted, reset, or another update started meanwhile
                    loaded = error = None
                if loaded is not None:
                    let_go = self.loaded.get(endpoint.arn)
                    self.loaded[endpoint.arn] = loaded
                    if updating:
                        endpoint.production_variants = endpoint._process_production_variants(loaded.production_variants)
                        endpoint.endpoint_config_name = config_name
                    endpoint.failure_reason = None
                    endpoint.endpoint_status = "InService"
                elif error is not None:
                    endpoint.failure_reason = error[:1024]
                    # A failed update leaves the endpoint serving its previous model, as AWS rolls back.
                    endpoint.endpoint_status = "InService" if updating else "Failed"
                if loaded is not None or error is not None:
                    endpoint.last_modified_time = utcnow()
            # The old model served until the new one was published; its requests in flight finish first.
            _close(let_go, wait=script_serving.ENDPOINT_INVOCATION_TIMEOUT_SECONDS)

        loader = threading.Thread(target=run, name=f"endpoint-{endpoint.endpoint_name}", daemon=True)
        with self._hosting_lock:
            self._loads.append(loader)
        loader.start()
        loader.join(LOAD_WAIT_SECONDS)

    def _unload(self, arn: str) -> None:
        with self._hosting_lock:
            unloaded = self.loaded.pop(arn, None)
            self._generations.pop(arn, None)
        _close(unloaded)


class RuntimeService(SageMakerRuntimeResponse):
    """SageMaker Runtime: InvokeEndpoint predicts with the endpoint's model (moto answers canned bytes)."""

    # Bodies are model input, often not UTF-8 text; moto would otherwise decode them (and fail on bytes).
    use_raw_body = True

    def _determine_resource(self) -> str:
        return access.sagemaker_runtime_resource(self)

    def invoke_endpoint(self) -> tuple[bytes, dict[str, str]]:  # type: ignore[override]
        endpoint_name = unquote(self.path.split("/")[2])  # /endpoints/<name>/invocations
        raw = self.raw_body
        status, headers, body = invoke(
            self.current_account,
            self.region,
            endpoint_name,
            raw if isinstance(raw, bytes) else (raw or "").encode(),
            self.headers.get("Content-Type"),
            self.headers.get("Accept"),
            self.headers.get("X-Amzn-SageMaker-Target-Variant"),
        )
        # moto takes the status of a plain (body, headers) response from a "status" header.
        return body, {**headers, "status": str(status)}
