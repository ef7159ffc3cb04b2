"""Tools, helpers and a scratch copy of terraform/ for the Terraform tests.

A missing tool skips the tests that need it, with the reason, except under CI (env CI set), where it fails
them: CI must have every tool. Everything the tests share lives here because the project runs pytest with
--import-mode=importlib, where test modules cannot import their neighbours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from vgsales.infra.terraform_cli import MIRROR_ENV, cli_config_env, mirror_from_env, provider_unavailable_reason

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = PROJECT_ROOT / "terraform"
MODULES = sorted(path.relative_to(TERRAFORM_DIR).as_posix() for path in (TERRAFORM_DIR / "modules").iterdir())
EXAMPLES = sorted(path.relative_to(TERRAFORM_DIR).as_posix() for path in (TERRAFORM_DIR / "examples").iterdir())
# "." is the root configuration that `invoke setup` applies.
CONFIGURATIONS = [".", *MODULES, *EXAMPLES]
TESTED_CONFIGURATIONS = [config for config in CONFIGURATIONS if (TERRAFORM_DIR / config / "tests").is_dir()]
# `terraform test` validates the configuration before its first run (an undeclared reference fails the file and
# skips every run, measured with Terraform 1.11), so `terraform validate` runs only where no tests do: each
# command costs about 3 s of CPU, most of it the aws provider's schema.
VALIDATED_CONFIGURATIONS = [config for config in CONFIGURATIONS if config not in TESTED_CONFIGURATIONS]


def require_tool(path: str | None, name: str, hint: str) -> str:
    if path:
        return path
    message = f"{name} is not installed: {hint}"
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide every tool. {message}")
    pytest.skip(message)


def find_executable(name: str) -> str | None:
    """On PATH, or beside the running Python (a virtualenv's bin/ when pytest runs without activating it)."""
    beside_python = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside_python) if os.access(beside_python, os.X_OK) else None)


@dataclass(frozen=True)
class Completed:
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"$ {self.command}  (exit {self.returncode}, {self.seconds:.1f} s)\n{self.output}"


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> Completed:
    started = time.monotonic()
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    return Completed(" ".join(args), result.returncode, result.stdout, result.stderr, time.monotonic() - started)


class TerraformJobs:
    """init, validate and `terraform test` of every configuration, started at once on a few threads.

    Each test then waits only for the result it checks. Every job that needs init is queued after all init
    jobs, so a thread never waits for a job that no thread is free to run.
    """

    def __init__(self, terraform: str, workdir: Path, env: dict[str, str], workers: int) -> None:
        self.terraform = terraform
        self.workdir = workdir
        self.env = env
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="terraform")
        self._init: dict[str, Future[Completed]] = {}
        self._jobs: dict[tuple[str, ...], Future[Completed]] = {}
        self.timings: list[tuple[str, float]] = []

    def start(self) -> None:
        for config in CONFIGURATIONS:
            self._init[config] = self._pool.submit(self._terraform, config, "init", "-backend=false")
        for config in VALIDATED_CONFIGURATIONS:
            self._submit(config, "validate")
        for config in TESTED_CONFIGURATIONS:
            self._submit(config, "test")

    def _submit(self, config: str, *args: str) -> Future[Completed]:
        key = (config, *args)
        if key not in self._jobs:
            self._jobs[key] = self._pool.submit(self._once_initialised, config, *args)
        return self._jobs[key]

    def _once_initialised(self, config: str, *args: str) -> Completed:
        init = self._init[config].result()
        return init if init.returncode != 0 else self._terraform(config, *args)

    def _terraform(self, config: str, command: str, *args: str) -> Completed:
        completed = run([self.terraform, command, "-no-color", *args], self.workdir / config, self.env)
        self.timings.append((f"terraform {command} {' '.join(args)}".strip() + f" in {config}", completed.seconds))
        return completed

    def init(self, config: str) -> Completed:
        """The result of `terraform init` in config; fails the test, with a hint, when init failed."""
        init = self._init[config].result()
        if init.returncode != 0:
            reason = provider_unavailable_reason()
            if reason and not os.environ.get("CI"):
                pytest.skip(reason)
            hint = ""
            if "registry.terraform.io" in init.output and mirror_from_env() is None:
                hint = f"\nOffline? Point {MIRROR_ENV} at a provider mirror (see terraform/README.md)."
            pytest.fail(init.describe() + hint)
        return init

    def result(self, config: str, *args: str) -> Completed:
        return self._submit(config, *args).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_JOBS: list[TerraformJobs] = []


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each terraform command took, so that slow module tests show up."""
    for jobs in _JOBS:
        terminalreporter.section("terraform commands (seconds, run on parallel threads)")
        for name, seconds in sorted(jobs.timings, key=lambda timing: -timing[1]):
            terminalreporter.write_line(f"{seconds:6.1f}  {name}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "terraform_config" in metafunc.fixturenames:
        metafunc.parametrize("terraform_config", VALIDATED_CONFIGURATIONS)
    if "tested_terraform_config" in metafunc.fixturenames:
        metafunc.parametrize("tested_terraform_config", TESTED_CONFIGURATIONS)


@pytest.fixture(scope="session")
def run_command():
    """run(args, cwd, env) -> Completed, for tests that call a tool themselves."""
    return run


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return require_tool(find_executable("terraform"), "terraform", "install Terraform >= 1.7 and put it on PATH")


@pytest.fixture(scope="session")
def shellcheck_bin() -> str:
    return require_tool(find_executable("shellcheck"), "shellcheck", "pip install -r requirements-dev.txt")


@pytest.fixture(scope="session")
def checkov_bin() -> str:
    return require_tool(
        os.environ.get("CHECKOV_BIN") or find_executable("checkov"),
        "checkov",
        "install requirements-scan.txt into a virtualenv of its own and set CHECKOV_BIN to its bin/checkov",
    )


@pytest.fixture(scope="session")
def curl_bin() -> str:
    return require_tool(
        find_executable("curl"), "curl", "the idle checker asks Jupyter with curl (AL2023 ships curl-minimal)"
    )


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for terraform: offline provider installation when a mirror is configured."""
    env = dict(os.environ)
    env.update(cli_config_env(mirror_from_env(), tmp_path_factory.mktemp("terraform-cli")))
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
    return env


@pytest.fixture(scope="session")
def terraform_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of terraform/, so that .terraform folders and lock files never land in the tree."""
    workdir = tmp_path_factory.mktemp("tf") / "terraform"
    shutil.copytree(
        TERRAFORM_DIR, workdir, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
    )
    return workdir


@pytest.fixture(scope="session")
def terraform_jobs(terraform_bin: str, terraform_workdir: Path, terraform_env: dict[str, str]):
    workers = int(os.environ.get("VGSALES_TF_JOBS", "3"))
    jobs = TerraformJobs(terraform_bin, terraform_workdir, terraform_env, workers)
    jobs.start()
    _JOBS.append(jobs)
    yield jobs
    jobs.close()
