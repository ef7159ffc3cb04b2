"""Notebook instances run for real (vgsales.emulator.notebooks, notebook_instances, notebook_server): lifecycle
scripts with their logs and AWS's 5-minute limit, a JupyterLab per InService instance signed into by presigned
URL only, once, within 5 minutes, and no process left behind.

Near misses: a script that exits 1 and one that exits 0; a URL used twice, one a second before and after its
5 minutes, a token one character off, Jupyter's own ?token=; a session one second before and after its end.
"""

from __future__ import annotations

import base64
import os
import subprocess
import json
import time
import uuid
from pathlib import Path

import boto3
import psutil
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from vgsales.emulator import notebook_image, notebook_instances, notebook_server, notebooks
from vgsales.emulator.server import EmulatorServer

from support.wait import wait_until

ON_CREATE = """#!/bin/bash
set -euo pipefail
echo "on-create as $(id -un), home $HOME"
mkdir -p "$HOME/SageMaker/work" && echo created > "$HOME/SageMaker/work/created.txt"
echo "outside the volume" > "$HOME/scratch.txt"
# what the real on-create does: a background job in a session of its own
setsid nohup sleep 600 > /dev/null 2>&1 < /dev/null &
aws sts get-caller-identity --query Arn --output text
"""
ON_START = """#!/bin/bash
set -euo pipefail
echo "on-start: $(ls "$HOME/SageMaker/work")"
systemctl enable --now example.timer
"""


def encoded(script: str) -> list[dict[str, str]]:
    return [{"Content": base64.b64encode(script.encode()).decode()}]


@pytest.fixture(scope="module")
def sagemaker(emulator):
    env = emulator.client_env()
    session = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                            region_name="us-east-1")  # fmt: skip
    return {service: session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], verify=env["AWS_CA_BUNDLE"])
            for service in ("sagemaker", "logs")}  # fmt: skip


@pytest.fixture(scope="module")
def role_arn(make_role):
    return make_role("vgsales-notebook", [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}])  # fmt: skip


def wait_for(sagemaker, name: str, statuses: tuple[str, ...], seconds: float = 90) -> dict:
    """The instance's description once its status is one of ``statuses``."""
    def described() -> dict | None:
        found = sagemaker["sagemaker"].describe_notebook_instance(NotebookInstanceName=name)
        return found if found["NotebookInstanceStatus"] in statuses else None

    return wait_until(described, timeout=seconds, message=f"{name} to be {' or '.join(statuses)}")


def create(sagemaker, role_arn: str, on_create: str | None = None, on_start: str | None = None) -> str:
    name = f"nb-{uuid.uuid4().hex[:8]}"
    request = {"NotebookInstanceName": name, "InstanceType": "ml.t3.medium", "RoleArn": role_arn}
    if on_create or on_start:
        config = f"{name}-lc"
        sagemaker["sagemaker"].create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=config,
            **({"OnCreate": encoded(on_create)} if on_create else {}),
            **({"OnStart": encoded(on_start)} if on_start else {}),
        )
        request["LifecycleConfigName"] = config
    sagemaker["sagemaker"].create_notebook_instance(**request)
    return name


def stream_messages(sagemaker, name: str, hook: str) -> list[str]:
    events = sagemaker["logs"].get_log_events(
        logGroupName="/aws/sagemaker/NotebookInstances", logStreamName=f"{name}/LifecycleConfig{hook}", startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def instance_processes(name: str) -> list[psutil.Process]:
    (found,) = [instance for instance in notebook_instances._running.values() if instance.name == name]
    return found.processes()


@pytest.fixture(scope="module")
def served(sagemaker, role_arn):
    """An InService instance whose lifecycle configuration ran, which the module's tests read and leave InService;
    stopped and deleted after them (stop and delete are tested on an instance of their own)."""
    name = create(sagemaker, role_arn, ON_CREATE, ON_START)
    described = wait_for(sagemaker, name, ("InService", "Failed"))
    assert described["NotebookInstanceStatus"] == "InService", described.get("FailureReason")
    yield name
    sagemaker["sagemaker"].stop_notebook_instance(NotebookInstanceName=name)
    wait_for(sagemaker, name, ("Stopped",))
    sagemaker["sagemaker"].delete_notebook_instance(NotebookInstanceName=name)


def presigned(sagemaker, name: str, **extra) -> str:
    return sagemaker["sagemaker"].create_presigned_notebook_instance_url(NotebookInstanceName=name, **extra)["AuthorizedUrl"]


def test_the_lifecycle_scripts_run_as_the_notebook_identity_and_log_to_cloudwatch(sagemaker, served, role_arn):
    on_create = stream_messages(sagemaker, served, "OnCreate")
    assert on_create[0].startswith("on-create as ")
    role_name = role_arn.rsplit("/", 1)[1]
    # the notebook identity: a session of the instance's role named SageMaker, as on AWS
    assert on_create[-1].endswith(f":assumed-role/{role_name}/SageMaker")
    on_start = stream_messages(sagemaker, served, "OnStart")
    assert on_start[0] == "on-start: created.txt"  # on-start runs after on-create, and sees what it wrote
    assert "the local notebook instance runs no systemd" in on_start[-1]


def test_conda_python3_holds_what_aws_preinstalls_and_nothing_of_the_emulator(served):
    """The SageMaker Python SDK v2 that AWS preinstalls (notebook_image.txt), not this project's sagemaker-core 2.x
    (which installs the same `sagemaker` package), and neither the project nor the emulator's packages."""
    (instance,) = [found for found in notebook_instances._running.values() if found.name == served]
    probe = subprocess.run(
        [str(instance.env_python), "-c", "import importlib.metadata as m, importlib.util as u, sagemaker, pandas, "
         "matplotlib, ipykernel; print('probe', sagemaker.__file__ == str(m.distribution('sagemaker').locate_file('sagemaker/__init__.py')),"
         " m.version('sagemaker'), u.find_spec('vgsales'), u.find_spec('moto'), u.find_spec('jupyterlab'))"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(instance.home), "SAGEMAKER_SUPPRESS_V2_WARNING": "1"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (line,) = [line for line in probe.stdout.splitlines() if line.startswith("probe ")]  # the SDK logs to stdout too
    owned, version, *absent = line.split()[1:]
    assert owned == "True" and f"sagemaker=={version}" in notebook_image.PINS.read_text().splitlines()
    assert absent == ["None", "None", "None"], probe.stdout


def test_a_presigned_url_opens_jupyterlab_once(sagemaker, served):
    url = presigned(sagemaker, served)
    assert url.startswith("http://127.0.0.1:") and "/lab?authToken=" in url
    browser = requests.Session()
    page = browser.get(url)
    assert page.status_code == 200 and "JupyterLab" in page.text
    # the session's cookie, not the URL, signs the next requests in
    contents = browser.get(url.split("/lab?")[0] + "/api/contents/work")
    assert contents.status_code == 200
    assert [item["name"] for item in contents.json()["content"]] == ["created.txt"]
    kernels = browser.get(url.split("/lab?")[0] + "/api/kernelspecs").json()
    assert list(kernels["kernelspecs"]) == ["conda_python3"]
    # the same URL in another browser: used already
    again = requests.get(url, allow_redirects=False)
    assert again.status_code in (302, 403) and "JupyterLab" not in again.text


def test_a_wrong_token_and_jupyters_own_token_are_refused(sagemaker, served):
    url = presigned(sagemaker, served)
    base, token = url.split("/lab?authToken=")
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert requests.get(f"{base}/api/contents?authToken={near}").status_code == 403
    assert requests.get(f"{base}/api/contents").status_code == 403
    assert requests.get(f"{base}/api/contents?token={token}").status_code == 403  # Jupyter's own parameter
    answer = requests.get(f"{base}/lab?authToken={near}")
    assert answer.status_code == 403 and "invoke notebook" in answer.text
    assert requests.get(f"{base}/api/contents?authToken={token}").status_code == 200  # the right one still works


def test_another_emulator_in_the_process_leaves_this_ones_instances_alone(emulator, sagemaker, served):
    """Emulators in one process share moto's state (the tests start several): stopping one stops only the
    instances started under it, and new instances start under the one still running."""
    mine = notebook_instances.current_host()
    other = EmulatorServer().start()
    assert notebook_instances.current_host() is not mine
    other.stop()
    assert notebook_instances.current_host() is mine
    base, token = presigned(sagemaker, served).split("/lab?authToken=")
    assert requests.get(f"{base}/api/contents?authToken={token}").status_code == 200


def test_a_url_signs_in_within_five_minutes_only(sagemaker, served, monkeypatch):
    instance = next(found for found in notebook_instances._running.values() if found.name == served)
    for age, expected in ((notebook_instances.URL_SECONDS - 2, 200), (notebook_instances.URL_SECONDS + 1, 403)):
        # the URL was made `age` seconds ago by the emulator's clock
        monkeypatch.setattr(instance, "host", instance.host.__class__(
            instance.host.root, instance.host.client_env, clock=lambda age=age: time.time() - age))  # fmt: skip
        base, token = presigned(sagemaker, served).split("/lab?authToken=")
        assert requests.get(f"{base}/api/contents?authToken={token}").status_code == expected, age


def test_a_session_ends_when_its_duration_is_over():
    provider = notebook_server.PresignedIdentityProvider()
    now = time.time()
    for ends, signed_in in ((now + 1, True), (now - 1, False)):
        cookie = json.dumps({"username": "ec2-user", "session_ends": ends})
        assert (provider.user_from_cookie(cookie) is not None) is signed_in


def test_the_session_duration_is_checked(sagemaker, served, emulator):
    env = emulator.client_env()
    unchecked = boto3.client(  # botocore checks the minimum itself; the emulator must check both ends
        "sagemaker", region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"], verify=env["AWS_CA_BUNDLE"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(parameter_validation=False),
    )
    for seconds in (1799, 43201):
        with pytest.raises(ClientError, match="between 1800 and 43200"):
            unchecked.create_presigned_notebook_instance_url(NotebookInstanceName=served, SessionExpirationDurationInSeconds=seconds)
    # The session a URL opens lasts what it asked for: the login cookie (tornado's signed cookie, version 2:
    # fields "length:value" joined by "|", the value base64) carries its end.
    for seconds in (1800, 43200):
        browser = requests.Session()
        assert browser.get(presigned(sagemaker, served, SessionExpirationDurationInSeconds=seconds)).status_code == 200
        (login,) = [cookie.value for cookie in browser.cookies if cookie.name.startswith("username-")]
        value = json.loads(base64.b64decode(login.split("|")[4].split(":", 1)[1]))
        assert abs(value["session_ends"] - (time.time() + seconds)) < 30


def test_a_failing_script_fails_the_instance_with_its_log(sagemaker, role_arn):
    name = create(sagemaker, role_arn, on_start="#!/bin/bash\necho about to fail\nexit 3\n")
    described = wait_for(sagemaker, name, ("InService", "Failed"))
    assert described["NotebookInstanceStatus"] == "Failed"
    assert "failed with exit code 3 in OnStart" in described["FailureReason"]
    assert "CloudWatch logs" in described["FailureReason"]
    assert stream_messages(sagemaker, name, "OnStart") == ["about to fail"]
    assert instance_processes(name) == []
    with pytest.raises(ClientError, match="not InService"):
        presigned(sagemaker, name)
    sagemaker["sagemaker"].delete_notebook_instance(NotebookInstanceName=name)


def test_an_instance_is_pending_until_its_scripts_and_server_are_ready(sagemaker, role_arn, monkeypatch):
    monkeypatch.setattr(notebooks, "QUICK_SECONDS", 0.0)  # the Create call returns at once, as on AWS
    name = create(sagemaker, role_arn, on_start="#!/bin/bash\nsleep 2\n")
    assert sagemaker["sagemaker"].describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Pending"
    assert wait_for(sagemaker, name, ("InService", "Failed"))["NotebookInstanceStatus"] == "InService"
    sagemaker["sagemaker"].stop_notebook_instance(NotebookInstanceName=name)
    assert sagemaker["sagemaker"].describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Stopping"
    assert wait_for(sagemaker, name, ("Stopped",))["NotebookInstanceStatus"] == "Stopped"
    sagemaker["sagemaker"].delete_notebook_instance(NotebookInstanceName=name)


def test_a_script_past_the_limit_fails_the_instance(sagemaker, role_arn, monkeypatch):
    host = notebook_instances.current_host()
    limited = host.__class__(host.root, host.client_env, lifecycle_limit_seconds=1.0)
    monkeypatch.setattr(notebook_instances, "current_host", lambda: limited)  # where the next start happens
    name = create(sagemaker, role_arn, on_create="#!/bin/bash\necho started\nsleep 30\n")
    described = wait_for(sagemaker, name, ("InService", "Failed"))
    assert described["NotebookInstanceStatus"] == "Failed"
    assert "took longer than" in described["FailureReason"]
    assert stream_messages(sagemaker, name, "OnCreate") == ["started"]
    assert instance_processes(name) == []


def test_stop_ends_every_process_and_start_keeps_only_the_volume(sagemaker, role_arn):
    served = create(sagemaker, role_arn, ON_CREATE, ON_START)  # its own: stopped and deleted here
    assert wait_for(sagemaker, served, ("InService", "Failed"))["NotebookInstanceStatus"] == "InService"
    instance = next(found for found in notebook_instances._running.values() if found.name == served)
    before = instance.processes()
    assert len(before) >= 2  # JupyterLab and on-create's background job, which left its session
    sagemaker["sagemaker"].stop_notebook_instance(NotebookInstanceName=served)
    with pytest.raises(ClientError, match=r"Status \(Stopp\w+\) not in \(\[InService\]\)"):
        sagemaker["sagemaker"].stop_notebook_instance(NotebookInstanceName=served)
    assert wait_for(sagemaker, served, ("Stopped",))["NotebookInstanceStatus"] == "Stopped"
    assert not [process for process in before if process.is_running() and process.status() != psutil.STATUS_ZOMBIE]
    with pytest.raises(ClientError, match="not InService"):
        presigned(sagemaker, served)
    sagemaker["sagemaker"].start_notebook_instance(NotebookInstanceName=served)
    assert wait_for(sagemaker, served, ("InService", "Failed"))["NotebookInstanceStatus"] == "InService"
    assert (instance.volume / "work" / "created.txt").read_text() == "created\n"
    assert not (instance.home / "scratch.txt").exists()
    assert len(stream_messages(sagemaker, served, "OnCreate")) == 2  # its two lines: on-create ran at the first start only
    assert len(stream_messages(sagemaker, served, "OnStart")) == 4  # on-start at both
    sagemaker["sagemaker"].stop_notebook_instance(NotebookInstanceName=served)
    wait_for(sagemaker, served, ("Stopped",))
    sagemaker["sagemaker"].delete_notebook_instance(NotebookInstanceName=served)
    assert not instance.folder.exists()
    assert instance.processes() == []


def test_an_emulator_start_ends_what_an_earlier_ones_instances_left_running(tmp_path):
    """A killed emulator stops nothing: the next start over its state folder ends its instances' leftovers, and
    nothing else (near miss: the same mark, a home beside the folder)."""
    root = tmp_path / "notebook-instances"

    def leftover(home: Path) -> subprocess.Popen:
        env = {**os.environ, notebook_instances.MARK: "0123456789abcdef", "HOME": str(home)}
        return subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)

    (root / "123456789012-us-east-1-nb" / "home").mkdir(parents=True)
    inside = leftover(root / "123456789012-us-east-1-nb" / "home")
    beside = leftover(tmp_path / "notebook-instances-other" / "home")
    try:
        wait_until(lambda: notebook_instances.MARK in psutil.Process(beside.pid).environ(), timeout=5)
        notebook_instances.end_orphans(root)
        assert inside.wait(5) == -9
        assert beside.poll() is None
    finally:
        for process in (inside, beside):
            process.kill()
            process.wait()

