"""The rehearsal: the aws target, every property kept, with AWS's hostnames answered by the local emulator.

`invoke rehearse` (rehearsal.py) runs the workshop with this target. Setup plans into a file, shows the plan,
asks and applies exactly that plan; Terraform refreshes its state; the bucket gets its lifecycle rule; setup
refuses to remove what its state does not record: all of it the aws target's code, unchanged. Only the
connection differs, and it names no endpoint: every client, Terraform's provider included, builds AWS's own
hostnames (`sts.<region>.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com`, `api.sagemaker.<region>...`)
and reaches them through the emulator's HTTPS proxy, which tunnels AWS hostnames to the emulator and nothing
anywhere else (emulator/proxy.py). The CA bundle and the administrative key are the emulator's.

Two things are not the aws target's, and `differences()` names them: the service (the emulator behind AWS's
hostnames) and the seconds between polls (the emulator changes state at once; 10 s would only make the rehearsal
wait). Its settings differ in one way, its state folder (`settings_of`): its own, so a rehearsal never reads or
writes a real account's Terraform state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace

from ..connection import Connection, Credentials
from ..errors import WorkshopError
from ..settings import Settings
from . import ServiceInfo, Target, aws, local

# The local target's: the emulator changes state at once.
POLL_SECONDS = 0.1
# Below the user's state folder: never the aws target's own (<state_dir>/aws).
STATE_FOLDER = "rehearsal"


def settings_of(settings: Settings) -> Settings:
    """The user's settings for the aws target, with the rehearsal's own state folder."""
    return replace(settings, target="aws", state_dir=settings.state_dir / STATE_FOLDER)


class RehearsedAccount:
    """AWS as the rehearsal's clients see it: always reached by its own hostnames, answered by an emulator that
    the rehearsal starts and stops itself. For setup and teardown it is the aws target's service: nothing for
    them to start or stop (description None), and no local service to list in `status`."""

    description = None

    def __init__(self, settings: Settings) -> None:
        self._emulator = local.Emulator(settings)
        self.state_dir = self._emulator.state_dir

    def start(self) -> tuple[ServiceInfo, bool]:
        return self._emulator.start()

    def begin_start(self) -> Callable[[], tuple[ServiceInfo, bool]]:
        return self._emulator.begin_start()

    def stop(self) -> bool:
        return self._emulator.stop()

    def running(self) -> ServiceInfo | None:
        return None

    def is_up(self) -> bool:
        return self._emulator.is_up()

    def connection(self, region: str) -> Connection:
        info = self._emulator.recorded()  # says what is missing, if anything
        if not info.proxy_url:
            raise WorkshopError(
                "The rehearsal's emulator has no HTTPS proxy recorded, so no client could reach AWS's hostnames "
                "through it. Nothing was run against it. Run `invoke rehearse` again (it starts a new one)."
            )
        key = info.credentials
        assert key is not None  # recorded() refuses an emulator without its key
        # AWS's hostnames through the proxy; botocore's own retries, as on the aws target.
        return Connection(region=region, ca_bundle=str(info.ca_bundle), proxy_url=info.proxy_url,
                          credentials=Credentials(key.access_key_id, key.secret_access_key))

    def shell_environment(self, region: str) -> dict[str, str]:
        raise WorkshopError(
            "The rehearsal's emulator serves `invoke rehearse` only: it starts and stops with it, so there is no "
            "shell to point at it. `invoke emulator.env` points a shell at the local target's emulator."
        )

    def lost(self, exc: Exception) -> str | None:
        if self.is_up():
            return None
        return (
            f"The rehearsal's emulator stopped while the rehearsal was running ({exc}); everything it held is gone "
            "with it, and nothing ran anywhere else. Run `invoke rehearse` again: it starts over from nothing."
        )


def target(settings: Settings) -> Target:
    return replace(aws.target(settings), service=RehearsedAccount(settings), poll_seconds=POLL_SECONDS)


def differences(rehearsal: Target, settings: Settings) -> list[str]:
    """What is not the aws target's in the rehearsal, one line each, read from the two targets' data."""
    lines = [
        f"{name}: {shown(mine)} (the aws target: {shown(theirs)})"
        for name, mine, theirs in differing(rehearsal, aws.target(settings))
    ]
    lines.append(
        "service: AWS's hostnames answered by the local emulator through its HTTPS proxy, with its CA bundle and "
        "its administrative key (the aws target: AWS, with your own credentials)"
    )
    return lines


def aws_path(settings: Settings, rehearsal: Target) -> list[str]:
    """Where the aws target's path and the local target's differ, one line each: what the rehearsal runs. What
    the rehearsal does not take from the aws target (differences()) is left out here."""
    own = {name for name, _, _ in differing(rehearsal, aws.target(settings))}
    return [
        f"{name}: {shown(theirs)} (the local target: {shown(mine)})"
        for name, mine, theirs in differing(local.target(settings), aws.target(settings))
        if name not in own
    ]


def shown(value: object) -> str:
    """A property's value for a person: a mapping as name=value pairs, nothing as "none"."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or "none"
    return str(value)


# Properties that only word what a target prints (its commands, its notes), not what it does.
WORDING = ("name", "client_setup", "invoke_prefix", "teardown_note", "notebooks_elsewhere")


def differing(first: Target, second: Target) -> list[tuple[str, object, object]]:
    """The properties that change what runs (the service aside) in which two targets differ, as (name, first's,
    second's)."""
    return [
        (item.name, getattr(first, item.name), getattr(second, item.name))
        for item in fields(Target)
        if item.name not in ("service", *WORDING) and getattr(first, item.name) != getattr(second, item.name)
    ]
