"""Booleans and numbers from INVOKE_WORKSHOP_* variables, read by one parser for every entry point.

invoke casts an environment value to the type of the value it overrides, and for a boolean any text but "0"
is true, so `INVOKE_WORKSHOP_CONFIRM=false` used to mean true. invoke.yaml therefore quotes its booleans and
numbers, invoke hands the text over unchanged, and Settings parses it. The same words must work, and the same
words be refused, in the invoke tasks and in the notebooks, which load their settings without tasks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from invoke import Config, Context

from vgsales import notebook
from vgsales.cli import settings_of
from vgsales.errors import WorkshopError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FALSE_WORDS = ("false", "0", "no", "off", "FALSE", " Off ")
TRUE_WORDS = ("true", "1", "yes", "on", "True")
REFUSED_WORDS = ("maybe", "flase", "2", "", "nein")


def from_tasks(monkeypatch, **variables: str):
    """The settings a task gets: invoke's config tree loaded as the `invoke` command loads it, then settings_of."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = Config(project_location=str(PROJECT_ROOT))
    config.load_project()
    config.load_shell_env()
    return settings_of(Context(config))


def from_notebook(monkeypatch, **variables: str):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return notebook.load_settings(PROJECT_ROOT)


ENTRY_POINTS = {"tasks": from_tasks, "notebook": from_notebook}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("INVOKE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("word", FALSE_WORDS)
def test_false_words_turn_a_true_default_off(monkeypatch, entry, word):
    settings = ENTRY_POINTS[entry](
        monkeypatch, INVOKE_WORKSHOP_CONFIRM=word, INVOKE_WORKSHOP_TERRAFORM_CREATE_NOTEBOOK_INSTANCE=word
    )
    assert settings.confirm is False
    assert settings.terraform.create_notebook_instance is False


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("word", TRUE_WORDS)
def test_true_words_turn_a_false_default_on(monkeypatch, entry, word):
    assert ENTRY_POINTS[entry](monkeypatch, INVOKE_WORKSHOP_TRAINING_USE_SPOT=word).training.use_spot is True


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_unset_variables_keep_the_defaults(monkeypatch, entry):
    settings = ENTRY_POINTS[entry](monkeypatch)
    assert (settings.confirm, settings.training.use_spot, settings.evaluate.batch_size) == (True, False, 100)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("word", REFUSED_WORDS)
def test_other_words_are_refused_with_the_setting_named(monkeypatch, entry, word):
    with pytest.raises(WorkshopError) as refused:
        ENTRY_POINTS[entry](monkeypatch, INVOKE_WORKSHOP_TRAINING_USE_SPOT=word)
    message = str(refused.value)
    assert message.startswith("Invalid setting workshop.training.use_spot: expected true or false")
    assert "INVOKE_WORKSHOP_TRAINING_USE_SPOT" in message and "Nothing was created" in message


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_numbers_from_the_environment_are_parsed_or_refused(monkeypatch, entry):
    assert ENTRY_POINTS[entry](monkeypatch, INVOKE_WORKSHOP_EVALUATE_BATCH_SIZE=" 50 ").evaluate.batch_size == 50
    with pytest.raises(WorkshopError, match=r"workshop\.evaluate\.batch_size: expected a whole number, got 'fifty'"):
        ENTRY_POINTS[entry](monkeypatch, INVOKE_WORKSHOP_EVALUATE_BATCH_SIZE="fifty")


def test_the_command_line_refuses_a_bad_word_in_one_paragraph(tmp_path):
    """Through the real `invoke` command: exit 1, the message, no traceback, nothing started."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("INVOKE_")}
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(tmp_path), INVOKE_WORKSHOP_CONFIRM="flase", COLUMNS="200")
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "emulator.status"], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result
    assert "Invalid setting workshop.confirm: expected true or false" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "local" / "emulator" / "emulator.pid").exists()
