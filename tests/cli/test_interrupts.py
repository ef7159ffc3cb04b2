"""Ctrl-C: exit 130 like any interrupted command, with what was left behind and whether the emulator still runs.

A task that handled its interrupt raises Interrupted with its own message; an interrupt no task handled becomes a
message built from the target: the emulator's pid and URL when it still runs (it holds what was created), AWS's
resources otherwise, and no claim that an emulator runs when it does not.
"""

from __future__ import annotations

import pytest
from invoke import Context, Exit

from vgsales import cli
from vgsales.errors import Interrupted, WorkshopError
from vgsales.targets import ServiceInfo
from vgsales.targets import local as local_target

RUNNING = ServiceInfo(url="http://127.0.0.1:45123", pid=4321, started_at="2024-05-01T10:00:00+00:00")


@pytest.fixture
def context(clean_environment, project_config):
    """A task's context, its config loaded when the task runs (after a test has set its variables), as invoke's
    executor loads it."""

    def make() -> Context:
        config = project_config()
        config.load_shell_env()
        return Context(config)

    return make


def exit_of(body, context) -> Exit:
    with pytest.raises(Exit) as exited:
        cli.user_errors(body)(context())
    assert "\n" not in exited.value.message, "one paragraph"
    return exited.value


def interrupted(c):
    raise KeyboardInterrupt


def test_a_handled_interrupt_keeps_the_tasks_own_message_and_exits_130(context):
    def body(c):
        raise Interrupted("Interrupted: stopped the training job vgsales-1 (it ends Stopped and bills no more).")

    exited = exit_of(body, context)
    assert exited.code == 130
    assert exited.message == "Interrupted: stopped the training job vgsales-1 (it ends Stopped and bills no more)."


def test_any_other_workshop_error_still_exits_1_with_error(context):
    def body(c):
        raise WorkshopError("The bucket is gone.")

    exited = exit_of(body, context)
    assert (exited.code, exited.message) == (1, "Error: The bucket is gone.")


def test_an_interrupt_while_the_emulator_runs_says_where_and_how_to_stop_it(context, monkeypatch):
    monkeypatch.setattr(local_target.Emulator, "running", lambda self: RUNNING)
    exited = exit_of(interrupted, context)
    assert exited.code == 130
    assert exited.message.startswith("Interrupted. What was created so far is on the target")
    assert "the local AWS emulator is still running (pid 4321, at http://127.0.0.1:45123), holding it" in exited.message
    assert "run the task again to continue, or `invoke teardown` to remove everything and stop it" in exited.message


def test_an_interrupt_after_the_emulator_stopped_does_not_claim_it_runs(context, monkeypatch):
    monkeypatch.setattr(local_target.Emulator, "running", lambda self: None)
    exited = exit_of(interrupted, context)
    assert exited.code == 130
    assert "still running" not in exited.message and "pid" not in exited.message
    assert "The local AWS emulator is not running" in exited.message and "`invoke setup`" in exited.message


def test_an_interrupt_on_aws_points_at_status_and_teardown(context, monkeypatch):
    monkeypatch.setenv("INVOKE_WORKSHOP_TARGET", "aws")
    exited = exit_of(interrupted, context)
    assert exited.code == 130
    assert "may still exist on AWS" in exited.message
    assert "`INVOKE_WORKSHOP_TARGET=aws invoke status`" in exited.message
    assert "`INVOKE_WORKSHOP_TARGET=aws invoke teardown`" in exited.message
    assert "emulator" not in exited.message


def test_an_interrupt_still_gets_a_message_when_the_target_cannot_be_asked(context, monkeypatch):
    def broken(self):
        raise OSError("the state folder is gone")

    monkeypatch.setattr(local_target.Emulator, "running", broken)
    exited = exit_of(interrupted, context)
    assert exited.code == 130 and exited.message.startswith("Interrupted.")
