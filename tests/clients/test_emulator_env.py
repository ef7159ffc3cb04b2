"""`invoke emulator.env`, the emulator's proxy for AWS hostnames, and its plain-HTTP port."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker.core.config.config import validate_sagemaker_config

from vgsales import discovery
from vgsales.emulator import daemon, proxy
from vgsales.infra import local
from vgsales.records import StackRecord, TrainingRecord
from vgsales.targets.local import emulator_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("INVOKE_", "AWS_"))}
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(state_dir), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_without_an_emulator_it_says_so_in_one_line_and_fails(tmp_path):
    result = invoke("emulator.env", state_dir=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "Error: The local AWS emulator is not running: start it with `invoke setup` (or `invoke emulator.start`)."
    )


def test_the_shell_lines_evaluate_to_the_notebook_identity(client_stack):
    """`eval "$(invoke emulator.env)"` in a POSIX shell, then a client that knows nothing of the emulator."""
    state_dir = client_stack.settings.state_dir
    script = (
        f'eval "$({sys.executable} -m invoke emulator.env)" && '
        f"{sys.executable} -c 'import boto3; print(boto3.client(\"sts\").get_caller_identity()[\"Arn\"])'"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(("INVOKE_", "AWS_"))}
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(state_dir), AWS_PROFILE="someone-elses-profile")
    result = subprocess.run(["sh", "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    role = client_stack.state.read(StackRecord).role_arn.rsplit("/", 1)[1]
    assert result.stdout.strip() == f"arn:aws:sts::123456789012:assumed-role/{role}/SageMaker"


def test_json_and_admin_give_the_same_endpoint_and_other_identities(client_stack):
    notebook = json.loads(invoke("emulator.env", "--json", state_dir=client_stack.settings.state_dir).stdout)
    admin = json.loads(invoke("emulator.env", "--json", "--admin", state_dir=client_stack.settings.state_dir).stdout)
    for key in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "HTTPS_PROXY", "NO_PROXY", "AWS_REGION"):
        assert notebook["set"][key] == admin["set"][key]
    assert notebook["set"]["AWS_ACCESS_KEY_ID"].startswith("ASIA") and "AWS_SESSION_TOKEN" in notebook["set"]
    assert "AWS_SESSION_TOKEN" not in admin["set"] and "AWS_SESSION_TOKEN" in admin["unset"]
    assert "AWS_PROFILE" in notebook["unset"]
    config = yaml.safe_load(Path(notebook["set"]["SAGEMAKER_USER_CONFIG_OVERRIDE"]).read_text())
    validate_sagemaker_config(config)  # the SDK's own schema, as it loads the file
    modules = config["SageMaker"]["PythonSDK"]["Modules"]
    assert modules["Session"] == {"DefaultS3Bucket": client_stack.state.read(StackRecord).bucket_name}
    assert modules["TelemetryOptOut"] is True
    # The stack's tags on everything the SDK creates, so the role allows the SDK's default names.
    for resource in ("TrainingJob", "TransformJob", "Model", "EndpointConfig", "Endpoint"):
        assert config["SageMaker"][resource]["Tags"] == discovery.stack_tags(client_stack.settings), resource
    admin_config = yaml.safe_load(Path(admin["set"]["SAGEMAKER_USER_CONFIG_OVERRIDE"]).read_text())
    assert set(admin_config["SageMaker"]) == {"PythonSDK"}, "the administrator's shell belongs to no stack"


def test_aws_hostnames_reach_the_emulator_through_its_proxy(client_stack, monkeypatch):
    """Clients that build AWS hostnames themselves: STS, virtual-hosted S3, the SageMaker API and runtime, logs.
    They run in this process as in a shell after `eval "$(invoke emulator.env)"`, less the endpoint URL."""
    variables, unset = local.client_environment(client_stack)
    bucket = client_stack.state.read(StackRecord).bucket_name
    region = client_stack.region
    for name in [*unset, *(name for name in os.environ if name.startswith("AWS_ENDPOINT_URL"))]:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        if name != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    assert "AWS_ENDPOINT_URL" not in os.environ
    sts = boto3.client("sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com")
    assert ":assumed-role/" in sts.get_caller_identity()["Arn"]
    s3 = boto3.client("s3", region_name=region, config=Config(s3={"addressing_style": "virtual"}))
    assert s3.meta.endpoint_url.endswith(".amazonaws.com")
    s3.put_object(Bucket=bucket, Key="proxy/probe.txt", Body=b"through the proxy")
    global_s3 = boto3.client("s3", region_name=region, endpoint_url="https://s3.amazonaws.com")
    assert global_s3.get_object(Bucket=bucket, Key="proxy/probe.txt")["Body"].read() == b"through the proxy"
    sagemaker = boto3.client("sagemaker", region_name=region)
    assert sagemaker.describe_endpoint(EndpointName="vgsales-endpoint")["EndpointStatus"] == "InService"
    runtime = boto3.client("sagemaker-runtime", region_name=region)
    assert runtime.meta.endpoint_url == f"https://runtime.sagemaker.{region}.amazonaws.com"
    body = runtime.invoke_endpoint(EndpointName="vgsales-endpoint", ContentType="text/libsvm", Body=b"0:71 1:7.1")
    assert 0.0 <= float(body["Body"].read()) <= 1.0
    logs = boto3.client("logs", region_name=region)
    job = client_stack.state.read(TrainingRecord).training_job_name
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job)
    assert streams["logStreams"][0]["logStreamName"].startswith(f"{job}/algo-1-")


def _connect(proxy_url: str, target_host: str) -> tuple[str, str]:
    """Ask the proxy for a tunnel; (status line, body)."""
    host, port = proxy_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"CONNECT {target_host} HTTP/1.1\r\nHost: {target_host}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            while chunk := sock.recv(4096):
                body += chunk
        return head.split(b"\r\n", 1)[0].decode(), body.decode()


@pytest.mark.parametrize(
    "refused",
    ["example.com:443", "pypi.org:443", "sts.us-east-1.amazonaws.com:80", "amazonaws.com.evil.example:443",
     "sts.us-east-1.amazonaws.com.:8443", "127.0.0.1:443", "localhost:443", "[::1]:443"],
)  # fmt: skip
def test_the_proxy_refuses_every_host_that_is_not_aws(client_stack, refused):
    variables, _ = local.client_environment(client_stack, admin=True)
    status, body = _connect(variables["HTTPS_PROXY"], refused)
    assert status.startswith("HTTP/1.1 403"), status
    assert "nothing is forwarded off this machine" in body or "AWS hostnames only" in body, body


def test_the_proxy_connects_nowhere_but_the_emulator(client_stack):
    """A loopback listener named as the target never hears from the proxy, and an AWS name is answered by the
    emulator's own certificate, with no DNS lookup (this machine resolves no amazonaws.com name)."""
    variables, _ = local.client_environment(client_stack, admin=True)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(1)
    port = listener.getsockname()[1]
    for name in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, _ = _connect(variables["HTTPS_PROXY"], name)
        assert status.startswith("HTTP/1.1 403")
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()

    host, port = variables["HTTPS_PROXY"].removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"CONNECT sts.eu-west-1.amazonaws.com:443 HTTP/1.1\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=variables["AWS_CA_BUNDLE"])
        with context.wrap_socket(sock, server_hostname="sts.eu-west-1.amazonaws.com") as tls:
            tls.sendall(b"GET /_vgsales/health HTTP/1.1\r\nHost: sts.eu-west-1.amazonaws.com\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    assert b'"service": "vgsales-emulator"' in answer


def test_the_proxy_hostname_rule_has_no_near_misses():
    for good in ("sts.us-east-1.amazonaws.com:443", "my-bucket.s3.eu-west-1.amazonaws.com:443",
                 "runtime.sagemaker.us-west-2.amazonaws.com:443", "s3.amazonaws.com:443", "sts.cn-north-1.amazonaws.com.cn:443"):  # fmt: skip
        assert proxy.refusal(good) is None, good
    for bad in ("amazonaws.com:443", "evilamazonaws.com:443", "sts.us-east-1.amazonaws.com.evil.io:443",
                "sts.us-east-1.amazonaws.com:444", "sts.us-east-1.amazonaws.com", "-bad.amazonaws.com:443"):  # fmt: skip
        assert proxy.refusal(bad) is not None, bad


def test_plain_http_reaches_s3_and_the_bucket_policy_denies_it(client_stack):
    """As on AWS: S3 answers plain HTTP, and the stack's deny-non-TLS policy refuses it with 403 AccessDenied."""
    bucket = client_stack.state.read(StackRecord).bucket_name
    emulator = daemon.status(emulator_dir(client_stack.settings))
    assert emulator is not None and emulator.http_url.startswith("http://127.0.0.1:")
    tls = client_stack.aws.client("s3")
    tls.put_object(Bucket=bucket, Key="transport/probe.txt", Body=b"x")
    assert tls.get_object(Bucket=bucket, Key="transport/probe.txt")["Body"].read() == b"x"
    # The same administrative identity and region, at the emulator's plain-HTTP port.
    plain = client_stack.aws.session.client("s3", endpoint_url=emulator.http_url)
    with pytest.raises(ClientError) as denied:
        plain.get_object(Bucket=bucket, Key="transport/probe.txt")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
