"""The two targets as data: how AWS clients reach each, and every other way the targets differ.

A `Target`, built by `of(settings)`, holds what has to run for the target to answer (its `Service`, which also
says how clients connect to it: a `Connection`), whether setup asks before spending, how often to poll and what
it costs. Shared code reads those properties; it never asks which target it is on. Nothing here changes the
process's environment: clients get their connection explicitly (context.py). The local target's wiring
(local.py) is the only code outside the emulator that imports it; the rehearsal of the aws target (rehearsal.py,
`invoke rehearse`) runs its emulator through local.py, and the aws target (aws.py) imports nothing of it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..connection import Connection
from ..settings import TARGETS, Settings


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

    def connection(self, region: str) -> Connection:
        """How this package's clients reach it in ``region`` (for AWS: nothing named, clients find it themselves)."""

    def shell_environment(self, region: str) -> dict[str, str]:
        """The variables that point any other client in a shell at it (`invoke emulator.env`): besides the
        connection, whatever a client that builds AWS hostnames itself needs (the emulator's proxy)."""

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
    # Where a learner opens the workshop's notebooks: None when the stack's notebook instance is opened from the
    # AWS console (its console URL is printed); else a sentence saying how instead (the AWS console shows nothing
    # of a local stack, whose instance `invoke notebook` opens).
    notebooks_elsewhere: str | None = None
    # What the target's notebook instances need on this machine before setup creates one, made if missing: True
    # when it was made now (the emulator's conda_python3, built once per machine); None where nothing is needed.
    prepare_notebook_instances: Callable[[], bool] | None = None

    def command(self, tasks: str) -> str:
        """The command line that runs ``tasks`` on this target."""
        return f"{self.invoke_prefix}invoke {tasks}"

    @property
    def setup_command(self) -> str:
        return self.command("setup")


# Each target's wiring, imported only when that target is chosen: the aws path never imports the emulator.
_WIRING = {"local": "vgsales.targets.local", "aws": "vgsales.targets.aws"}
assert tuple(_WIRING) == TARGETS


def of(settings: Settings) -> Target:
    """The target the settings choose."""
    return importlib.import_module(_WIRING[settings.target]).target(settings)


# Names every variable of a shell's client environment (itself included), so that what
# `eval "$(invoke emulator.env)"` set can be taken out again for tools that are not AWS clients.
TARGET_VARIABLES = "VGSALES_TARGET_VARIABLES"


def marked(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables and TARGET_VARIABLES naming them all."""
    names = [*sorted(set(variables) - {TARGET_VARIABLES}), TARGET_VARIABLES]
    return {**variables, TARGET_VARIABLES: ",".join(names)}


def own_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's own environment (default: this process's), for a subprocess: less every variable that a
    target's client environment set in the user's shell (`eval "$(invoke emulator.env)"`).

    A tool that is not an AWS client (pip building the notebook bundle, the emulator's server) must never inherit
    the emulator's proxy (HTTPS_PROXY), which takes AWS hostnames only and refuses pypi.org, nor its endpoint, CA
    bundle or credentials; one that is (Terraform) gets its connection's variables on top
    (Connection.subprocess_environment). What the user set themselves (a corporate proxy, their own CA bundle)
    stays, unless the emulator's environment had replaced it in their shell."""
    environ = dict(os.environ if environ is None else environ)
    for name in environ.get(TARGET_VARIABLES, "").split(","):
        environ.pop(name.strip(), None)
    return environ


def shell_points_at_a_target(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the shell was pointed at a target's clients (`eval "$(invoke emulator.env)"`)."""
    return bool((os.environ if environ is None else environ).get(TARGET_VARIABLES))
