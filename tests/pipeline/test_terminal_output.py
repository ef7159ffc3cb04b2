"""The README's main job as a person runs it, and what they see: the tasks run in a real pseudo-terminal, 80 columns
by 24 rows, and the pyte terminal emulator renders the screen and its scrollback from the bytes they wrote (cursor
moves, erases, wrapping). On the real dataset, offline: `invoke setup train deploy evaluate`, then `invoke
teardown` (in two commands, to read the records the first left before the second removes them).

tests/pipeline/test_cli_output.py reads the same tasks piped; a terminal is where live displays draw and
redraw, and where two of them at once (the pipeline's spinner and sagemaker-core's "Wait Log Panel") leave
frozen frames and lines spliced together. After the tasks end, the scrollback must read like a log.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from support.terminal import PROJECT_ROOT, Terminal, run_in_terminal, terminal_environment

from vgsales.records import EndpointRecord, StackRecord, TrainingRecord

PREFIX = "vgterm"
# rich's spinners: "dots" (console.status, the pipeline's steps) and the bouncing bar sagemaker-core's panel uses.
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\[[ =]{4}\]")


class TerminalRun(NamedTuple):
    terminals: dict[str, Terminal]  # by the command's tasks
    identifiers: dict[str, list[str]]  # by the task that printed them
    state_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def terminal_run(terraform_available, shared_dataset, tmp_path_factory, make_settings):
    """One stack for the module: `invoke setup train deploy evaluate` as one command, then `invoke teardown`, each in
    its own terminal; and the identifiers of the records they left. Teardown runs whatever happens before it."""
    from vgsales.state import RunState

    state_dir = tmp_path_factory.mktemp("terminal-output")
    env = terminal_environment(state_dir, name_prefix=PREFIX, data_source=str(shared_dataset),
                               terraform_create_notebook_instance="false")  # nothing here prints about the notebook
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
    return TerminalRun({"setup train deploy evaluate": pipeline, "teardown": teardown}, identifiers, state_dir, env)


def test_the_main_job_runs_the_workshop_end_to_end(terminal_run):
    terminals, identifiers = terminal_run.terminals, terminal_run.identifiers
    output = "\n".join(terminals["setup train deploy evaluate"].lines())
    assert "Traceback" not in output
    # invoke ran `data` once, as train's pre-task, and the workshop's splits came out.
    assert output.count("Fetching the dataset") == 1, output
    assert "the workshop's file (sha256 verified)" in output
    for row in ("train │ 5,614 │  945", "validation │ 1,604 │  267", "test │   803 │  132"):
        assert row in output, row
    assert "validation-auc" in output, "the training log streamed"
    run_dir = terminal_run.state_dir / "local" / "evaluation"
    assert f"Evaluation written to {run_dir}" in output.replace("\n", "")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["n"] == 803 and metrics["accuracy"] >= 0.86, metrics
    assert sum(metrics["confusion_matrix"][1]) == 132
    for name in ("confusion_matrix.png", "roc_curve.png", "report.md"):
        assert (run_dir / name).stat().st_size > 0
    # Teardown removed the endpoint, its config and model, the Terraform stack, then the emulator; nothing is left.
    removed = "\n".join(terminals["teardown"].lines())
    endpoint, config, model = identifiers["deploy"]
    for line in (f"Removing endpoint {endpoint}", f"Removing endpoint-config {config}", f"Removing model {model}",
                 "terraform destroy"):
        assert line in removed, line
    status = subprocess.run([sys.executable, "-m", "invoke", "status", "--json"], cwd=PROJECT_ROOT,
                            env=terminal_run.env, capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {"resources": []}


def test_no_wait_panel_frame_is_left_on_the_screen_or_in_the_scrollback(terminal_run):
    terminals = terminal_run.terminals
    for command, terminal in terminals.items():
        for row in terminal.rows:
            # The panel's title (or its head, where another line cut it off) and its "Waiting for TrainingJob..."
            # (the SDK's resource classes are capitalised; deploy's own step "Waiting for endpoint <name>" is not).
            assert "Wait Log" not in row and not re.search(r"Waiting for [A-Z]", row), (
                f"invoke {command}:\n{terminal.text()}")


def test_no_spinner_is_left_behind_or_spliced_into_another_line(terminal_run):
    """Spinners are transient: once a step ends its line is the ✓ line. A glyph left in a row is a frame that was
    never erased, or a spinner drawn over another display's line ("⠋ Creating endpoint …╭── Wait Log P")."""
    terminals = terminal_run.terminals
    for command, terminal in terminals.items():
        for row in terminal.rows:
            assert not SPINNER.search(row), f"invoke {command} left {row!r}:\n{terminal.text()}"


def test_identifiers_appear_whole(terminal_run):
    terminals, identifiers = terminal_run.terminals, terminal_run.identifiers
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
    terminals, identifiers = terminal_run.terminals, terminal_run.identifiers
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
