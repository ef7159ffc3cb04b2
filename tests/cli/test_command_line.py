"""The command line as invoke parses it, and the one "Next:" line a command ends with.

`invoke setup train deploy evaluate teardown` used to print a Next line after every task, "Next: invoke train"
among them while train was already running, and the data pre-task of train printed one too. Only the task that
runs last prints it now. The tasks run here in-process through invoke's own Program and Executor, with each
stage replaced by a recorder, so no stack is needed.
"""

from __future__ import annotations

import sys
import types

import pytest
from invoke import Program

from vgsales import cli

# --- invocation(): invoke's parser, invoke's pre-tasks and dedupe ---------------------------------------------


@pytest.mark.parametrize(
    "argv, named, runs",
    [
        (["invoke", "setup", "train", "deploy"], ("setup", "train", "deploy"), ("setup", "data", "train", "deploy")),
        (["invoke", "data", "train"], ("data", "train"), ("data", "train")),  # data runs once
        (["invoke", "train", "data"], ("train", "data"), ("data", "train")),  # ... before train, as invoke runs it
        (["invoke", "--no-dedupe", "data", "train"], ("data", "train"), ("data", "data", "train")),
        (["invoke", "-f", "train.yaml", "setup"], ("setup",), ("setup",)),  # a flag's value is no task
        (["invoke", "--config=train.yaml", "setup"], ("setup",), ("setup",)),
        (["invoke", "-r", "/somewhere/deploy", "-c", "tasks", "status"], ("status",), ("status",)),
        (["invoke", "-e", "teardown", "--keep-emulator"], ("teardown",), ("teardown",)),
        (["invoke", "emulator.env", "--json", "-a"], ("emulator.env",), ("emulator.env",)),
        (["invoke", "tune", "-f", "evaluate.yaml"], ("tune",), ("data", "tune")),  # a core flag after a task
        (["invoke", "--help", "train"], (), ()),  # help runs no task
        (["invoke", "train", "--help"], (), ()),
        (["invoke", "--list"], (), ()),
        (["invoke", "-V"], (), ()),
        (["invoke"], (), ()),
    ],
)
def test_the_tasks_a_command_line_runs(tasks_module, argv, named, runs):
    command = cli.invocation(argv, environ={})
    assert (command.named, command.runs) == (named, runs)


def test_a_command_line_that_is_not_invokes_is_none(tasks_module):
    assert cli.invocation(["pytest", "tests/cli", "-q"], environ={}) is None
    assert cli.invocation(["invoke", "trian"], environ={}) is None  # invoke refuses it itself


@pytest.mark.parametrize(
    "argv, environ, expected",
    [
        (["invoke", "-f", "mine.yaml", "train"], {}, ("mine.yaml", "-f")),
        (["invoke", "train", "--config", "mine.yaml"], {}, ("mine.yaml", "-f")),
        (["invoke", "train"], {"INVOKE_RUNTIME_CONFIG": "env.yaml"}, ("env.yaml", "INVOKE_RUNTIME_CONFIG")),
        (["invoke", "-f", "mine.yaml", "train"], {"INVOKE_RUNTIME_CONFIG": "env.yaml"}, ("mine.yaml", "-f")),
        (["invoke", "train"], {}, (None, None)),
    ],
)
def test_the_settings_file_of_a_command_line(tasks_module, argv, environ, expected):
    command = cli.invocation(argv, environ=environ)
    assert (command.config_file, command.config_named_by) == expected


# --- the Next line -----------------------------------------------------------------------------------------

STAGES = ("data", "train", "tune", "deploy", "evaluate")


@pytest.fixture
def recorded(monkeypatch, tasks_module, clean_environment):
    """Every stage (and setup, teardown, status) replaced by a recorder; returns the list of what ran."""
    import vgsales.infra
    import vgsales.pipeline

    ran: list[str] = []
    for name in STAGES:
        stage = types.ModuleType(f"vgsales.pipeline.{name}")
        stage.run = lambda ctx, name=name: ran.append(name)
        monkeypatch.setitem(sys.modules, stage.__name__, stage)
        monkeypatch.setattr(vgsales.pipeline, name, stage, raising=False)
    stack = types.ModuleType("vgsales.infra.stack")
    stack.setup = lambda ctx, while_applying=None: ran.append("setup")
    stack.teardown = lambda ctx, keep_emulator=False: ran.append("teardown")
    stack.status = lambda ctx: ran.append("status") or []
    stack.print_status = lambda lines, ctx: None
    monkeypatch.setitem(sys.modules, stack.__name__, stack)
    monkeypatch.setattr(vgsales.infra, "stack", stack, raising=False)
    return ran


def run(monkeypatch, capsys, tasks_module, project_config, *args: str) -> list[str]:
    """`invoke <args>` in this process, as the command runs them; returns the Next lines it printed."""
    argv = ["invoke", *args]
    monkeypatch.setattr(sys, "argv", argv)  # what the tasks read their command line from
    Program(namespace=tasks_module.namespace, config_class=project_config).run(argv, exit=False)
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("Next:")]


def test_only_the_last_task_of_the_whole_workshop_prints_its_next_line(monkeypatch, capsys, recorded, tasks_module,
                                                                       project_config):  # fmt: skip
    lines = run(monkeypatch, capsys, tasks_module, project_config, "setup", "train", "deploy", "evaluate", "teardown")
    assert recorded == ["setup", "data", "train", "deploy", "evaluate", "teardown"]
    assert lines == ["Next: invoke setup  (to start again; `status` shows that nothing is left)"]


def test_a_pre_task_that_was_not_named_prints_none(monkeypatch, capsys, recorded, tasks_module, project_config):
    lines = run(monkeypatch, capsys, tasks_module, project_config, "train")
    assert recorded == ["data", "train"]
    assert lines == ["Next: invoke deploy  (serves the model on an endpoint)"]


def test_a_task_named_before_the_last_prints_none(monkeypatch, capsys, recorded, tasks_module, project_config):
    assert run(monkeypatch, capsys, tasks_module, project_config, "train", "data") == [
        "Next: invoke deploy  (serves the model on an endpoint)"  # train runs last: data ran before it, once
    ]
    assert run(monkeypatch, capsys, tasks_module, project_config, "data") == [
        "Next: invoke train  (trains on the uploaded train and validation splits)"  # named alone, data ends it
    ]


@pytest.mark.parametrize("task, model", [("train", "the model"), ("tune", "the best job's model")])
def test_with_a_batch_transform_evaluation_training_is_followed_by_evaluate(
    monkeypatch, capsys, recorded, tasks_module, project_config, task, model
):
    monkeypatch.setenv("INVOKE_WORKSHOP_EVALUATE_VIA", "transform")
    assert run(monkeypatch, capsys, tasks_module, project_config, task) == [
        f"Next: invoke evaluate  (scores the test split with a batch transform job on {model}; no endpoint needed)"
    ]
    monkeypatch.setenv("INVOKE_WORKSHOP_EVALUATE_VIA", "endpoint")  # the near miss: the default says deploy
    assert run(monkeypatch, capsys, tasks_module, project_config, task) == [
        f"Next: invoke deploy  (serves {model} on an endpoint)"
    ]


def test_a_task_called_outside_invoke_still_says_what_is_next(monkeypatch, capsys, recorded, tasks_module,
                                                             project_config):  # fmt: skip
    """A command line that is not invoke's (a script calling the task) cannot tell what runs last: the line stays."""
    from invoke import Context

    monkeypatch.setattr(sys, "argv", ["python", "my_script.py"])
    tasks_module.data(Context(project_config()))
    assert "Next: invoke train" in capsys.readouterr().out


def test_the_running_task_is_forgotten_when_it_ends(monkeypatch, capsys, recorded, tasks_module, project_config):
    run(monkeypatch, capsys, tasks_module, project_config, "data")
    assert cli._running.get() is None


def test_the_real_command_prints_one_next_line_for_two_tasks(tmp_path):
    """Through the `invoke` command (two cheap tasks that need no stack): the first task's Next line is gone."""
    import os
    import subprocess

    env = {name: value for name, value in os.environ.items() if not name.startswith("INVOKE_")}
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(tmp_path), COLUMNS="200")

    def next_lines(*args: str) -> list[str]:
        result = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cli.PROJECT_DIR, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return [line for line in result.stdout.splitlines() if line.startswith("Next:")]

    assert next_lines("emulator.stop") == ["Next: invoke setup  (starts it again with a new stack)"]
    assert next_lines("emulator.stop", "status") == ["Next: invoke setup  (creates the stack)"]
