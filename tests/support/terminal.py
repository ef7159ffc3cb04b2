"""Run `invoke` in a real pseudo-terminal and read what a person would see, scrollback included.

The pyte terminal emulator renders the screen from the bytes the program wrote (cursor moves, erases, wrapping).
``answers`` types a reply when a prompt appears, as a person at the terminal would (the aws target's [y/N]).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyte
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What a terminal session of the tests starts without: workshop settings and AWS variables of the test run's own
# shell, and whatever would tell rich the size or colours of another terminal.
LEFT_OUT_PREFIXES = ("INVOKE_WORKSHOP_", "AWS_", "VGSALES_TARGET_VARIABLES")
LEFT_OUT = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
COLUMNS, ROWS = 80, 24
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Terminal:
    returncode: int
    rows: list[str]  # the scrollback, then the screen, one entry per terminal row, trailing blanks removed
    written: str  # what the program wrote: every frame it ever drew, escape sequences and all
    columns: int = COLUMNS

    def lines(self) -> list[str]:
        """The rows joined back into the lines the program wrote: a row filled to the last column went on in
        the next one (the terminal wrapped it)."""
        joined: list[str] = []
        carry = ""
        for row in self.rows:
            if len(row) == self.columns:
                carry += row
                continue
            joined.append(carry + row.rstrip())
            carry = ""
        if carry:
            joined.append(carry)
        return joined

    def text(self) -> str:
        return "\n".join(self.lines())

    def drawn(self) -> str:
        """What was written without its control sequences (colours, cursor moves, erases)."""
        return CONTROL.sub("", self.written)


def terminal_environment(state_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment for a task in a terminal: nothing of LEFT_OUT, then the state folder and
    ``settings`` (INVOKE_WORKSHOP_<NAME>=value)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(LEFT_OUT_PREFIXES) and name not in LEFT_OUT}
    env.update(TERM="xterm-256color", INVOKE_WORKSHOP_STATE_DIR=str(state_dir))
    env.update({f"INVOKE_WORKSHOP_{name.upper()}": value for name, value in settings.items()})
    return env


def run_in_terminal(*args: str, env: dict[str, str], timeout: float = 300, columns: int = COLUMNS,
                    answers: Mapping[str, str] | None = None) -> Terminal:
    """``invoke *args`` with a pseudo-terminal of ``columns`` x ROWS as stdin, stdout and stderr. Each prompt of
    ``answers`` that appears in the output (once each, in any order) is answered with its reply and Enter."""
    unanswered = dict(answers or {})
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, columns, 0, 0))
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=PROJECT_ROOT, env=env,
                               stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    written = bytearray()
    try:
        while True:
            if time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"invoke {' '.join(args)} ran longer than {timeout} s:\n{written.decode(errors='replace')}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: nothing holds the terminal open any more
                    break
                if not chunk:
                    break
                written += chunk
                if unanswered:  # only while a prompt is awaited: the whole output is read again each time
                    drawn = CONTROL.sub("", written.decode(errors="replace"))
                    for prompt in [prompt for prompt in unanswered if prompt in drawn]:
                        os.write(master, unanswered.pop(prompt).encode() + b"\r")
            elif process.poll() is not None:
                break  # exited, and nothing more is buffered (a background process may still hold the terminal)
    finally:
        os.close(master)
    returncode = process.wait(timeout=30)
    screen = pyte.HistoryScreen(columns, ROWS, history=100_000)
    pyte.ByteStream(screen).feed(bytes(written))
    rows = ["".join(line[column].data for column in range(columns)) for line in screen.history.top]
    rows = [row.rstrip() for row in rows + screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return Terminal(returncode, rows, written.decode(errors="replace"), columns)
