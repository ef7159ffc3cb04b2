"""Endpoints and transform jobs of a model with an inference script serve through it (script_mode/serving.py).

Each model is packed as SDK v2 packs one: `XGBoostModel(entry_point=...)` repacks the code under `code/` in
model.tar.gz (sagemaker/utils.py repack_model) and sets SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code, or uploads a
sourcedir.tar.gz (fw_utils.tar_and_upload_dir) and names its s3:// URI. The scripts are the user's: model_fn and,
as they like, input_fn, predict_fn, output_fn or transform_fn.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import psutil
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from sklearn.datasets import make_classification

from vgsales.emulator import backends
from vgsales.emulator.script_mode import host as script_host
from vgsales.emulator.script_mode import serving as script_serving

from support.script_mode import sourcedir
from support.wait import wait_until

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/vgsales-test-sagemaker"
ROWS, LABELS = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=7)
ROWS = np.round(ROWS, 4).astype(np.float32)

LOAD_MODEL = '''
    import json, os

    import xgboost as xgb


    def model_fn(model_dir):
        booster = xgb.Booster()
        booster.load_model(os.path.join(model_dir, "xgboost-model"))
        return booster
'''
DEFAULTS = LOAD_MODEL  # input_fn, predict_fn and output_fn are the container's
OUTPUT_FN = LOAD_MODEL + '''

    def output_fn(prediction, accept):
        return json.dumps({"scores": [float(p) for p in prediction], "accept": accept}), "application/vnd.vgsales+json"
'''
TRANSFORM_FN = LOAD_MODEL + '''

    def transform_fn(model, request_body, content_type, accept):
        text = request_body if isinstance(request_body, str) else request_body.decode()
        rows = [line for line in text.splitlines() if line]
        return (f"{len(rows)} rows of {content_type} as {type(request_body).__name__}, {model.num_features()} features, "
                f"for {accept}"), "text/plain"
'''
INPUT_FN_RAISES = LOAD_MODEL + '''

    def input_fn(request_body, content_type):
        raise ValueError(f"vgsales-test cannot read {content_type}")
'''
MODEL_FN_RAISES = '''
    def model_fn(model_dir):
        raise FileNotFoundError("vgsales-test found no model in " + model_dir)
'''
TRANSFORM_FN_AND_INPUT_FN = TRANSFORM_FN + '''

    def input_fn(request_body, content_type):
        return request_body
'''
# The process ends itself (as a segfault or an out-of-memory kill would) on a two-row request only.
EXITS_ON_TWO_ROWS = LOAD_MODEL + '''

    def predict_fn(data, model):
        if data.num_row() == 2:
            os._exit(3)
        return model.predict(data)
'''
BATCH_OUTPUT = LOAD_MODEL + '''

    def output_fn(prediction, accept):
        lines = [f"{float(p):.7f},{os.environ.get('SAGEMAKER_BATCH')},{os.environ.get('SAGEMAKER_BATCH_STRATEGY')}"
                 for p in prediction]
        return "\\n".join(lines) + "\\n", "text/csv"
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def as_csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows)


def code(script: str, requirements: str | None = None) -> dict[str, str]:
    files = {"inference.py": textwrap.dedent(script).lstrip()}
    if requirements is not None:
        files["requirements.txt"] = requirements
    return files


def repacked(booster: xgb.Booster, files: dict[str, str], folder: Path) -> bytes:
    """model.tar.gz as SDK v2's repack_model writes it: the model's files, the code under code/, all added from
    one folder with arcname os.path.sep."""
    (folder / "code").mkdir(parents=True)
    booster.save_model(str(folder / "xgboost-model.ubj"))
    (folder / "xgboost-model.ubj").rename(folder / "xgboost-model")
    for name, text in files.items():
        (folder / "code" / name).write_text(text)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname=os.path.sep)
    return buffer.getvalue()


def model_only(booster: xgb.Booster, folder: Path) -> bytes:
    folder.mkdir(parents=True)
    booster.save_model(str(folder / "xgboost-model.ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder / "xgboost-model.ubj", arcname="xgboost-model")
    return buffer.getvalue()


def script_processes(name: str) -> list[psutil.Process]:
    """The live script processes of one endpoint or job: their mark (their working directory) is in its folders."""
    root = script_host.current_host().root
    return processes_under(*(root / script_host.folder_prefix(kind, name) for kind in ("endpoint", "transform")))


def processes_under(*beginnings: Path) -> list[psutil.Process]:
    """The live script processes whose mark begins with one of these paths (a folder, or a folder's name's start)."""
    found = []
    for process in psutil.process_iter():
        try:
            mark = process.environ().get(script_host.MARK, "")
            if mark and any(mark.startswith(str(beginning)) for beginning in beginnings) \
                    and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def server_of(sagemaker, name: str, region: str = "us-east-1") -> script_serving.ModelServer:
    """The model server an endpoint serves with, taken from the emulator's backend (in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    arn = sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"]
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][region].loaded[arn].server


def pipes() -> int:
    """How many pipes this process (the tests and the emulator) holds open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
        except OSError:
            continue
    return count


class Hosting:
    """Models, endpoint configs and endpoints as SDK v2's deploy() creates them, on the emulator."""

    def __init__(self, bucket: str, tmp_path: Path) -> None:
        self.s3 = boto3.client("s3")
        self.sagemaker = boto3.client("sagemaker")
        self.runtime = boto3.client("sagemaker-runtime")
        self.logs = boto3.client("logs")
        self.bucket = bucket
        self.tmp_path = tmp_path
        self.endpoints: list[str] = []  # deleted by delete_endpoints, so that no model server outlives its test

    def upload(self, key: str, content: bytes) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=content)
        return f"s3://{self.bucket}/{key}"

    def model(self, booster: xgb.Booster, files: dict[str, str], *, layout: str = "repack", role: str = ROLE_ARN,
              environment: dict[str, str] | None = None) -> str:
        prefix = unique("models")
        if layout == "repack":
            url = self.upload(f"{prefix}/model.tar.gz", repacked(booster, files, self.tmp_path / prefix))
            submit = "/opt/ml/model/code"
        else:
            url = self.upload(f"{prefix}/model.tar.gz", model_only(booster, self.tmp_path / prefix))
            submit = self.upload(f"code/{prefix}/sourcedir.tar.gz", sourcedir(files))
        name = unique("script-model")
        env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": submit,
               "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": "us-east-1", **(environment or {})}
        self.sagemaker.create_model(ModelName=name, ExecutionRoleArn=role,
                                    PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url, "Environment": env})
        return name

    def config(self, model: str) -> str:
        name = unique("script-config")
        self.sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        return name

    def endpoint(self, model: str, name: str | None = None) -> tuple[str, dict]:
        name = name or unique("script-endpoint")
        self.endpoints.append(name)
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=self.config(model))
        return name, self.settled(name)

    def delete_endpoints(self) -> None:
        for name in self.endpoints:
            try:
                self.sagemaker.delete_endpoint(EndpointName=name)
            except ClientError:
                continue  # already deleted, or dropped by a reset
        for name in self.endpoints:
            assert not script_processes(name), f"endpoint {name} left a model server"

    def settled(self, name: str) -> dict:
        def done() -> dict | None:
            description = self.sagemaker.describe_endpoint(EndpointName=name)
            return description if description["EndpointStatus"] not in ("Creating", "Updating") else None

        return wait_until(done, timeout=60, message=f"endpoint {name} to leave Creating and Updating")

    def invoke(self, endpoint: str, body, content_type: str = "text/csv", **extra) -> tuple[bytes, dict]:
        response = self.runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType=content_type, **extra)
        return response["Body"].read(), response

    def log(self, endpoint: str) -> list[str]:
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        return [event["message"] for stream in self.logs.describe_log_streams(logGroupName=group)["logStreams"]
                for event in self.logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]]


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 3}
    return xgb.train(params, xgb.DMatrix(ROWS, label=LABELS), num_boost_round=8)


@pytest.fixture(scope="module")
def bucket(make_bucket) -> str:
    return make_bucket("vgsales-script-serving", {})


@pytest.fixture
def hosting(aws_env, bucket, tmp_path):
    stack = Hosting(bucket, tmp_path)
    yield stack
    stack.delete_endpoints()


@pytest.fixture(scope="module")
def defaults_endpoint(emulator, bucket, booster, tmp_path_factory):
    """An endpoint whose script has model_fn only, shared by the tests that only read from it."""
    with as_a_client(emulator):
        stack = Hosting(bucket, tmp_path_factory.mktemp("defaults"))
    try:
        with as_a_client(emulator):
            name, description = stack.endpoint(stack.model(booster, code(DEFAULTS)))
        assert description["EndpointStatus"] == "InService", description.get("FailureReason")
        yield name
    finally:
        with as_a_client(emulator):
            stack.delete_endpoints()


@contextlib.contextmanager
def as_a_client(emulator) -> Iterator[None]:
    """The emulator's client environment, for module fixtures (aws_env is a test's)."""
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in emulator.client_env().items():
            patch.setenv(variable, value)
        yield


def expected(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    return booster.predict(xgb.DMatrix(rows))


# --- what the script computes ------------------------------------------------------------------------------


def test_a_script_with_model_fn_only_answers_with_the_containers_defaults(hosting, booster, defaults_endpoint):
    body, response = hosting.invoke(defaults_endpoint, as_csv(ROWS[:20]), Accept="application/json")
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    np.testing.assert_allclose(json.loads(body), expected(booster, ROWS[:20]), rtol=1e-6)
    assert any("Model server ready" in line for line in hosting.log(defaults_endpoint))
    metrics = boto3.client("cloudwatch").list_metrics(
        Namespace="AWS/SageMaker", Dimensions=[{"Name": "EndpointName", "Value": defaults_endpoint}])["Metrics"]
    assert {"Invocations", "ModelLatency", "OverheadLatency"} <= {metric["MetricName"] for metric in metrics}


def test_output_fn_writes_the_answer_from_a_sourcedir_on_s3(hosting, booster):
    """The SDK's default (no network isolation): SAGEMAKER_SUBMIT_DIRECTORY is the s3:// URI of sourcedir.tar.gz."""
    name, description = hosting.endpoint(hosting.model(booster, code(OUTPUT_FN), layout="sourcedir"))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    body, response = hosting.invoke(name, as_csv(ROWS[:3]), Accept="application/x-anything")
    assert response["ContentType"] == "application/vnd.vgsales+json"
    answer = json.loads(body)
    assert answer["accept"] == "application/x-anything"
    np.testing.assert_allclose(answer["scores"], expected(booster, ROWS[:3]), rtol=1e-6)


def test_transform_fn_takes_the_raw_request(hosting, booster):
    name, description = hosting.endpoint(hosting.model(booster, code(TRANSFORM_FN)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    body, response = hosting.invoke(name, as_csv(ROWS[:4]), Accept="text/plain")
    assert response["ContentType"].startswith("text/plain")
    # sagemaker-containers' Request.content: text/csv and application/json arrive decoded (UTF8_TYPES), the rest as bytes
    assert body.decode() == "4 rows of text/csv as str, 5 features, for text/plain"
    body, _ = hosting.invoke(name, as_csv(ROWS[:2]), content_type="text/x-rows", Accept="text/plain")
    assert body.decode() == "2 rows of text/x-rows as bytes, 5 features, for text/plain"


def test_input_fn_raising_is_a_model_error_with_the_containers_status_and_message(hosting, booster):
    name, description = hosting.endpoint(hosting.model(booster, code(INPUT_FN_RAISES)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    with pytest.raises(ClientError) as refused:
        hosting.invoke(name, as_csv(ROWS[:1]))
    error = refused.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    status = error["OriginalStatusCode"]
    assert status >= 400, error
    kind = "server" if status >= 500 else "client"
    assert error["Error"]["Message"].startswith(f"Received {kind} error ({status}) from primary with message")
    assert error["OriginalMessage"] in error["Error"]["Message"]
    assert error["LogStreamArn"].endswith(f"log-group:/aws/sagemaker/Endpoints/{name}")
    assert any("vgsales-test cannot read text/csv" in line for line in hosting.log(name)), "the traceback is in the log"


# --- what fails the endpoint -------------------------------------------------------------------------------


@pytest.mark.parametrize(("script", "logged"), [
    (MODEL_FN_RAISES, "vgsales-test found no model in"),
    # serving.py _user_module_transformer: transform_fn with any of input_fn, predict_fn, output_fn is a UserError.
    (TRANSFORM_FN_AND_INPUT_FN, "Cannot use transform_fn implementation with input_fn"),
], ids=["model_fn raises", "transform_fn beside input_fn"])
def test_a_script_that_cannot_load_fails_the_endpoint_and_logs_why(hosting, booster, script, logged):
    name, description = hosting.endpoint(hosting.model(booster, code(script)))
    assert description["EndpointStatus"] == "Failed"
    reason = description["FailureReason"]
    assert reason.startswith("The primary container for production variant AllTraffic did not pass the ping health check")
    assert reason.endswith("Please check CloudWatch logs for this endpoint.")
    assert any(logged in line for line in hosting.log(name)), hosting.log(name)
    assert not script_processes(name)
    with pytest.raises(ClientError) as refused:
        hosting.invoke(name, as_csv(ROWS[:1]))
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_a_requirement_already_there_installs_nothing_from_the_network(hosting, booster, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: anything pip would fetch fails the endpoint
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS, requirements="numpy\n")))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    assert any("Requirement already satisfied: numpy" in line for line in hosting.log(name)), hosting.log(name)


def test_a_requirement_that_cannot_be_installed_fails_the_endpoint_naming_it(hosting, booster, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS, requirements="numpy\nvgsales-no-such-package==1.0\n")))
    assert description["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in description["FailureReason"]
    assert "vgsales-no-such-package" in description["FailureReason"]
    assert any("vgsales-no-such-package" in line for line in hosting.log(name))


def test_a_role_that_may_not_read_the_code_archive_fails_the_endpoint(hosting, booster, make_role, bucket):
    """The container downloads sourcedir.tar.gz with the role's credentials: boto3's HeadObject is refused."""
    role = make_role("vgsales-no-code", [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/models-*"},
    ])
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS), layout="sourcedir", role=role))
    assert description["EndpointStatus"] == "Failed"
    reason = description["FailureReason"]
    assert "did not pass the ping health check" in reason and "(403) when calling the HeadObject operation: Forbidden" in reason
    assert "sourcedir.tar.gz" in reason
    assert any("ClientError: An error occurred (403)" in line for line in hosting.log(name))


def test_an_environment_key_sagemaker_refuses_fails_the_endpoint_naming_it(hosting, booster):
    """SageMaker's CreateModel takes keys matching [a-zA-Z_][a-zA-Z0-9_]*; moto takes any, which no process
    environment can hold ("=" in a name): the endpoint fails saying so, and nothing is left open."""
    before = pipes()
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS), environment={"BAD=KEY": "1"}))
    assert description["EndpointStatus"] == "Failed"
    assert description["FailureReason"] == (
        "The primary container for production variant AllTraffic did not pass the ping health check: The model's "
        "container Environment has the key 'BAD=KEY', which is not an environment variable name: SageMaker accepts "
        "keys matching [a-zA-Z_][a-zA-Z0-9_]* of at most 1024 characters. Rename it. Please check CloudWatch logs for "
        "this endpoint.")
    assert pipes() == before
    assert not any(folder.name.startswith(script_host.folder_prefix("endpoint", name))
                   for folder in script_host.current_host().root.iterdir())


def test_an_error_taking_the_role_session_other_than_a_missing_role_is_the_emulators_own(hosting, booster, monkeypatch):
    """Only a role that is gone is the user's failure (RoleUnavailable); anything else is an emulator bug, reported
    as one, never as a role SageMaker could not assume."""
    def broken(*args, **kwargs):
        raise KeyError("vgsales-test emulator bug")

    monkeypatch.setattr(backends.ServiceAccess, "role_session", broken)
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS)))
    assert description["EndpointStatus"] == "Failed"
    assert description["FailureReason"] == "Unable to load model: KeyError: 'vgsales-test emulator bug'"
    assert not any(folder.name.startswith(script_host.folder_prefix("endpoint", name))
                   for folder in script_host.current_host().root.iterdir())


def test_an_endpoint_name_never_chooses_a_folder_outside_the_hosts(hosting, booster):
    """moto takes any endpoint name; "../" in one must not put the endpoint's folder (its code, its venv) elsewhere."""
    root = script_host.current_host().root
    escaped = f"vgsales-escaped-{uuid.uuid4().hex[:8]}"
    name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS)), name=f"a/../../{escaped}")
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    served = server_of(hosting.sagemaker, name)
    assert served.folder.parent == root and served.folder.name.startswith(f"endpoint-a-------{escaped}-")
    processes = script_processes(name)
    assert processes and all(Path(p.environ()[script_host.MARK]).resolve().is_relative_to(root.resolve())
                             for p in processes)  # fmt: skip
    assert not list(root.parent.glob(f"{escaped}*"))  # where root/endpoint-a/../../<escaped> would be


def test_a_code_archive_with_a_member_outside_its_folder_is_not_extracted(hosting, booster):
    prefix = unique("models")
    url = hosting.upload(f"{prefix}/model.tar.gz", model_only(booster, hosting.tmp_path / prefix))
    submit = hosting.upload(f"{prefix}/sourcedir.tar.gz", sourcedir({**code(DEFAULTS), "../../escaped.py": "x = 1\n"}))
    model = unique("script-model")
    hosting.sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer={
        "Image": IMAGE, "ModelDataUrl": url,
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": submit}})
    name, description = hosting.endpoint(model)
    assert description["EndpointStatus"] == "Failed"
    assert "would be written outside its folder" in description["FailureReason"]
    assert not list(script_host.current_host().root.rglob("escaped.py"))


# --- the process -------------------------------------------------------------------------------------------


def test_a_script_that_kills_its_process_fails_that_request_and_nothing_else(hosting, booster, defaults_endpoint):
    name, description = hosting.endpoint(hosting.model(booster, code(EXITS_ON_TWO_ROWS)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    with pytest.raises(ClientError) as refused:
        hosting.invoke(name, as_csv(ROWS[:2]))
    error = refused.value.response
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 502
    assert "502 Bad Gateway" in error["OriginalMessage"]  # nginx's page: the worker it proxied to is gone
    body, _ = hosting.invoke(defaults_endpoint, as_csv(ROWS[:2]), Accept="application/json")  # the emulator serves on
    np.testing.assert_allclose(json.loads(body), expected(booster, ROWS[:2]), rtol=1e-6)
    body, _ = hosting.invoke(name, as_csv(ROWS[:1]), Accept="application/json")  # started again, with a log line
    np.testing.assert_allclose(json.loads(body), expected(booster, ROWS[:1]), rtol=1e-6)
    log = hosting.log(name)
    assert any("exited (code 3)" in line for line in log) and any("Starting the model server again" in line for line in log)


SLOW_ON_TWO_ROWS = LOAD_MODEL + '''
    import time

    def predict_fn(data, model):
        if data.num_row() == 2:
            print("slow request started", flush=True)
            time.sleep(6)
        return model.predict(data)
'''
# The first model_fn is quick; each one after (a worker booted again after a crash) takes 4 s.
SLOW_TO_START_AGAIN = EXITS_ON_TWO_ROWS + '''

    import time

    _load_once = model_fn

    def model_fn(model_dir):
        marker = os.path.join(model_dir, "loaded-once")
        if os.path.exists(marker):
            time.sleep(4)
        open(marker, "w").close()
        return _load_once(model_dir)
'''


def test_a_request_queued_behind_a_slow_one_gets_sagemakers_timeout_not_the_wait(hosting, booster):
    """One process answers one request at a time; the time a request waits for it counts against its timeout."""
    name, description = hosting.endpoint(hosting.model(booster, code(SLOW_ON_TWO_ROWS)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    server = server_of(hosting.sagemaker, name)
    slow = threading.Thread(target=server.invoke, args=(as_csv(ROWS[:2]).encode(), "text/csv", None, 30.0))
    slow.start()
    try:
        wait_until(lambda: "slow request started" in hosting.log(name), message="the slow request to hold the process")
        with pytest.raises(script_serving.InvocationTimeout):
            server.invoke(as_csv(ROWS[:1]).encode(), "text/csv", None, 1.0)
        assert slow.is_alive(), "the queued request gave up at its own timeout, not after the slow one's 6 s"
    finally:
        slow.join(30)
    assert any("busy with earlier requests" in line for line in hosting.log(name))


def test_a_request_tried_again_on_the_updated_model_keeps_its_timeout_from_its_arrival(hosting, booster, monkeypatch):
    """A request that waited for a model since replaced is sent to the new one (ServerClosed), within what is left
    of SageMaker's 60 s (4 s here), not 60 s more."""
    monkeypatch.setattr(script_serving, "ENDPOINT_INVOCATION_TIMEOUT_SECONDS", 4.0)
    name, _ = hosting.endpoint(hosting.model(booster, code(SLOW_ON_TWO_ROWS)))
    old = server_of(hosting.sagemaker, name)

    def slow_request() -> None:
        with contextlib.suppress(script_serving.ServerClosed):  # the old model lets go of it after 4 s (here)
            old.invoke(as_csv(ROWS[:2]).encode(), "text/csv", None, 30.0)

    slow = threading.Thread(target=slow_request)
    slow.start()
    wait_until(lambda: "slow request started" in hosting.log(name), message="the slow request to hold the process")
    outcome: list[BaseException | bytes] = []
    queued_in = threading.Event()
    invoke = script_serving.ModelServer.invoke

    def noting_invoke(server, body, *args, **kwargs):
        if server is old and threading.current_thread() is not slow:
            queued_in.set()
        return invoke(server, body, *args, **kwargs)

    monkeypatch.setattr(script_serving.ModelServer, "invoke", noting_invoke)

    def queued() -> None:
        try:
            outcome.append(hosting.invoke(name, as_csv(ROWS[:1]))[0])
        except ClientError as error:
            outcome.append(error)

    waiting = threading.Thread(target=queued)
    waiting.start()  # waits for the old model's process behind the slow request
    assert queued_in.wait(30), "the request reached the old model's server"
    replacement = hosting.config(hosting.model(booster, code(DEFAULTS)))
    hosting.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=replacement)
    assert hosting.settled(name)["EndpointStatus"] == "InService"
    waiting.join(30)
    slow.join(30)
    [error] = outcome
    assert isinstance(error, ClientError), f"answered after the timeout: {error!r}"
    assert error.response["OriginalStatusCode"] == 0
    assert error.response["OriginalMessage"].startswith("Your invocation timed out")


def test_a_request_after_a_crash_waits_for_the_restart_no_longer_than_its_timeout(hosting, booster, monkeypatch):
    """SageMaker answers an endpoint's request within its 60 s (3 s here) even while the worker loads the model
    again; the process goes on loading, and a later request is answered by it."""
    monkeypatch.setattr(script_serving, "ENDPOINT_INVOCATION_TIMEOUT_SECONDS", 3.0)
    name, description = hosting.endpoint(hosting.model(booster, code(SLOW_TO_START_AGAIN)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    with pytest.raises(ClientError) as crashed:
        hosting.invoke(name, as_csv(ROWS[:2]))
    assert crashed.value.response["OriginalStatusCode"] == 502
    with pytest.raises(ClientError) as refused:  # an answer after the 4 s load would have been the prediction
        hosting.invoke(name, as_csv(ROWS[:1]))
    error = refused.value.response
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 0
    assert error["OriginalMessage"].startswith("Your invocation timed out while waiting for a response from container")

    def answered() -> bytes | None:
        # The process ends its 4 s load a few seconds later, more on a busy machine (its start imports xgboost); until
        # then a request gets the same timeout. One that ended the process would have made the next start it again.
        try:
            return hosting.invoke(name, as_csv(ROWS[:1]), Accept="application/json")[0]
        except ClientError as still_loading:
            if still_loading.response.get("OriginalStatusCode") == 0:
                return None
            raise

    body = wait_until(answered, timeout=60, message="the answer of the process that went on loading")
    np.testing.assert_allclose(json.loads(body), expected(booster, ROWS[:1]), rtol=1e-6)
    assert sum("Starting the model server again" in line for line in hosting.log(name)) == 1  # the same process


def test_closing_while_a_request_starts_the_process_again_leaves_no_process(hosting, booster, monkeypatch):
    """close() looks for the process while a request holds the server; one the request starts after that look is
    ended by the request itself, which gets ServerClosed."""
    name, description = hosting.endpoint(hosting.model(booster, code(EXITS_ON_TWO_ROWS)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    server = server_of(hosting.sagemaker, name)
    assert server.invoke(as_csv(ROWS[:2]).encode(), "text/csv", None, 30.0).status == 502  # no process now
    start = script_host.start

    def closed_first(*args, **kwargs):
        server.close(wait=0)  # between the old process's end and the new one's start; it cannot wait for the lock
        return start(*args, **kwargs)

    monkeypatch.setattr(script_host, "start", closed_first)
    with pytest.raises(script_serving.ServerClosed):
        server.invoke(as_csv(ROWS[:1]).encode(), "text/csv", None, 30.0)
    assert not processes_under(server.folder)


def test_a_process_that_cannot_be_started_again_is_nginxs_502_and_leaves_no_pipe_open(hosting, booster, monkeypatch):
    name, description = hosting.endpoint(hosting.model(booster, code(EXITS_ON_TWO_ROWS)))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    server = server_of(hosting.sagemaker, name)
    assert server.invoke(as_csv(ROWS[:2]).encode(), "text/csv", None, 30.0).status == 502
    before = pipes()

    def refused(*args, **kwargs):
        raise ValueError("illegal environment variable name")  # what Popen raises for "=" in a name

    monkeypatch.setattr(script_host, "start", refused)
    answer = server.invoke(as_csv(ROWS[:1]).encode(), "text/csv", None, 30.0)
    assert answer.status == 502 and "502 Bad Gateway" in answer.text
    assert pipes() == before
    assert any("The model server did not start again: The model server could not be started: illegal environment "
               "variable name." in line for line in hosting.log(name))


def caller(process: psutil.Process) -> str:
    """Who the process's credentials are, asked of STS with them, as the script's boto3 would ask."""
    env = process.environ()
    sts = boto3.client("sts", aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=env["AWS_SESSION_TOKEN"])  # fmt: skip
    return sts.get_caller_identity()["Arn"]


def test_update_serves_the_new_script_and_delete_leaves_no_process(hosting, booster):
    name, _ = hosting.endpoint(hosting.model(booster, code(TRANSFORM_FN)))
    old = script_processes(name)
    assert old, "a model-server process serves the endpoint"
    assert caller(old[0]) == "arn:aws:sts::123456789012:assumed-role/vgsales-test-sagemaker/SageMaker"
    old_env = old[0].environ()
    hosting.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=hosting.config(hosting.model(booster, code(OUTPUT_FN))))
    assert hosting.settled(name)["EndpointStatus"] == "InService"
    body, _ = hosting.invoke(name, as_csv(ROWS[:2]))
    assert json.loads(body)["scores"] == pytest.approx(expected(booster, ROWS[:2]).tolist(), rel=1e-6)
    wait_until(lambda: not any(process.is_running() and process.status() != psutil.STATUS_ZOMBIE for process in old),
               timeout=10, message="the old model server to end")  # fmt: skip
    # close() ends the process, then revokes the session, then removes the folder: once the folder is gone, all is.
    old_folder = Path(old_env[script_host.MARK])
    wait_until(lambda: not old_folder.exists(), timeout=10, message="the old model server's folder to go")
    revoked = boto3.client("sts", aws_access_key_id=old_env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=old_env["AWS_SECRET_ACCESS_KEY"], aws_session_token=old_env["AWS_SESSION_TOKEN"])
    with pytest.raises(ClientError):  # the old model server's role session ended with it
        revoked.get_caller_identity()
    assert script_processes(name)
    hosting.sagemaker.delete_endpoint(EndpointName=name)
    assert not script_processes(name)
    assert not any(f"endpoint-{name}-" in str(folder) for folder in script_host.current_host().root.iterdir())


def test_a_reset_ends_the_model_servers_of_its_backend(aws_env, bucket, booster, tmp_path):
    """moto's reset drops the backend's endpoints: their processes end with them (a region of its own)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import backend_lock
    from moto.sagemaker.models import sagemaker_backends

    region = "ap-southeast-2"
    hosting = Hosting(bucket, tmp_path)
    hosting.sagemaker = boto3.client("sagemaker", region_name=region)
    hosting.logs = boto3.client("logs", region_name=region)
    try:
        name, description = hosting.endpoint(hosting.model(booster, code(DEFAULTS)))
        assert description["EndpointStatus"] == "InService", description.get("FailureReason")
        assert script_processes(name)
    finally:  # also when an assertion fails: the region's model servers end here
        with backend_lock:  # as moto's BackendDict.reset resets each backend
            sagemaker_backends[DEFAULT_ACCOUNT_ID][region].reset()
    assert not script_processes(name)
    assert hosting.sagemaker.list_endpoints()["Endpoints"] == []


def test_a_silent_script_gets_nginx_504_after_the_model_server_timeout(hosting, booster):
    """SAGEMAKER_MODEL_SERVER_TIMEOUT is gunicorn's --timeout and nginx's proxy_read_timeout (sagemaker-containers
    _server.py): a request silent for longer gets nginx's 504 and the worker is killed."""
    sleeps = LOAD_MODEL + '''
    import time

    def predict_fn(data, model):
        time.sleep(30)
    '''
    name, _ = hosting.endpoint(hosting.model(booster, code(sleeps), environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "1"}))
    with pytest.raises(ClientError) as refused:
        hosting.invoke(name, as_csv(ROWS[:1]))
    assert refused.value.response["OriginalStatusCode"] == 504
    assert "504 Gateway Time-out" in refused.value.response["OriginalMessage"]


# --- batch transform ---------------------------------------------------------------------------------------


def transform_job(hosting: Hosting, model: str, **options) -> str:
    job = unique("script-transform")
    hosting.sagemaker.create_transform_job(
        TransformJobName=job, ModelName=model, BatchStrategy=options.pop("strategy", "MultiRecord"), MaxPayloadInMB=1,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{hosting.bucket}/batch-input/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{hosting.bucket}/batch-output/{job}", "AssembleWith": "Line",
                         "Accept": "text/csv"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1}, **options,
    )  # fmt: skip
    return job


def transform_ended(hosting: Hosting, job: str, timeout: float = 60) -> dict:
    def ended() -> dict | None:
        described = hosting.sagemaker.describe_transform_job(TransformJobName=job)
        return described if described["TransformJobStatus"] not in ("InProgress", "Stopping") else None

    return wait_until(ended, timeout=timeout, message=f"transform job {job} to end")


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_batch_transform_writes_what_the_script_answers(hosting, booster, strategy):
    model = hosting.model(booster, code(BATCH_OUTPUT))
    hosting.upload("batch-input/rows.csv", (as_csv(ROWS[:30]) + "\n").encode())
    job = transform_job(hosting, model, strategy=strategy)
    described = transform_ended(hosting, job)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    text = hosting.s3.get_object(Bucket=hosting.bucket, Key=f"batch-output/{job}/rows.csv.out")["Body"].read().decode()
    rows = [line.split(",") for line in text.splitlines()]
    wanted = "SINGLE_RECORD" if strategy == "SingleRecord" else "MULTI_RECORD"
    assert {(batch, given) for _, batch, given in rows} == {("true", wanted)}
    np.testing.assert_allclose([float(score) for score, _, _ in rows], expected(booster, ROWS[:30]), rtol=1e-6)
    assert not script_processes(job) and not any(
        f"transform-{job}-" in str(folder) for folder in script_host.current_host().root.iterdir())


SLEEPS_IN_PREDICT_FN = LOAD_MODEL + '''
    import time

    def predict_fn(data, model):
        print("script sleeping", flush=True)
        time.sleep(120)
'''
SLEEPS_IN_MODEL_FN = '''
    import time

    def model_fn(model_dir):
        print("script sleeping", flush=True)
        time.sleep(120)
'''


@pytest.mark.parametrize(("how", "script", "busy"), [
    ("StopTransformJob", SLEEPS_IN_PREDICT_FN, "predict_fn"),
    ("moto's reset", SLEEPS_IN_PREDICT_FN, "predict_fn"),
    ("StopTransformJob", SLEEPS_IN_MODEL_FN, "model_fn"),
], ids=["stop during a request", "reset during a request", "stop during model_fn"])
def test_a_stop_ends_a_transform_job_waiting_for_its_script_at_once(aws_env, bucket, booster, tmp_path, how, script,
                                                                    busy):  # fmt: skip
    """A request may take InvocationsTimeoutInSeconds (600 s by default), model_fn 8 minutes: a stop ends the model
    server instead of waiting for it (the reset in a region of its own)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import backend_lock
    from moto.sagemaker.models import sagemaker_backends

    region = "us-east-1" if how == "StopTransformJob" else "ap-northeast-3"
    hosting = Hosting(bucket, tmp_path)
    hosting.sagemaker = boto3.client("sagemaker", region_name=region)
    hosting.upload("batch-input/rows.csv", (as_csv(ROWS[:3]) + "\n").encode())
    job = transform_job(hosting, hosting.model(booster, code(script)))
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][region]
    try:
        wait_until(lambda: any("script sleeping" in line for line in transform_log(job, region)), timeout=60,
                   message=f"the script of transform job {job} to sleep in {busy}")
        # The script sleeps 120 s: ending within 15 s is ending without waiting for it.
        if how == "StopTransformJob":
            hosting.sagemaker.stop_transform_job(TransformJobName=job)
            assert transform_ended(hosting, job, timeout=15)["TransformJobStatus"] == "Stopped"
        else:
            def reset() -> None:
                with backend_lock:  # as moto's BackendDict.reset resets each backend
                    backend.reset()

            resetting = threading.Thread(target=reset)
            resetting.start()
            resetting.join(15)
            assert not resetting.is_alive(), "the reset waited for the script"
            assert backend.runs.running() == []
        assert not script_processes(job)
    finally:  # never leave a job waiting for its script, also when an assertion failed
        for run in backend.runs.running():
            if run.name == job:
                run.halt()


def transform_log(job: str, region: str) -> list[str]:
    logs = boto3.client("logs", region_name=region)
    group = "/aws/sagemaker/TransformJobs"
    try:
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")["logStreams"]
    except ClientError:
        return []
    return [event["message"] for stream in streams
            for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]]
