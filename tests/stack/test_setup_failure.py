"""A setup that fails leaves nothing running that it started, and says so; one it did not start stays."""

from __future__ import annotations

import pytest

from vgsales.context import Context
from vgsales.errors import Interrupted, WorkshopError
from vgsales.infra import stack

from support.stacks import discard


def failing_context(make_settings, tmp_path) -> Context:
    # A provider mirror that is not a folder fails setup after the emulator has started, before Terraform runs.
    return Context.of(make_settings(tmp_path, **{"terraform.plugin_mirror": str(tmp_path / "no-such-mirror")}))


def test_a_failed_setup_stops_the_emulator_it_started(make_settings, tmp_path):
    ctx = failing_context(make_settings, tmp_path)
    service = ctx.target.service
    try:
        with pytest.raises(WorkshopError) as failed:
            stack.setup(ctx)
        assert "is not a folder" in str(failed.value)
        assert str(failed.value).endswith("The local AWS emulator that this setup started has been stopped again.")
        assert service.running() is None
    finally:
        service.stop()


def test_a_failed_setup_leaves_an_emulator_it_found_running(make_settings, tmp_path):
    ctx = failing_context(make_settings, tmp_path)
    service = ctx.target.service
    info, started = service.start()
    try:
        assert started
        with pytest.raises(WorkshopError) as failed:
            stack.setup(ctx)
        assert "stopped again" not in str(failed.value)
        assert service.running() == info, "an emulator the user started (emulator.start) is theirs to stop"
    finally:
        service.stop()


def test_setup_on_an_emulator_it_found_running_clears_an_untracked_leftover(terraform_available, make_settings, tmp_path):
    """Only an emulator this setup started is known to be empty: on one that was already running, a leftover of
    the stack that Terraform never recorded (a cut-off apply) is found and removed, and setup converges (near
    miss: trusting every emulator to be empty, and failing on the taken name)."""
    from vgsales.discovery import STACK_TAG

    ctx = Context.of(make_settings(tmp_path, **{"terraform.create_notebook_instance": False}))
    prefix = ctx.settings.name_prefix
    service = ctx.target.service
    service.start()
    try:
        ctx.aws.client("iam").create_role(
            RoleName=f"{prefix}-sagemaker-execution", AssumeRolePolicyDocument="{}",
            Tags=[{"Key": STACK_TAG, "Value": prefix}],
        )  # fmt: skip
        record = stack.setup(ctx)
        assert record.role_arn.endswith(f":role/{prefix}-sagemaker-execution")
    finally:
        discard(ctx)


def test_ctrl_c_in_a_setup_stops_the_emulator_it_started_and_says_so(make_settings, tmp_path, monkeypatch):
    ctx = Context.of(make_settings(tmp_path))
    service = ctx.target.service

    def interrupted(_stack):
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "_init", interrupted)
    try:
        with pytest.raises(Interrupted) as caught:
            stack.setup(ctx)
        assert service.running() is None
        assert str(caught.value).startswith("Interrupted. The local AWS emulator that this setup started has been stopped")
        assert "nothing is left running" in str(caught.value)
        assert caught.value.exit_code == 130
    finally:
        service.stop()


def test_ctrl_c_in_a_setup_leaves_an_emulator_it_found_running(make_settings, tmp_path, monkeypatch):
    """Near miss: the user's own emulator (emulator.start) is theirs to stop; the interrupt goes on as it was."""
    ctx = Context.of(make_settings(tmp_path))
    service = ctx.target.service
    info, _ = service.start()

    def interrupted(_stack):
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "_init", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            stack.setup(ctx)
        assert service.running() == info
    finally:
        service.stop()


def test_emulator_start_discards_the_records_of_an_emulator_that_is_gone(make_settings, tmp_path):
    """`invoke emulator.start` then `invoke setup` after the emulator died: setup must not trust the old records
    (locally Terraform does not refresh), so the start discards them, as setup's own start does."""
    from vgsales.infra import local
    from vgsales.records import StackRecord

    ctx = Context.of(make_settings(tmp_path))
    stale = StackRecord(target="local", region="us-east-1", name_prefix="vgsales", data_prefix="video-game-sales",
                        bucket_name="vgsales-gone", role_arn="arn:aws:iam::123456789012:role/vgsales-gone")  # fmt: skip
    ctx.state.write(stale)
    try:
        local.start(ctx)
        assert not ctx.state.has(StackRecord)
        # Near miss: with the emulator running, the records describe it and stay.
        ctx.state.write(stale)
        local.start(ctx)
        assert ctx.state.read(StackRecord) == stale
    finally:
        ctx.target.service.stop()
