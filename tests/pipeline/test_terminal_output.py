"""What a person sees: the tasks run in a real pseudo-terminal, 80 columns by 24 rows, and the pyte terminal
emulator renders the screen and its scrollback from the bytes they wrote (cursor moves, erases, wrapping).

tests/pipeline/test_cli_output.py reads the same tasks piped; a terminal is where live displays draw and
redraw, and where two of them at once (the pipeline's spinner and sagemaker-core's "Wait Log Panel") leave
frozen frames and lines spliced together. After the tasks end, the scrollback must read like a log.
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
from dataclasses import dataclass
from pathlib import Path

import pyte
import pytest

from vgsales.records import EndpointRecord, StackRecord, TrainingRecord

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COLUMNS, ROWS = 80, 24
PREFIX = "vgterm"
# rich's spinners: "dots" (console.status, the pipeline's steps) and the bouncing bar sagemaker-core's panel uses.
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\[[ =]{4}\]")


@dataclass(frozen=True)
class Terminal:
    returncode: int
    rows: list[str]  # the scrollback, then the screen, one entry per terminal row, trailing blanks removed
    written: str  # what the program wrote: every frame it ever drew, escape sequences and all

    def lines(self) -> list[str]:
        """The rows joined back into the lines the program wrote: a row filled to the last column went on in
        the next one (the terminal wrapped it)."""
        joined: list[str] = []
        carry = ""
        for row in self.rows:
            if len(row) == COLUMNS:
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


def run_in_terminal(*args: str, env: dict[str, str], timeout: float = 300) -> Terminal:
    """``invoke *args`` with a pseudo-terminal of COLUMNS x ROWS as stdin, stdout and stderr."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
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
            elif process.poll() is not None:
                break  # exited, and nothing more is buffered (a background process may still hold the terminal)
    finally:
        os.close(master)
    returncode = process.wait(timeout=30)
    screen = pyte.HistoryScreen(COLUMNS, ROWS, history=100_000)
    pyte.ByteStream(screen).feed(bytes(written))
    rows = ["".join(line[column].data for column in range(COLUMNS)) for line in screen.history.top]
    rows = [row.rstrip() for row in rows + screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return Terminal(returncode, rows, written.decode(errors="replace"))


@pytest.fixture(scope="module")
def terminal_run(terraform_available, shared_dataset, tmp_path_factory, make_settings):
    """One stack for the module: `invoke setup train deploy evaluate` as one command, then `invoke teardown`, each in
    its own terminal; and the identifiers of the records they left. Teardown runs whatever happens before it."""
    from vgsales.state import RunState

    state_dir = tmp_path_factory.mktemp("terminal-output")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("INVOKE_WORKSHOP_", "AWS_"))
           and name not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env.update(TERM="xterm-256color", INVOKE_WORKSHOP_STATE_DIR=str(state_dir), INVOKE_WORKSHOP_NAME_PREFIX=PREFIX,
               INVOKE_WORKSHOP_DATA_SOURCE=str(shared_dataset),
               INVOKE_WORKSHOP_TERRAFORM_CREATE_NOTEBOOK_INSTANCE="false")  # nothing here prints about the notebook
    torn_down = False
    try:
        pipeline = run_in_terminal("setup", "train", "deploy", "evaluate", env=env)
        assert pipeline.returncode == 0, pipeline.text()
        state = RunState(make_settings(state_dir, name_prefix=PREFIX))
        stack, training, endpoint = state.read(StackRecord), state.read(TrainingRecord), state.read(EndpointRecord)
        identifiers = {
            "setup": [stack.bucket_name, stack.role_arn],
            "train": [training.training_job_name, training.model_data_url],
            "deploy": [endpoint.endpoint_name, endpoint.endpoint_config_name, endpoint.model_name],
        }
        teardown = run_in_terminal("teardown", env=env)
        torn_down = teardown.returncode == 0
        assert torn_down, teardown.text()
    finally:
        if not torn_down:
            subprocess.run([sys.executable, "-m", "invoke", "teardown"], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, timeout=300)
    return {"setup train deploy evaluate": pipeline, "teardown": teardown}, identifiers


def test_no_wait_panel_frame_is_left_on_the_screen_or_in_the_scrollback(terminal_run):
    terminals, _ = terminal_run
    for command, terminal in terminals.items():
        for row in terminal.rows:
            # The panel's title (or its head, where another line cut it off) and its "Waiting for TrainingJob..."
            # (the SDK's resource classes are capitalised; deploy's own step "Waiting for endpoint <name>" is not).
            assert "Wait Log" not in row and not re.search(r"Waiting for [A-Z]", row), (
                f"invoke {command}:\n{terminal.text()}")


def test_no_spinner_is_left_behind_or_spliced_into_another_line(terminal_run):
    """Spinners are transient: once a step ends its line is the ✓ line. A glyph left in a row is a frame that was
    never erased, or a spinner drawn over another display's line ("⠋ Creating endpoint …╭── Wait Log P")."""
    terminals, _ = terminal_run
    for command, terminal in terminals.items():
        for row in terminal.rows:
            assert not SPINNER.search(row), f"invoke {command} left {row!r}:\n{terminal.text()}"


def test_identifiers_appear_whole(terminal_run):
    terminals, identifiers = terminal_run
    lines = terminals["setup train deploy evaluate"].lines()
    text = "\n".join(lines)
    for task, names in identifiers.items():
        for identifier in names:
            assert identifier in text, f"invoke {task} did not show {identifier} whole:\n{text}"
            for line in lines:
                for cut in range(12, len(identifier)):  # the head of it ending a line: cut in two
                    assert not line.endswith(identifier[:cut]), f"{identifier!r} broken at {cut}:\n{line}"


def test_the_pipelines_own_output_stays(terminal_run):
    """The streamed training log, every round of it, each step's spinner while it ran and its ✓ line after:
    only the SDK's panel is gone."""
    terminals, identifiers = terminal_run
    pipeline = terminals["setup train deploy evaluate"]
    lines = pipeline.lines()
    # A tab moves the cursor to the next tab stop: on the screen it is blank cells.
    rounds = [int(found.group(1)) for line in lines if (found := re.match(r"  \[(\d+)\]\s+train-auc:", line))]
    assert rounds == list(range(100)), lines
    assert any(line.startswith("Hyperparameters: eta=0.1, eval_metric=auc, max_depth=3,") for line in lines)
    endpoint = identifiers["deploy"][0]
    assert f"⠋ Creating endpoint {endpoint}…" in pipeline.drawn(), "the step's spinner was drawn"
    assert any(re.fullmatch(rf"✓ Creating endpoint {endpoint} \(\d+\.\d s\)", line) for line in lines), lines
    assert lines[-1].startswith("Next: invoke teardown")
    assert any(line.startswith("Teardown complete") for line in terminals["teardown"].lines())
