"""The aws target: a real account, reached with the user's own credentials. Nothing runs on this machine."""

from __future__ import annotations

from collections.abc import Callable

from ..connection import Connection
from ..errors import WorkshopError
from ..settings import Settings
from . import TARGET_VARIABLES, ServiceInfo, Target, shell_points_at_a_target


class Account:
    """AWS itself: always there, nothing to start or stop, and clients find it without help."""

    description = None

    def start(self) -> tuple[ServiceInfo, bool]:
        raise NotImplementedError("nothing runs on this machine for the aws target")

    def begin_start(self) -> Callable[[], tuple[ServiceInfo, bool]]:
        raise NotImplementedError("nothing runs on this machine for the aws target")

    def stop(self) -> bool:
        return False

    def running(self) -> ServiceInfo | None:
        return None

    def is_up(self) -> bool:
        return True

    def connection(self, region: str) -> Connection:
        if shell_points_at_a_target():
            # Its AWS_ACCESS_KEY_ID is the emulator's (or its notebook identity's): AWS would refuse it, or worse,
            # the user's real profile would mix with the emulator's endpoint.
            raise WorkshopError(
                "This shell points AWS clients at the local emulator (`eval \"$(invoke emulator.env)\"` set "
                f"{TARGET_VARIABLES} and the variables it names), so the aws target cannot use your own AWS "
                "credentials from it. Nothing was run. Open a new shell, or run "
                f"`unset $(echo ${TARGET_VARIABLES} | tr , ' ')`, then run the command again."
            )
        return Connection(region=region)

    def shell_environment(self, region: str) -> dict[str, str]:
        return {}

    def lost(self, exc: Exception) -> str | None:
        return None


def target(settings: Settings) -> Target:
    return Target(
        name="aws",
        service=Account(),
        asks_before_apply=True,
        loses_resources_when_stopped=False,
        removes_untracked_resources=False,
        poll_seconds=10.0,
        terraform_variables={},
        client_setup=None,
        costs_money=True,
        invoke_prefix="INVOKE_WORKSHOP_TARGET=aws ",
        teardown_note=(
            "[yellow]Still there: the stack's bucket, role and notebook instance. Run `INVOKE_WORKSHOP_TARGET=aws "
            "invoke teardown` in the project folder to remove them.[/yellow]"
        ),
    )
