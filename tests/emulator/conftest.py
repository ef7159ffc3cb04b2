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


@pytest.fixture(scope="session")
def make_bucket(emulator):
    """``make_bucket(prefix, {key: body})``: a new bucket on the emulator, named ``<prefix>-<8 hex>``, with those
    objects; for module fixtures, which cannot use ``aws_env``."""
    import uuid

    import boto3

    def make(prefix: str, objects: dict[str, bytes]) -> str:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in emulator.client_env().items():
                patch.setenv(name, value)
            s3 = boto3.client("s3")
            bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
            s3.create_bucket(Bucket=bucket)
            for key, body in objects.items():
                s3.put_object(Bucket=bucket, Key=key, Body=body)
        return bucket

    return make
