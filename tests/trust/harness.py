"""A local stack in a state folder of its own, driven in-process or through the real `invoke` CLI.

Every stack here lives under a temporary state folder, so the tests never touch the project's .workshop/ or
another run's emulator, and they only ever stop or kill the emulator that their own folder records.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from botocore.exceptions import ClientError

from vgsales.context import Context
from vgsales.emulator import daemon
from vgsales.records import DataRecord, EndpointRecord, EvaluationRecord, StackRecord, TrainingRecord
from vgsales.settings import Settings
from vgsales.state import RunState
from vgsales.targets import local as local_target

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Finished training jobs are history, not resources: SageMaker keeps them and they cost nothing.
RUNNING_JOB_STATES = ("InProgress", "Stopping")


def default_config() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "invoke.yaml").read_text())["workshop"]


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"$ invoke {' '.join(self.args)}  (exit {self.returncode}, {self.seconds:.1f} s)\n{self.output}"


def cli_environment(state_dir: Path, data_source: str | Path | None = None, **overrides: str) -> dict[str, str]:
    """The environment of an `invoke` subprocess: this stack's folder, unbuffered output, wide lines."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("INVOKE_WORKSHOP_")}
    env.pop("AWS_ENDPOINT_URL", None)
    env.update(
        INVOKE_WORKSHOP_STATE_DIR=str(state_dir),
        PYTHONUNBUFFERED="1",  # so a test can follow the progress lines as they come
        COLUMNS="200",  # rich wraps at 80 columns without a terminal
        TERM="dumb",
    )
    if data_source is not None:
        env["INVOKE_WORKSHOP_DATA_SOURCE"] = str(data_source)
    env.update(overrides)
    return env


def invoke_command(*args: str, prelude: str = "") -> list[str]:
    """The venv's own invoke, whether or not the venv is activated; a prelude runs first in the same process."""
    if not prelude:
        return [sys.executable, "-m", "invoke", *args]
    program = f"{prelude}\nimport sys\nfrom invoke.main import program\nprogram.run(['invoke', *sys.argv[1:]])"
    return [sys.executable, "-c", program, *args]


def run_cli(*args: str, env: dict[str, str], timeout: float = 180, prelude: str = "") -> Completed:
    started = time.monotonic()
    result = subprocess.run(
        invoke_command(*args, prelude=prelude),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Completed(args, result.returncode, result.stdout, result.stderr, time.monotonic() - started)


@dataclass(frozen=True)
class CliRequest:
    args: tuple[str, ...]
    env: dict[str, str]
    prelude: str = ""  # Python statements run in the process before invoke starts


def run_cli_batch(requests: list[CliRequest], workdir: Path, timeout: float = 300) -> list[Completed]:
    """Many `invoke` runs, each a process of its own forked from one warm interpreter (see warm_cli.py)."""
    workdir.mkdir(parents=True, exist_ok=True)
    request_file, result_file = workdir / "requests.json", workdir / "results.json"
    request_file.write_text(json.dumps([{"args": list(r.args), "env": r.env, "prelude": r.prelude} for r in requests]))
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("warm_cli.py")), str(request_file), str(result_file)],
        cwd=PROJECT_ROOT, check=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    results = json.loads(result_file.read_text())
    return [
        Completed(request.args, result["returncode"], result["stdout"], result["stderr"], result["seconds"])
        for request, result in zip(requests, results, strict=True)
    ]


class LocalStack:
    """One local-target stack: its settings, its emulator, and every resource kind listed from the emulator."""

    def __init__(self, state_dir: Path, data_source: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.data_source = str(data_source)
        self._context: tuple[tuple[int, str] | None, Context] | None = None

    @property
    def settings(self) -> Settings:
        """The default settings (invoke.yaml) with this stack's state folder and dataset."""
        config = default_config()
        config.update(state_dir=str(self.state_dir), data_source=self.data_source)
        return Settings.from_config(config, project_dir=PROJECT_ROOT)

    def context(self) -> Context:
        """A context of this stack, as a task builds one, for the emulator that runs now: the tests stop, kill and
        restart it, so a new emulator (another pid and port) gets a new context. Kept while the same one runs:
        a watcher that polls (the interrupt tests) must not spend its time building clients."""
        running = self.emulator()
        key = (running.pid, running.url) if running is not None else None
        if self._context is None or self._context[0] != key:
            self._context = (key, Context.of(self.settings))
        return self._context[1]

    # --- the CLI ---

    def env(self, **overrides: str) -> dict[str, str]:
        return cli_environment(self.state_dir, self.data_source, **overrides)

    def cli(self, *args: str, timeout: float = 180, prelude: str = "", **overrides: str) -> Completed:
        return run_cli(*args, env=self.env(**overrides), timeout=timeout, prelude=prelude)

    def start_cli(self, *args: str, **overrides: str) -> subprocess.Popen[str]:
        """`invoke ...` in a session of its own, so that Ctrl-C can be sent to it as a terminal does."""
        return subprocess.Popen(
            invoke_command(*args),
            cwd=PROJECT_ROOT,
            env=self.env(**overrides),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    # --- the emulator ---

    @property
    def emulator_dir(self) -> Path:
        return local_target.emulator_dir(self.settings)

    def emulator(self) -> daemon.EmulatorInfo | None:
        return daemon.status(self.emulator_dir)

    def stop_emulator(self) -> None:
        daemon.stop(self.emulator_dir)

    @contextlib.contextmanager
    def aws(self) -> Iterator[Clients]:
        """Clients of the emulator that runs now, as the stack's administrative identity."""
        aws = self.context().aws
        yield Clients(
            s3=aws.client("s3"),
            iam=aws.client("iam"),
            sagemaker=aws.client("sagemaker"),
            runtime=aws.client("sagemaker-runtime"),
        )

    def inventory(self) -> list[str]:
        """Every resource in the emulator, of every kind the stack or the pipeline can create; [] when empty."""
        # A stopped emulator holds nothing, which would prove nothing: the emulator must run to be inspected.
        assert self.emulator() is not None, "this stack's emulator is not running, so there is nothing to inspect"
        with self.aws() as aws:
            return inventory(aws)

    def pipeline_resources(self) -> list[str]:
        """ "<kind> <name>" of every model, endpoint config, endpoint and running training job in the emulator."""
        kinds = ("model", "endpoint-config", "endpoint", "running-training-job")
        return [item for item in self.inventory() if item.split(" ", 1)[0] in kinds]

    def serving_exactly(self) -> list[str]:
        """The pipeline's resources beyond the one endpoint, config and model that the endpoint record names (all of
        them when there is no endpoint record): what a deploy leaves must be exactly what its record says."""
        state = self.state()
        expected = set()
        if state.has(EndpointRecord):
            record = state.read(EndpointRecord)
            expected = {
                f"model {record.model_name}",
                f"endpoint-config {record.endpoint_config_name}",
                f"endpoint {record.endpoint_name}",
            }
        return [item for item in self.pipeline_resources() if item not in expected]

    def running_training_jobs(self) -> list[str]:
        with self.aws() as aws:
            return [
                job["TrainingJobName"]
                for state in RUNNING_JOB_STATES
                for job in aws.sagemaker.list_training_jobs(StatusEquals=state)["TrainingJobSummaries"]
            ]

    # --- the pipeline, in-process ---

    def state(self) -> RunState:
        return RunState(self.settings)

    def is_set_up(self) -> bool:
        """The emulator runs and holds the stack that the stack record describes (as far as the records tell)."""
        return self.emulator() is not None and self.state().has(StackRecord)

    def ready(self) -> None:
        """Set the stack up (in-process, as `invoke setup`) unless it is: a test that needs a stack calls this, so
        that it does not depend on another test having left one."""
        if not self.is_set_up():
            from vgsales.infra import stack as infra

            infra.setup(self.context())

    def ensure(self, last: str) -> None:
        """Run the pipeline's stages up to ``last`` that have no record yet (a test run alone needs them), on a
        stack that is set up (``ready()``)."""
        from vgsales.pipeline import data, deploy, evaluate, train

        stages = {DataRecord: data, TrainingRecord: train, EndpointRecord: deploy, EvaluationRecord: evaluate}
        self.ready()
        ctx = self.context()
        for record, stage in stages.items():
            if not ctx.state.has(record) or (record is DataRecord and not self._uploaded(ctx.state.read(DataRecord))):
                stage.run(ctx)
            if record.NAME == last:
                return

    def remove_endpoint(self) -> None:
        """The starting point of a first deploy: the stack's endpoints, endpoint configs and models removed (as
        teardown removes them), and the endpoint record with them."""
        from vgsales import discovery

        ctx = self.context()
        for resource in discovery.find(ctx, ("endpoint", "endpoint-config", "model")):
            discovery.remove(ctx, resource)
        ctx.state.forget(EndpointRecord)

    def _uploaded(self, record: DataRecord) -> bool:
        """Whether the splits that the data record names are in the bucket: a stack set up again (after a teardown
        or a lost emulator) has an empty bucket, and the record outlives it (`invoke train` uploads again in its
        `data` pre-task)."""
        with self.aws() as aws:
            for uri in (record.train_uri, record.validation_uri):
                parts = urlsplit(uri)
                try:
                    listed = aws.s3.list_objects_v2(Bucket=parts.netloc, Prefix=parts.path.lstrip("/"), MaxKeys=1)
                except ClientError:
                    return False
                if not listed.get("KeyCount"):
                    return False
        return True

    def test_rows(self, count: int = 1) -> tuple[list[str], list[str]]:
        """The first rows of the held-out test split, as libsvm (label first) and as dense CSV (no label)."""
        n_features = self.state().read(DataRecord).n_features
        libsvm = (self.state().data_dir / "test.libsvm").read_text().splitlines()[:count]
        dense = []
        for line in libsvm:
            values = ["0"] * n_features
            for pair in line.split()[1:]:
                index, value = pair.split(":")
                values[int(index)] = value
            dense.append(",".join(values))
        return libsvm, dense


class Following:
    """The output of a started `invoke` process, read on a thread so that a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not self._thread.is_alive() and self.process.poll() is not None):
                    raise AssertionError(f"no line with {text!r} in:\n{self.output}")
                self._changed.wait(min(remaining, 0.5))

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group (invoke, terraform, ...)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self._thread.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@dataclass(frozen=True)
class Clients:
    s3: Any
    iam: Any
    sagemaker: Any
    runtime: Any


def inventory(aws: Clients) -> list[str]:
    """ "<kind> <name>" for everything in the target, not only what carries the stack's names or tags.

    Listing everything, rather than what the code under test would look for, is the point: a resource that
    teardown's discovery misses must still show up here.
    """
    found: list[str] = []
    for bucket in aws.s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        found.append(f"bucket {name}")
        versions = aws.s3.list_object_versions(Bucket=name)
        for item in (*versions.get("Versions", []), *versions.get("DeleteMarkers", [])):
            found.append(f"object s3://{name}/{item['Key']}")
    for page in aws.iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            found.append(f"role {name}")
            found.extend(
                f"inline-policy {name}/{policy}" for policy in aws.iam.list_role_policies(RoleName=name)["PolicyNames"]
            )
            found.extend(
                f"attached-policy {name}/{policy['PolicyName']}"
                for policy in aws.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            )
    found.extend(f"policy {policy['PolicyName']}" for policy in aws.iam.list_policies(Scope="Local")["Policies"])
    found.extend(
        f"instance-profile {p['InstanceProfileName']}" for p in aws.iam.list_instance_profiles()["InstanceProfiles"]
    )
    sagemaker = aws.sagemaker
    listings = (
        (
            "lifecycle-config",
            "list_notebook_instance_lifecycle_configs",
            "NotebookInstanceLifecycleConfigs",
            "NotebookInstanceLifecycleConfigName",
        ),
        ("notebook-instance", "list_notebook_instances", "NotebookInstances", "NotebookInstanceName"),
        ("model", "list_models", "Models", "ModelName"),
        ("endpoint-config", "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
        ("endpoint", "list_endpoints", "Endpoints", "EndpointName"),
    )
    for kind, method, key, name_key in listings:
        for page in sagemaker.get_paginator(method).paginate():
            found.extend(f"{kind} {item[name_key]}" for item in page[key])
    for state in RUNNING_JOB_STATES:
        jobs = sagemaker.list_training_jobs(StatusEquals=state)["TrainingJobSummaries"]
        found.extend(f"running-training-job {job['TrainingJobName']}" for job in jobs)
    return sorted(found)


def of_kind(found: list[str], *kinds: str) -> list[str]:
    return [item.split(" ", 1)[1] for item in found if item.split(" ", 1)[0] in kinds]
