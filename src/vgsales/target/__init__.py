"""The two targets as data: where AWS clients point, and every other way the targets differ.

boto3, the SageMaker SDK and the Terraform provider read their endpoint, credentials and region from the
environment, so most of a target is a set of environment variables. The rest (what has to run for the
target to answer, whether setup asks before spending, how often to poll, what it costs) are properties of
one `Target` object, built by `of(settings)`. Shared code reads those properties; it never asks which
target it is on. The local target's wiring (local.py) is the only code outside the emulator that imports
it; the aws target (aws.py) imports nothing of it.
"""

from __future__ import annotations

import importlib
import sys
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..loopback import is_loopback_url
from ..settings import TARGETS, Settings

SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def sdk_config_text(bucket: str | None = None, key_prefix: str | None = None) -> str:
    """The SageMaker SDK config (SAGEMAKER_USER_CONFIG_OVERRIDE; the same schema for SDK v2 and v3): telemetry
    off, and with a bucket, the stack's bucket as `Session().default_bucket()`, so that code written for a
    notebook instance neither creates `sagemaker-<region>-<account>` nor needs s3:CreateBucket."""
    if bucket is None:
        return SDK_CONFIG
    session = f"      Session:\n        DefaultS3Bucket: '{bucket}'\n"
    if key_prefix:
        session += f"        DefaultS3ObjectKeyPrefix: '{key_prefix}'\n"
    return SDK_CONFIG + session


@dataclass(frozen=True)
class ServiceInfo:
    """What `status` shows about a service the target runs on this machine."""

    url: str
    pid: int
    started_at: str


class Service(Protocol):
    """What has to run on this machine for the target to answer: the emulator locally, nothing for AWS."""

    # What progress lines call it ("the local AWS emulator"); None when nothing runs on this machine.
    description: str | None

    def start(self) -> tuple[ServiceInfo, bool]:
        """Bring it up; (info, whether this call started it). Only called when there is something to run."""

    def begin_start(self) -> Callable[[], tuple[ServiceInfo, bool]]:
        """Start bringing it up and return at once; calling the result waits and gives what start() gives."""

    def stop(self) -> bool:
        """Stop it; True if something was running."""

    def running(self) -> ServiceInfo | None:
        """The running service, or None (also when there is none to run)."""

    def is_up(self) -> bool:
        """Whether the target can answer now."""

    def client_environment(self) -> dict[str, str]:
        """Variables that point clients at it (none for AWS, whose clients find it themselves)."""

    def lost(self, exc: Exception) -> str | None:
        """A message when a task lost the target because the service stopped, else None."""


@dataclass(frozen=True)
class Target:
    """Everything that differs between the targets. Shared code reads these; it never asks for the name."""

    name: str
    service: Service
    # Whether setup shows the plan and asks before it applies (when settings.confirm is on).
    asks_before_apply: bool
    # The target keeps its resources only while its service runs (the emulator holds them in memory), so
    # local records of a stopped service describe nothing and may be discarded.
    loses_resources_when_stopped: bool
    # Whether setup may remove resources of this stack that the Terraform state does not record. Locally
    # they can only be left by an interrupted setup; on AWS a human should look first.
    removes_untracked_resources: bool
    # Seconds between polls of a changing resource: the emulator changes state at once, AWS in minutes.
    poll_seconds: float
    # Terraform may trust its state instead of refreshing it: only Terraform and this project change the
    # target's resources, and the state is discarded whenever the target loses them (the emulator).
    trusts_terraform_state: bool = False
    # Root-module variables that only this target needs.
    terraform_variables: Mapping[str, Any] = field(default_factory=dict)
    # Whether its resources bill while they exist; status shows a cost column only where they do.
    costs_money: bool = True
    # A shell line that points other AWS clients at the target, for the sample commands; None when they need none.
    client_setup: str | None = None
    # What goes before `invoke` to choose this target on the command line.
    invoke_prefix: str = ""
    # What a notebook's clean-up leaves for `invoke teardown`.
    teardown_note: str = ""
    # Where a learner opens the workshop's notebooks: None when the stack's notebook instance serves them (its
    # console URL is printed); else a sentence saying where instead (the emulator's instance serves no Jupyter,
    # and the AWS console shows nothing of a local stack).
    notebooks_elsewhere: str | None = None


    def command(self, tasks: str) -> str:
        """The command line that runs ``tasks`` on this target."""
        return f"{self.invoke_prefix}invoke {tasks}"

    @property
    def setup_command(self) -> str:
        return self.command("setup")


# Each target's wiring, imported only when that target is chosen: the aws path never imports the emulator.
_WIRING = {"local": "vgsales.target.local", "aws": "vgsales.target.aws"}
assert tuple(_WIRING) == TARGETS


def of(settings: Settings) -> Target:
    """The target the settings choose."""
    return importlib.import_module(_WIRING[settings.target]).target(settings)


# Names every variable of a target's client environment (itself included), so that what an activation or a shell's
# `eval "$(invoke emulator.env)"` set can be taken out again for tools that are not AWS clients.
TARGET_VARIABLES = "VGSALES_TARGET_VARIABLES"


def client_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that point AWS clients at the target, for this process and its children."""
    return marked({
        **of(settings).service.client_environment(),
        # The emulator serves every region; the settings choose which one the clients use.
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_REGION": settings.region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(_sdk_config(settings)),
    })


def marked(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables and TARGET_VARIABLES naming them all."""
    names = [*sorted(set(variables) - {TARGET_VARIABLES}), TARGET_VARIABLES]
    return {**variables, TARGET_VARIABLES: ",".join(names)}


def own_environment() -> dict[str, str]:
    """The user's own environment, for a subprocess that is not an AWS client (pip building the notebook bundle,
    the emulator's server): what the process had before any activation, less every variable a target's client
    environment set there, whether an activation or the user's shell (`eval "$(invoke emulator.env)"`) set it.

    Such a tool must never inherit the emulator's proxy (HTTPS_PROXY), which takes AWS hostnames only and refuses
    pypi.org, nor the target's endpoint, CA bundle or credentials. What the user set themselves (a corporate
    proxy, their own CA bundle) stays, unless a target's environment had replaced it in their shell. Like the
    activation itself, this is per process: two threads' overlapping activations share one environment."""
    environ = dict(_outermost_saved[0]) if _outermost_saved else dict(os.environ)
    for name in environ.get(TARGET_VARIABLES, "").split(","):
        environ.pop(name.strip(), None)
    return environ


@contextmanager
def activate(settings: Settings) -> Iterator[dict[str, str]]:
    """Run the block with every AWS client pointed at the settings' target; yields the variables set.

    boto3's default session and the SageMaker SDK cache clients built from the environment they first saw,
    so both caches are dropped on entry: a client built for another target (or for an emulator that has
    since restarted on another port) is never reused.
    """
    variables = client_environment(settings)
    with environment(variables):
        _reset_client_caches()
        try:
            yield variables
        finally:
            _reset_client_caches()


def _reset_client_caches() -> None:
    """Drop the cached clients of the libraries this process has imported (importing sagemaker-core only to
    reset it would cost 1.5 s of every `invoke status`)."""
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None
    if "sagemaker.core.utils.utils" in sys.modules:
        from sagemaker.core.utils.logs import CloudWatchLogsClient
        from sagemaker.core.utils.utils import SageMakerClient, SingletonMeta

        SageMakerClient.reset()
        # The client that streams training logs is a process-wide singleton of its own, with no reset().
        SingletonMeta._instances.pop(CloudWatchLogsClient, None)


def _sdk_config(settings: Settings) -> Path:
    """An SDK config file that opts out of telemetry, so no run ever calls an AWS telemetry host."""
    path = settings.state_dir / "sagemaker-sdk-config.yaml"
    if not path.is_file() or path.read_text() != SDK_CONFIG:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SDK_CONFIG)
    return path


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Apply a target's variables to os.environ for the block, then restore the environment.

    Variables that would route clients elsewhere are cleared first: on the local target a profile or
    session token from the user's shell must not mix with the emulator's keys, and on the aws target an
    AWS_ENDPOINT_URL left over from a local session must not send real work to a dead loopback port.
    """
    saved = dict(os.environ)
    _outermost_saved.append(saved)
    try:
        if "AWS_ENDPOINT_URL" in variables:
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                os.environ.pop(name, None)
        elif is_loopback_url(os.environ.get("AWS_ENDPOINT_URL", "")):
            os.environ.pop("AWS_ENDPOINT_URL")
        os.environ.update(variables)
        yield
    finally:
        _outermost_saved[:] = [other for other in _outermost_saved if other is not saved]
        os.environ.clear()
        os.environ.update(saved)


# The environments saved by the activations in progress, outermost first (see own_environment).
_outermost_saved: list[dict[str, str]] = []
