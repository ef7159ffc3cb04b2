"""A broken settings file is one paragraph with the file, line and column, exit 1: never invoke's YAML traceback.

invoke imports tasks.py, then loads invoke.yaml beside it and (when tasks run) the -f file; tasks.py checks both
first. The two subprocess tests run the real `invoke` command, the rest call the check itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from invoke import Exit

from vgsales import cli

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The second ':' on line 3, column 26, is the error: "instance_type: ml.m5.large" is not a value.
BROKEN = "workshop:\n  region: us-east-1\n  training: instance_type: ml.m5.large\n"


def invoke(cwd: Path, *args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("INVOKE_")}
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(state_dir), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def assert_one_paragraph(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    return message


def test_a_broken_settings_file_is_one_paragraph_with_line_and_column(tmp_path):
    mine = tmp_path / "my-settings.yaml"
    mine.write_text(BROKEN)
    message = assert_one_paragraph(invoke(PROJECT_ROOT, "-f", str(mine), "emulator.status", state_dir=tmp_path))
    assert f"The settings file {mine} (given with -f) is not valid YAML: mapping values are not allowed here" in message
    assert "at line 3, column 26" in message and "Nothing was run" in message


def test_a_broken_invoke_yaml_is_one_paragraph_with_line_and_column(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "tasks.py", project / "tasks.py")
    (project / "invoke.yaml").write_text(BROKEN)
    message = assert_one_paragraph(invoke(project, "emulator.status", state_dir=tmp_path))
    assert f"The project's settings file {project / 'invoke.yaml'} is not valid YAML" in message
    assert "at line 3, column 26" in message


# --- the check itself ---------------------------------------------------------------------------------------


def problem(tmp_path, argv: list[str], environ: dict[str, str] | None = None) -> str | None:
    try:
        cli.check_config_files(PROJECT_ROOT, argv, environ or {})
    except Exit as exc:
        assert exc.code == 1 and "\n" not in exc.message
        return exc.message
    return None


def test_a_tab_is_named_with_its_place(tasks_module, tmp_path):
    mine = tmp_path / "tabs.yml"
    mine.write_text("workshop:\n\tregion: us-east-1\n")
    message = problem(tmp_path, ["invoke", "-f", str(mine), "setup"])
    assert "found character '\\t' that cannot start any token" in message and "at line 2, column 1" in message


def test_a_settings_file_that_does_not_exist_is_refused(tasks_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = problem(tmp_path, ["invoke", "-f", "my-setings.yaml", "setup"])
    assert "The settings file my-setings.yaml (given with -f) does not exist" in message
    assert str(tmp_path / "my-setings.yaml") in message


def test_the_file_named_by_invoke_runtime_config_is_checked_too(tasks_module, tmp_path):
    message = problem(tmp_path, ["invoke", "setup"], {"INVOKE_RUNTIME_CONFIG": str(tmp_path / "gone.yaml")})
    assert "(given with INVOKE_RUNTIME_CONFIG) does not exist" in message


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("mine.txt", "workshop: {}\n", "has the suffix '.txt'"),
        ("mine.yaml", "- workshop\n", "holds a list at the top, not a mapping of settings"),
        ("mine.yaml", "workshop\n", "holds a str at the top"),
        ("mine.json", '{"workshop": {"region": "us-east-1",}}', "is not valid JSON: Expecting property name"),
        ("empty.json", "", "is not valid JSON: Expecting value at line 1, column 1"),  # invoke's json.load fails too
        ("mine.YAML", "workshop: {}\n", "has the suffix '.YAML'"),  # invoke's loader is chosen by the suffix as written
    ],
)
def test_other_unreadable_settings_files_are_refused(tasks_module, tmp_path, name, text, words):
    mine = tmp_path / name
    mine.write_text(text)
    assert words in problem(tmp_path, ["invoke", "-f", str(mine), "setup"])


@pytest.mark.parametrize(
    "name, text",
    [("mine.yaml", "workshop:\n  region: us-west-2\n"), ("empty.yaml", ""), ("mine.json", '{"workshop": {}}')],
)
def test_good_settings_files_pass(tasks_module, tmp_path, name, text):
    mine = tmp_path / name
    mine.write_text(text)
    assert problem(tmp_path, ["invoke", "-f", str(mine), "setup"]) is None


def test_a_settings_file_is_not_checked_when_no_task_runs(tasks_module, tmp_path):
    """The near miss: invoke itself reads the -f file only to run tasks, not for --help or --list."""
    assert problem(tmp_path, ["invoke", "-f", str(tmp_path / "gone.yaml"), "--help", "setup"]) is None
    assert problem(tmp_path, ["invoke", "-f", str(tmp_path / "gone.yaml"), "--list"]) is None
