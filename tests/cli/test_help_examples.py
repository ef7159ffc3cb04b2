"""`invoke --help <task>` shows how to set a setting with an example of that task: one of its own settings, with a
value the settings accept, on its own command line (not `... invoke train` under every task)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from invoke import Program

from vgsales.settings import Settings, project_defaults, variable_of, with_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]

TASKS = ("setup", "teardown", "status", "notebook", "console", "data", "train", "tune", "deploy", "evaluate", "rehearse", "walkthrough.run",
         "emulator.start", "emulator.stop", "emulator.status", "emulator.env")  # fmt: skip
# Tasks that read no settings (they compare files), so their help has none to list.
WITHOUT_SETTINGS = ("walkthrough.compare",)
EXAMPLE = re.compile(r"^\s+(INVOKE_WORKSHOP_[A-Z0-9_]+)=(\S+) invoke (\S+)$", re.MULTILINE)
LISTED = re.compile(
    r"^\s+workshop\.([a-z0-9_.<>]+)\s+(INVOKE_WORKSHOP_[A-Z0-9_<>]+|\(a mapping: in a -f file\))$", re.MULTILINE
)


def help_of(capsys, tasks_module, task: str) -> str:
    Program(namespace=tasks_module.namespace).run(["invoke", "--help", task], exit=False)
    return capsys.readouterr().out


def test_every_task_is_covered(tasks_module):
    assert sorted(tasks_module.namespace.task_names) == sorted(TASKS + WITHOUT_SETTINGS)


@pytest.mark.parametrize("task", WITHOUT_SETTINGS)
def test_a_task_without_settings_lists_none(capsys, tasks_module, task):
    text = help_of(capsys, tasks_module, task)
    assert "Usage: invoke" in text and "workshop." not in text


@pytest.mark.parametrize("task", TASKS)
def test_each_tasks_example_sets_one_of_its_own_settings_on_its_own_command_line(capsys, tasks_module, task):
    text = help_of(capsys, tasks_module, task)
    (example,) = EXAMPLE.findall(text)
    variable, value, invoked = example
    assert invoked == task
    listed = {name: shown for name, shown in LISTED.findall(text)}
    setting = next((name for name, shown in listed.items() if shown == variable), None)
    assert setting is not None, f"{variable} is not among the settings listed for {task}: {listed}"
    assert variable == variable_of(f"workshop.{setting}")
    # The value is one the settings accept, so the example can be copied as it is.
    Settings.from_config(with_changes(project_defaults(PROJECT_ROOT), {setting: value}))
    assert f"`invoke -f my-settings.yaml {task}`" in text


@pytest.mark.parametrize(("task", "option", "text"), [
    ("status", "--json", "print a JSON object"), ("rehearse", "--record", "wall time"),
    ("teardown", "--keep-emulator", "leave the emptied emulator running"),
    ("notebook", "--no-browser", "only print the URL"),
])
def test_each_option_shows_its_help(task, option, text):
    """tasks.py parses the command line once before invoke prints help (cli.invocation, for the imports of later
    stages); that parse must not use up the options' help, as invoke's Task.arg_opts pops it."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "invoke", "--help", task], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if option in line)
    assert text in line, line
