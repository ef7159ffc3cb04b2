"""`vgsales`: the project's tasks from any folder, with the project's settings (invoke there finds no tasks.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgsales import cli
from vgsales.cli import main as script

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VGSALES = Path(sys.executable).with_name("vgsales")


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("INVOKE_")}
    environ.update(COLUMNS="200", **env)
    return subprocess.run([str(VGSALES), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def installed():
    if not VGSALES.is_file():
        pytest.fail(f"{VGSALES} is missing: install the package (pip install -e .) so that its console script exists")
    return VGSALES


def test_it_lists_the_tasks_from_another_folder(installed, tmp_path):
    result = run(tmp_path, "--list")
    assert result.returncode == 0, result.stderr
    for name in ("setup", "train", "teardown", "emulator.env", "emulator.status"):
        assert f"  {name} " in result.stdout
    assert "Can't find any collection" not in result.stdout + result.stderr


def test_emulator_env_from_another_folder_gives_the_projects_message(installed, tmp_path):
    result = run(tmp_path, "emulator.env", INVOKE_WORKSHOP_STATE_DIR=str(tmp_path / "state"))
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("Error: The local AWS emulator is not running") and "\n" not in message
    assert "Can't find any collection" not in message and "Traceback" not in message


def test_the_projects_settings_and_a_settings_file_relative_to_the_folder(installed, tmp_path):
    """invoke.yaml of the project applies, a -f path is taken from where the command runs."""
    (tmp_path / "mine.yaml").write_text("workshop:\n  region: mars-north-1\n")
    result = run(tmp_path, "-f", "mine.yaml", "status", INVOKE_WORKSHOP_STATE_DIR=str(tmp_path / "state"))
    assert result.returncode == 1
    assert "Invalid setting workshop.region: 'mars-north-1'" in result.stderr


def test_an_editable_install_runs_the_checkout_it_comes_from():
    assert cli.PROJECT_DIR == PROJECT_ROOT


def test_without_a_project_folder_it_says_how_to_name_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(script, "PROJECT_DIR", tmp_path)
    monkeypatch.delenv(cli.PROJECT_DIR_ENV, raising=False)
    with pytest.raises(SystemExit) as exited:
        script.main(["vgsales", "--list"])
    assert exited.value.code == 1
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and "VGSALES_PROJECT_DIR is not set" in message and "pip install -e" in message
    monkeypatch.setenv(cli.PROJECT_DIR_ENV, str(tmp_path))
    with pytest.raises(SystemExit):
        script.main(["vgsales", "--list"])
    assert f"VGSALES_PROJECT_DIR names {tmp_path}, which has no tasks.py" in capsys.readouterr().err


def test_the_project_folder_comes_from_the_variable_when_the_package_is_installed_elsewhere(tmp_path, monkeypatch):
    """A copy of the package outside a checkout (site-packages) has no tasks.py above it: the variable decides."""
    package = tmp_path / "site-packages" / "vgsales" / "cli"
    package.mkdir(parents=True)
    monkeypatch.setattr(cli, "__file__", str(package / "__init__.py"))
    monkeypatch.setenv(cli.PROJECT_DIR_ENV, str(PROJECT_ROOT))
    assert cli._project_dir() == PROJECT_ROOT
    monkeypatch.delenv(cli.PROJECT_DIR_ENV)
    assert cli._project_dir() == tmp_path
