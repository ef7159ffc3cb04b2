"""Other people's AWS clients against the local target: a stack, and the environment `invoke emulator.env` prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPAT_PYTHON_ENV = "VGSALES_COMPAT_PYTHON"


@pytest.fixture(scope="session")
def compat_python() -> Path:
    """The client venv's python (requirements-compat.txt): SageMaker SDK v2 and the AWS CLI v1."""
    named = os.environ.get(COMPAT_PYTHON_ENV)
    path = Path(named) if named else PROJECT_ROOT / ".venv-compat" / "bin" / "python"
    if not path.is_file():
        reason = (
            f"the client venv is missing ({path}): python3 -m venv .venv-compat && "
            ".venv-compat/bin/pip install -r requirements-compat.txt, or set VGSALES_COMPAT_PYTHON"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def client_stack(terraform_available, shared_dataset, make_settings, tmp_path_factory):
    """A local stack with data, a trained model and the workshop's endpoint, as after `invoke setup train deploy`: its
    context. One for the folder (tests/conftest.py runs the folder in one worker): every test leaves the stack's
    own resources as it found them and names what it adds itself."""
    from vgsales.context import Context
    from vgsales.infra import stack
    from vgsales.pipeline import data, deploy, train

    ctx = Context.of(make_settings(
        tmp_path_factory.mktemp("clients"),
        **{"data_source": str(shared_dataset), "terraform.create_notebook_instance": False},
    ))
    try:
        stack.setup(ctx)
        data.run(ctx)
        train.run(ctx)
        deploy.run(ctx)
        yield ctx
    finally:
        ctx.target.service.stop()


@pytest.fixture
def client_env(tmp_path):
    """``client_env(ctx, python=None, admin=False)``: a client's whole environment, nothing inherited: what
    `invoke emulator.env` gives, a PATH (the client's venv first, for `aws`) and a fresh HOME."""
    from support.clients import client_process_env

    def make(ctx, python: Path | None = None, admin: bool = False) -> dict[str, str]:
        return client_process_env(ctx, tmp_path, python, admin)

    return make
