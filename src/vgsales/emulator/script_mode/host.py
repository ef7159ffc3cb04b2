"""Where this emulator runs script-mode processes, and what they act as.

A script runs as the user (this machine's user, as a container runs as its own), with the job's environment only:
this emulator's endpoint, CA bundle and proxy, and a session of the job's execution role (RoleSessionName
SageMaker, as a training job's and an endpoint's credentials are on AWS); the emulator's administrative key is never
given to it, and its HOME and TMPDIR are folders of the job's own. The session is revoked when the job or the
endpoint ends, so a process it left behind can do nothing. It is not a sandbox: like any program of the user's, a
script can read the user's files (the emulator's state folder among them), as a notebook instance's terminal can.

Every process is started in a session of its own and registered here, its folder in its environment (MARK). A job
or an endpoint that ends ends its process groups and then every process marked with its folder (end_orphans), so
that what a script started in a session of its own ends too; stopping the emulator (remove_host) does the same for
all of them, and a killed emulator's leftovers are ended at its next start.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import local_hosts

MARK = "VGSALES_SCRIPT_MODE"  # in the environment of every script process, with the folder of its job
ROLE_SESSION_NAME = "SageMaker"  # what a training job's and an endpoint's role sessions are called on AWS
ROLE_SESSION_SECONDS = 12 * 3600
STOP_GRACE_SECONDS = 5.0
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Host:
    """Set by server.EmulatorServer: the folder for jobs' and endpoints' folders, and a session's client env."""

    root: Path
    client_env: Callable[[str, str, str, str], dict[str, str]]  # (key id, secret, session token, region) -> env
    processes: dict[int, subprocess.Popen] = field(default_factory=dict, compare=False)


_hosts: local_hosts.Hosts[Host] = local_hosts.Hosts()
_lock = threading.Lock()  # the hosts' processes


def add_host(host: Host) -> None:
    _hosts.add(host)


def remove_host(host: Host) -> None:
    """End every process started under this host, and what they started, and forget it (the emulator's stop)."""
    _hosts.remove(host)
    with _lock:
        running = list(host.processes.values())
        host.processes.clear()
    for process in running:
        end(process)
    end_orphans(host.root)
    shutil.rmtree(host.root, ignore_errors=True)


def folder_prefix(kind: str, name: str) -> str:
    """How the folders of a job's or an endpoint's processes begin under the host's root (a random suffix follows):
    the kind, then the name kept to [A-Za-z0-9-], at most 63 characters of it (SageMaker's names are letters, digits
    and hyphens; moto checks none, and a name must never choose a folder)."""
    return f"{kind}-{re.sub(r'[^A-Za-z0-9-]', '-', name)[:63]}-"


def job_folder(host: Host, kind: str, name: str) -> Path:
    """A new folder (0700) for a job's or an endpoint's processes, under the host's root."""
    folder = host.root / f"{folder_prefix(kind, name)}{secrets.token_hex(4)}"
    if not folder.resolve().is_relative_to(host.root.resolve()):  # folder_prefix makes it so; this keeps it so
        raise ValueError(f"{folder} is outside {host.root}")
    folder.mkdir(parents=True, mode=0o700)
    return folder


def current_host() -> Host:
    host = _hosts.current()
    if host is None:
        raise RuntimeError("no emulator runs script-mode processes in this process")
    return host


def end_orphans(folder: Path) -> None:
    """End every process marked as started under ``folder``: what a job's or an endpoint's processes left when they
    ended (a script may start processes in sessions of their own, which its group's end does not reach), and at an
    emulator's start what a killed one left under its root. Without the folder nothing was started there, and no
    process table is read."""
    prefix = str(folder) + os.sep
    local_hosts.kill_marked(folder, lambda environ: environ.get(MARK, "").startswith(prefix))


def start(
    host: Host, command: Sequence[str | Path], env: Mapping[str, str], cwd: Path, **popen: object
) -> subprocess.Popen:
    """A script process in a session of its own (so that ending it ends what it started), registered with host."""
    marked = {**env, MARK: str(cwd)}
    process = subprocess.Popen(  # noqa: S603 - the user's own code, which is what script mode runs
        [str(part) for part in command], env=marked, cwd=cwd, start_new_session=True, **popen  # type: ignore[arg-type]
    )
    with _lock:
        host.processes[process.pid] = process
    return process


def end(process: subprocess.Popen, host: Host | None = None) -> None:
    """End a script process and its process group: SIGTERM, then SIGKILL after STOP_GRACE_SECONDS."""
    if host is not None:
        with _lock:
            host.processes.pop(process.pid, None)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(STOP_GRACE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # what the script left in its group after it exited itself
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def fresh_secret(length: int = 40) -> str:
    """moto draws session secrets from its seedable generator; a script's come from the operating system's."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))
