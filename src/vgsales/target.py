"""Where the AWS clients point: the only place the two targets differ.

boto3, the SageMaker SDK and the Terraform provider all read their endpoint, credentials and region from
the environment, so a target is nothing more than a set of environment variables. Every other module runs
the same code on both targets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .emulator import daemon
from .errors import WorkshopError
from .settings import Settings

SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def emulator_dir(settings: Settings) -> Path:
    return settings.target_dir / "emulator"


def client_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that point AWS clients at the target, for this process and its children."""
    env = {
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_REGION": settings.region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(_sdk_config(settings)),
    }
    if settings.target == "local":
        info = daemon.status(emulator_dir(settings))
        if info is None:
            raise WorkshopError(
                "The local AWS emulator is not running, so there is no local stack to work with. "
                "Run `invoke setup` first (it starts the emulator and creates the stack)."
            )
        env.update(info.client_env())
        # The emulator's region must follow the settings, not the server's default.
        env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = settings.region
    return env


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
    import boto3
    from sagemaker.core.utils.logs import CloudWatchLogsClient
    from sagemaker.core.utils.utils import SageMakerClient, SingletonMeta

    boto3.DEFAULT_SESSION = None
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
    session token from the user's shell must not mix with the emulator's dummy keys, and on the aws target
    an AWS_ENDPOINT_URL left over from a local session must not send real work to a dead loopback port.
    """
    saved = dict(os.environ)
    try:
        if "AWS_ENDPOINT_URL" in variables:
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                os.environ.pop(name, None)
        elif _is_loopback_url(os.environ.get("AWS_ENDPOINT_URL", "")):
            os.environ.pop("AWS_ENDPOINT_URL")
        os.environ.update(variables)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"
