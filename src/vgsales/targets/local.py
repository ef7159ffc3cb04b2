"""The local target: an AWS emulator on loopback, started and stopped with the stack.

The only module outside vgsales.emulator that imports it. The emulator keeps everything in memory, so the
stack lives exactly as long as the emulator's process; it costs nothing and answers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..connection import Connection, Credentials
from ..emulator import daemon
from ..errors import WorkshopError
from ..settings import Settings
from . import ServiceInfo, Target, own_environment

# The emulator does not throttle: retrying only delays the message when it is gone (10 SDK attempts took about
# 19 s to report a dead emulator).
ATTEMPTS = 2


def emulator_dir(settings: Settings) -> Path:
    """The emulator's own state folder (info, PID, log and TLS files), mode 0700."""
    return settings.target_dir / "emulator"


class Emulator:
    """The local target's service: the emulator daemon of this stack's state folder."""

    description = "the local AWS emulator"

    def __init__(self, settings: Settings) -> None:
        self.state_dir = emulator_dir(settings)
        self._host = settings.emulator.host
        self._port = settings.emulator.port

    def start(self) -> tuple[ServiceInfo, bool]:
        return self.begin_start()()

    def begin_start(self) -> Callable[[], tuple[ServiceInfo, bool]]:
        # The server is no AWS client: it starts from the user's own environment, less what points clients at a target.
        pending = daemon.begin(self.state_dir, host=self._host, port=self._port, environment=own_environment())

        def finish() -> tuple[ServiceInfo, bool]:
            return _service_info(pending.wait()), not pending.was_running

        return finish

    def stop(self) -> bool:
        return daemon.stop(self.state_dir)

    def running(self) -> ServiceInfo | None:
        info = daemon.status(self.state_dir)
        return None if info is None else _service_info(info)

    def is_up(self) -> bool:
        return daemon.status(self.state_dir) is not None

    def connection(self, region: str) -> Connection:
        info = self.recorded()
        key = info.credentials
        assert key is not None  # recorded() refuses an emulator without its key
        return Connection(
            region=region,
            endpoint_url=info.url,
            ca_bundle=str(info.ca_bundle),
            credentials=Credentials(key.access_key_id, key.secret_access_key),
            max_attempts=ATTEMPTS,
        )

    def recorded(self) -> daemon.EmulatorInfo:
        """The running emulator as its state folder records it, with its administrative key; one clear message
        when there is none to connect to."""
        info = daemon.recorded(self.state_dir)
        if info is None:
            raise WorkshopError(
                "The local AWS emulator is not running, so there is no local stack to work with. "
                "Run `invoke setup` first (it starts the emulator and creates the stack)."
            )
        if info.credentials is None:
            raise WorkshopError(
                "The local AWS emulator's administrative key is missing from its state folder, so no client can "
                "sign requests for it. Restart it: `invoke emulator.stop` and `invoke setup`."
            )
        return info

    def shell_environment(self, region: str) -> dict[str, str]:
        info = daemon.status(self.state_dir)
        if info is None:
            raise WorkshopError("The local AWS emulator is not running: start it with `invoke setup` (or `invoke emulator.start`).")
        return info.client_env(region)

    def lost(self, exc: Exception) -> str | None:
        if self.is_up():
            return None
        return (
            f"The local AWS emulator stopped while the task was running ({exc}). It keeps everything in memory, "
            "so the local stack is gone with it. Run `invoke setup` to start over (it notices, and discards the "
            "stale local state), or `invoke teardown` to just clean up."
        )


def _service_info(info: daemon.EmulatorInfo) -> ServiceInfo:
    return ServiceInfo(url=info.url, pid=info.pid, started_at=info.started_at.isoformat())


def target(settings: Settings) -> Target:
    return Target(
        name="local",
        service=Emulator(settings),
        asks_before_apply=False,
        loses_resources_when_stopped=True,
        removes_untracked_resources=True,
        poll_seconds=0.1,
        trusts_terraform_state=True,
        terraform_variables={
            # The emulator serves S3 on one host name, and its 500s should fail fast, not retry for minutes.
            "s3_use_path_style": True,
            "provider_max_retries": 2,
            # After creating a lifecycle rule, provider 5.100 always waits at least 55 s (waitLifecycleConfigEquals:
            # a 10 s delay, then 10 identical reads 5 s apart), against any S3; on the emulator the rule has no
            # effect (nothing lives long enough to expire). The module tests and `invoke rehearse` apply it; the
            # setting terraform.bucket_lifecycle_rule, when set, overrides this (infra/stack.py).
            "bucket_lifecycle_rules_enabled": False,
        },
        client_setup='eval "$(invoke emulator.env)"  # once per shell: point AWS clients at the local emulator',
        costs_money=False,
        teardown_note="Still there: the local stack and its emulator. `invoke teardown` in the project folder stops them.",
        notebooks_elsewhere=(
            "The notebook instance runs a JupyterLab on this machine (the AWS console shows nothing of a local "
            "stack): `invoke notebook` opens it, as the console's Open JupyterLab does."
        ),
        prepare_notebook_instances=prepare_notebook_instances,
    )


def prepare_notebook_instances() -> bool:
    """conda_python3 for the emulator's notebook instances (emulator/notebook_image.py: the SageMaker Python SDK v2
    and what AWS preinstalls beside it), built now if this machine has none, so that setup shows the wait as a step
    of its own and an unreachable package index stops it before anything is created; True when built now."""
    from ..emulator import notebook_image

    if notebook_image.is_built():
        return False
    try:
        notebook_image.ensure()
    except notebook_image.ImageUnavailable as error:
        raise WorkshopError(
            f"{error} Or set terraform.create_notebook_instance to false: the pipeline needs no notebook instance."
        ) from None
    return True
