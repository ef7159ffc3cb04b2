"""One invocation's context: its settings, its target, its run state, and the AWS clients that reach the target.

Built once at each edge (a task of the command line, a notebook's `discover()`) and passed to every stage,
`infra` and discovery function, which take what they need from it instead of rebuilding it from the settings.
Two contexts (two targets, two stacks) are independent in one process and in two threads: nothing here reads
or writes the process's environment for them, and each context's clients carry their own connection.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import targets
from .settings import Settings
from .state import RunState
from .targets import Target

if TYPE_CHECKING:
    from .clients import AwsClients


@dataclass(frozen=True, eq=False)
class Context:
    settings: Settings
    target: Target
    state: RunState
    # The clients, once connected (a list: the dataclass is frozen), and the lock that connects them once.
    _clients: list[AwsClients] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Context:
        return cls(settings, targets.of(settings), RunState(settings))

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def aws(self) -> AwsClients:
        """The target's clients, connected on first use: setup starts the emulator before anything connects.
        boto3 is imported here, not before: `invoke --help` and the status of a stopped stack need none of it."""
        with self._lock:
            if not self._clients:
                from .clients import AwsClients

                self._clients.append(AwsClients(self.target.service.connection(self.region)))
            return self._clients[0]

    def reconnect(self) -> None:
        """Forget the clients, for a service that has just been (re)started: the next use connects anew."""
        with self._lock:
            self._clients.clear()
