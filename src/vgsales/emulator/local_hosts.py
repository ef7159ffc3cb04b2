"""What notebook instances (notebook_instances.py) and script mode (script_mode/host.py) share: the hosts of this
process's emulators, and the processes marked as started under them.

A host is where one emulator runs processes of its own: a folder, and the environment a role session gives them.
Emulators in one process share moto's state (the tests start several), so each adds its own host and removes only
that one; new work starts under the newest.

Every process the emulator starts for an instance or a job carries a mark in its environment, which its children
inherit wherever they go (a session of their own, a double fork): the only way to find, and end, what a script left
running, here or after a killed emulator.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Generic, TypeVar

import psutil

H = TypeVar("H")


class Hosts(Generic[H]):
    """The hosts of this process's emulators, newest last."""

    def __init__(self) -> None:
        self._hosts: list[H] = []
        self._lock = threading.Lock()

    def add(self, host: H) -> None:
        with self._lock:
            self._hosts.append(host)

    def remove(self, host: H) -> None:
        with self._lock:
            self._hosts[:] = [kept for kept in self._hosts if kept is not host]

    def current(self) -> H | None:
        with self._lock:
            return self._hosts[-1] if self._hosts else None


def marked(accepts: Callable[[Mapping[str, str]], bool]) -> list[psutil.Process]:
    """Every process whose environment ``accepts`` takes (processes that end meanwhile, or are not ours to read, are
    not)."""
    found = []
    for process in psutil.process_iter():
        try:
            if accepts(process.environ()):
                found.append(process)
        except psutil.Error:
            continue
    return found


def kill_marked(folder: Path, accepts: Callable[[Mapping[str, str]], bool]) -> None:
    """Kill every process ``accepts`` takes, started under ``folder``. Without the folder nothing was started there,
    and no process table is read (an emulator's start calls this with its root)."""
    if not folder.exists():
        return
    for process in marked(accepts):
        try:
            process.kill()
        except psutil.Error:
            continue
