"""The emulator server: loopback only, HTTPS with its own CA, keep-alive, every API the project uses."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import uuid

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.core.authorization import ActionAuthenticatorMixin
from moto.s3.models import FakeBucket
from moto.sagemaker import urls as sagemaker_urls
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from vgsales.clients import LoaderSharingSession
from vgsales.emulator import server
from vgsales.emulator.compat import _patching
from vgsales.emulator.sagemaker import SageMakerBackend, SageMakerService
from vgsales.errors import WorkshopError


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def connect(emulator, context: ssl.SSLContext | None = None) -> http.client.HTTPSConnection:
    if context is None:
        context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    return http.client.HTTPSConnection("127.0.0.1", emulator.port, timeout=10, context=context)


# localhost.example.com and localhostx: names that start like localhost and resolve wherever their owner likes.
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "example.com", "localhost.example.com", "localhostx"])
def test_non_loopback_addresses_are_refused(host):
    with pytest.raises(WorkshopError, match="loopback only") as refused:
        server.EmulatorServer(host=host)
    # Settings validation catches ValueError; the same error serves both callers.
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_accepted(host):
    server.require_loopback(host)


def test_the_server_listens_on_loopback_only(emulator):
    assert emulator.url.startswith("https://127.0.0.1:")
    # Nothing answers on this machine's outward address (the one its default route uses), if it has one.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, no packet is sent
        outside = probe.getsockname()[0]
    except OSError:
        pytest.skip("this machine has no network address besides loopback")
    finally:
        probe.close()
    if outside.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    with pytest.raises(OSError):
        socket.create_connection((outside, emulator.port), timeout=2).close()


def test_health_check_names_the_service_and_process(emulator):
    connection = connect(emulator)
    connection.request("GET", server.HEALTH_PATH)
    response = connection.getresponse()
    document = json.loads(response.read())
    assert response.status == 200
    assert document["service"] == server.SERVICE_NAME
    assert document["moto"] == moto.__version__
    assert isinstance(document["pid"], int)


def test_certificate_is_trusted_only_through_the_emulators_ca_bundle(emulator):
    with pytest.raises(ssl.SSLCertVerificationError):
        connection = connect(emulator, ssl.create_default_context())  # the system store
        connection.request("GET", server.HEALTH_PATH)
    connection = connect(emulator)
    connection.request("GET", server.HEALTH_PATH)
    assert connection.getresponse().status == 200


def test_the_certificate_is_valid_for_localhost_too(emulator):
    context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    connection = http.client.HTTPSConnection("localhost", emulator.port, timeout=10, context=context)
    connection.request("GET", server.HEALTH_PATH)
    assert connection.getresponse().status == 200


def test_the_tls_port_does_not_answer_plain_http(emulator):
    """Plain HTTP has a port of its own (http_url); the TLS port never answers it in clear text."""
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        connection.request("GET", server.HEALTH_PATH)
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return  # the TLS layer dropped the plain-text connection
    assert status == 400


def test_private_key_is_owner_only_and_the_ca_key_is_never_written(emulator):
    folder = emulator.ca_bundle.parent
    key_file = folder / "server.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The files, that is: the folders of notebook instances and script-mode jobs appear there once one runs.
    assert sorted(path.name for path in folder.iterdir() if path.is_file()) == ["ca.pem", "server.key", "server.pem"]
    assert b"PRIVATE KEY" not in emulator.ca_bundle.read_bytes()
    assert b"PRIVATE KEY" not in (folder / "server.pem").read_bytes()


def test_connections_are_kept_alive(emulator):
    connection = connect(emulator)
    for _ in range(3):
        connection.request("GET", server.HEALTH_PATH)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection", "").lower() != "close"
    first_socket = connection.sock
    connection.request("GET", server.HEALTH_PATH)
    connection.getresponse().read()
    assert connection.sock is first_socket


def test_many_idle_connections_stay_alive(emulator):
    """16 load clients, each with a connection pool, must not be made to reconnect: each reconnection costs a TLS
    handshake (cheroot, the emulator's earlier server, closed all but 10 idle connections and leaked memory per
    new TLS connection)."""
    connections = [connect(emulator) for _ in range(40)]
    try:
        for connection in connections:  # all 40 open and idle at once
            connection.request("GET", server.HEALTH_PATH)
            response = connection.getresponse()
            response.read()
            assert response.getheader("Connection", "").lower() != "close"
        sockets = [connection.sock for connection in connections]
        for connection in connections:
            connection.request("GET", server.HEALTH_PATH)
            connection.getresponse().read()
        assert [connection.sock for connection in connections] == sockets, "no connection was closed and reopened"
    finally:
        for connection in connections:
            connection.close()


def test_the_plain_http_port_serves_loopback_only(emulator):
    assert emulator.http_url.startswith("http://127.0.0.1:")
    host, port = emulator.http_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", server.HEALTH_PATH)
    assert json.loads(connection.getresponse().read())["service"] == server.SERVICE_NAME


def test_client_env_points_boto3_at_the_emulator(emulator):
    env = emulator.client_env(region="eu-west-1")
    assert env["AWS_ENDPOINT_URL"] == emulator.url
    assert env["AWS_CA_BUNDLE"] == str(emulator.ca_bundle)
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]


def test_every_api_the_project_uses_is_served(aws_env):
    name = unique("api")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"

    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(assume))["Role"]
    assert boto3.client("sts").get_caller_identity()["Account"] == role["Arn"].split(":")[4]

    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=f"/test/{name}")
    logs.create_log_stream(logGroupName=f"/test/{name}", logStreamName="s")
    logs.put_log_events(
        logGroupName=f"/test/{name}",
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "m"}],
    )
    events = logs.get_log_events(logGroupName=f"/test/{name}", logStreamName="s")["events"]
    assert [event["message"] for event in events] == ["m"]

    assert "NotebookInstances" in boto3.client("sagemaker").list_notebook_instances()
    # SageMaker Runtime is routed too: an unknown endpoint is AWS's ValidationError, not a 404 from the server.
    with pytest.raises(ClientError) as unknown:
        boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, Body=b"1", ContentType="text/csv")
    assert unknown.value.response["Error"]["Code"] == "ValidationError"


def test_concurrent_clients_are_served(aws_env):
    errors: list[BaseException] = []

    def client_loop() -> None:
        sts = LoaderSharingSession().client("sts")  # sixteen threads, one loader of service models
        try:
            for _ in range(10):
                sts.get_caller_identity()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=client_loop) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors


def test_a_port_in_use_is_a_workshop_error(emulator):
    with pytest.raises(WorkshopError, match="cannot listen"):
        server.EmulatorServer(port=emulator.port).start()


def test_stop_removes_a_temporary_certificate_folder():
    emulator = server.EmulatorServer().start()
    folder = emulator.ca_bundle.parent
    assert folder.is_dir()
    emulator.stop()
    assert not folder.exists()


def test_install_is_idempotent():
    server.install()
    server.install()
    # A second install must not wrap our replacement in another layer: the original is still moto's own.
    assert _patching.original(ActionAuthenticatorMixin, "_authenticate_and_authorize_action").__module__ == (
        "moto.core.authorization"
    )
    assert FakeBucket.get_permission.__module__ == "moto.s3.models"  # subclassed, never replaced
    # moto's routes dispatch to the emulator's response class, and its backends are the emulator's.
    assert sagemaker_urls.url_paths["{0}/$"].__self__ is SageMakerService
    assert SageMakerService.serialized is not SageMakerResponse.serialized
    assert sagemaker_backends.backend is SageMakerBackend


def test_a_piece_that_cannot_install_stops_the_emulator():
    """Never a silent fallback to plain moto: a service moto no longer routes is an error that names it."""
    import types

    from moto.core.responses import BaseResponse

    from vgsales.emulator import services

    class Elsewhere(BaseResponse):
        pass

    seam = services.Seam("nothing", types.SimpleNamespace(url_paths={"{0}/$": Elsewhere.dispatch}), SageMakerResponse,
                         SageMakerService)
    with pytest.raises(services.InstallError, match="routes no nothing request to SageMakerResponse"):
        seam.install()


def test_a_backend_moto_built_before_the_emulator_stops_it():
    """State in moto's own class would be served by the emulator's responses: refused, with a message."""
    from moto.core.base_backend import BackendDict
    from moto.sagemaker.models import SageMakerModelBackend

    from vgsales.emulator import services

    backends = BackendDict(SageMakerModelBackend, "sagemaker")
    backends["111122223333"]["us-east-1"]  # moto builds it on first use
    try:
        seam = services.Seam(
            "sagemaker", sagemaker_urls, SageMakerResponse, SageMakerService, backends, SageMakerBackend
        )
        with pytest.raises(services.InstallError, match="moto's own sagemaker backend already exists for account 1111"):
            seam.install()
        assert backends.backend is SageMakerModelBackend
    finally:
        BackendDict._instances.remove(backends)


def test_managed_policies_are_loaded_before_any_backend_exists(monkeypatch):
    from moto import settings
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "iam", {"load_aws_managed_policies": False})
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    assert not settings.load_iam_aws_managed_policies()
    server.configure_moto()
    assert settings.load_iam_aws_managed_policies()
    assert "MOTO_IAM_LOAD_MANAGED_POLICIES" not in os.environ


def test_an_unsigned_invocation_is_a_4xx_not_a_500(emulator, aws_env):
    """moto routes an unsigned request by its path: POST /endpoints/<name>/invocations reaches S3 as a POST on
    object "invocations" of bucket "endpoints", which moto's ACTION_MAP has no default for (KeyError 'DEFAULT',
    a 500). S3 answers 405 MethodNotAllowed. With a body it does not get that far: an unsigned request with a body
    is refused from its head (admission.py), S3's AccessDenied. Near miss: a POST that S3 takes (?uploads) still
    works."""
    for body, status, code in ((b"", 405, b"MethodNotAllowed"), (b"1,2,3", 403, b"AccessDenied")):
        connection = connect(emulator)
        connection.request("POST", "/endpoints/vgsales-endpoint/invocations", body=body, headers={"Content-Type": "text/csv"})
        response = connection.getresponse()
        answer = response.read()
        assert response.status == status, answer
        assert b"<Code>" + code + b"</Code>" in answer
    s3 = boto3.client("s3")
    bucket = unique("vgsales-post")
    s3.create_bucket(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload)
    s3.delete_bucket(Bucket=bucket)


@pytest.mark.parametrize("name", ["vgsales-x/../other-model", "vgsales-x/", ""])
def test_list_tags_of_an_arn_with_a_path_is_a_validation_error(aws_env, name):
    """moto splits the ARN's resource part on "/" into exactly two (ValueError, a 500, otherwise); SageMaker
    answers ValidationException. Near miss: a plain name that does not exist, which moto already answered so."""
    sagemaker = boto3.client("sagemaker")
    for resource in (f"model/{name}", "model/vgsales-missing"):
        with pytest.raises(ClientError) as refused:
            sagemaker.list_tags(ResourceArn=f"arn:aws:sagemaker:us-east-1:123456789012:{resource}")
        assert refused.value.response["Error"]["Code"] == "ValidationException", resource
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# In a fresh interpreter: whether xgboost is imported after read-only calls, after the Create calls of Terraform's
# setup (a notebook lifecycle configuration), then after a model's, each checked once every warm-up thread has ended.
WARM_UP_PROBE = """
import sys, threading
import boto3
from vgsales.emulator.server import EmulatorServer

def settled():
    for thread in threading.enumerate():
        if thread.name == "emulator-warm-up":
            thread.join()
    return "xgboost" in sys.modules

with EmulatorServer() as server:
    env = server.client_env()
    sagemaker = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                              region_name=env["AWS_REGION"]).client("sagemaker", endpoint_url=server.url, verify=str(server.ca_bundle))
    sagemaker.list_training_jobs()
    sagemaker.list_notebook_instance_lifecycle_configs()  # reads, with the word 'Create' nowhere
    print("after reads", settled())
    sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="probe")
    print("after the notebook's create", settled())
    try:  # warmed at dispatch, whether or not the model is then created (no role exists here)
        sagemaker.create_model(ModelName="probe", ExecutionRoleArn="arn:aws:iam::123456789012:role/probe",
                               PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                                                 "ModelDataUrl": "s3://probe/model.tar.gz"})
    except sagemaker.exceptions.ClientError:
        pass
    print("after a model's create", settled())
"""


def test_xgboost_is_imported_for_the_first_job_or_model_not_at_start_or_for_setups_creates():
    """1.7 s of CPU that an emulator which never trains or serves (a daemon's status, a stack only set up and torn
    down) never spends, and that one which will spends from its first model or job on (sagemaker.WARMED_BY)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    completed = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], capture_output=True, text=True, timeout=120,
                               env={**env, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.split("\n")[:3] == [
        "after reads False", "after the notebook's create False", "after a model's create True"], completed.stdout
