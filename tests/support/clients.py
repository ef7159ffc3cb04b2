"""Other people's AWS clients as processes of their own: ``from support.clients import client_process_env, Flows``.

A client gets only what `invoke emulator.env` gives it (``client_process_env``). ``Flows`` runs several client
scripts side by side against one stack: AWS's SDKs spend most of a flow in fixed sleeps (SDK v2's ``_wait_until``
sleeps before its first look, 30 s for an endpoint: sagemaker/session.py, 2.257), so flows that take a minute
each one after the other take about the longest of them together. Each flow names its own resources (the SDKs'
time-stamped names, the scripts' own prefixes), as separate users of one account would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vgsales.context import Context
from vgsales.infra import local


def client_process_env(ctx: Context, home: Path, python: Path | None = None, admin: bool = False) -> dict[str, str]:
    """A client's whole environment, nothing inherited: what `invoke emulator.env` gives, a PATH (the client's venv
    first, for `aws`) and ``home`` as HOME."""
    variables, _unset = local.client_environment(ctx, admin=admin)
    path = [str(python.parent)] if python else []
    path += ["/usr/local/bin", "/usr/bin", "/bin"]
    terraform = shutil.which("terraform")
    if terraform:
        path.append(str(Path(terraform).parent))
    return {**variables, "PATH": os.pathsep.join(path), "HOME": str(home), "LANG": "C.UTF-8"}


@dataclass
class _Flow:
    command: list[str]
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    timeout: float

    def describe(self, what: str) -> str:
        return (f"$ {' '.join(self.command)}\n({what})\n{self.stdout.read_text(errors='replace')}\n"
                f"{self.stderr.read_text(errors='replace')}")


class Flows:
    """Client scripts started at once, each in its own HOME and writing to files there (a pipe nobody reads yet
    would stop a script that prints much); ``result(name)`` waits for one and returns its stdout, failing with the
    command and its output unless it exited 0. ``close()`` ends whatever still runs."""

    def __init__(self) -> None:
        self._flows: dict[str, _Flow] = {}

    def start(self, name: str, command: Sequence[str | Path], env: Mapping[str, str], timeout: float = 300) -> None:
        home = Path(env["HOME"])
        stdout, stderr = home / f"{name}.stdout", home / f"{name}.stderr"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            process = subprocess.Popen([str(part) for part in command], env=dict(env), cwd=home, stdout=out,
                                       stderr=err, stdin=subprocess.DEVNULL)
        self._flows[name] = _Flow([str(part) for part in command], process, stdout, stderr, timeout)

    def result(self, name: str) -> str:
        flow = self._flows[name]
        try:
            flow.process.wait(timeout=flow.timeout)
        except subprocess.TimeoutExpired:
            flow.process.kill()
            flow.process.wait()
            raise AssertionError(flow.describe(f"still running after {flow.timeout:.0f} s")) from None
        assert flow.process.returncode == 0, flow.describe(f"exit {flow.process.returncode}")
        return flow.stdout.read_text(errors="replace")

    def close(self) -> None:
        for flow in self._flows.values():
            if flow.process.poll() is None:
                flow.process.kill()
            flow.process.wait()
