"""The aws target: a real account, reached with the user's own credentials. Nothing runs on this machine."""

from __future__ import annotations

from collections.abc import Callable

from ..settings import Settings
from . import ServiceInfo, Target


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

    def client_environment(self) -> dict[str, str]:
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
