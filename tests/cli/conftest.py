"""Fixtures for the command-line tests: the project's tasks.py, loaded as invoke loads it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from invoke import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tasks_module():
    """tasks.py, imported by invoke's own loader from the project folder (which registers its collection)."""
    from vgsales import cli

    cli._collection()
    return sys.modules["tasks"]


class ProjectConfig(Config):
    """The project's invoke.yaml loaded as `invoke` loads it beside tasks.py, for a Program run in-process."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("project_location", str(PROJECT_ROOT))
        super().__init__(*args, **kwargs)
        self.load_project()


@pytest.fixture
def project_config():
    return ProjectConfig


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No INVOKE_* variable of the caller's; the state folder a temporary one."""
    for name in list(os.environ):
        if name.startswith("INVOKE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INVOKE_WORKSHOP_STATE_DIR", str(tmp_path / "state"))
    return tmp_path
