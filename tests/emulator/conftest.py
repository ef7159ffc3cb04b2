"""An in-process emulator for the emulator's own tests; clients find it through the environment."""

from __future__ import annotations

import pytest

from vgsales.emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def emulator():
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(emulator, monkeypatch):
    """Point boto3 and the SDK at the emulator for one test; returns the variables it set."""
    env = emulator.client_env()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
