"""Teardown of the lifecycle stack with its local state gone, and teardown again and again: it must find everything
on the target, leave nothing, and say so plainly when there is nothing left.

Each test sets up what it needs: the stack with an endpoint (``lifecycle_stack.ensure``), whatever the interrupt
tests left on it or set up afresh; a stack already torn down, or torn down here first (``_torn_down``).

On the local target the emulator is the target; its connection files (emulator.json, the CA) play the part that
AWS credentials play on the aws target, so they stay while the Terraform state and every record go.
"""

from __future__ import annotations

from vgsales.infra import stack as infra
from vgsales.infra import terraform
from vgsales.records import RECORDS, StackRecord


def test_teardown_without_local_state_removes_everything_by_discovery(lifecycle_stack, harness, trust_doc):
    stack = lifecycle_stack
    stack.ensure("endpoint")
    before = stack.inventory()
    for kind in (
        "bucket",
        "object",
        "role",
        "inline-policy",
        "lifecycle-config",
        "notebook-instance",
        "model",
        "endpoint-config",
        "endpoint",
    ):
        assert harness.of_kind(before, kind), f"the stack should have a {kind} to lose track of: {before}"
    state = stack.state()
    terraform.discard_state(state.terraform_dir)
    state.forget(*RECORDS)
    assert terraform.recorded_resources(terraform.state_file(state.terraform_dir)) == []

    removed = infra.teardown(stack.context(), keep_emulator=True)
    left = stack.inventory()
    assert left == [], f"teardown left {left}"
    assert stack.emulator() is not None, "kept for this inspection"
    for kind in ("endpoint", "endpoint-config", "model", "notebook-instance", "lifecycle-config", "role", "bucket"):
        assert any(item.startswith(f"{kind} ") for item in removed), f"no {kind} in {removed}"
    trust_doc.fault("state-lost", stray=left)


def _torn_down(stack) -> None:
    """The starting point of a second teardown: a stack that a teardown has removed, its emulator still running.
    Torn down here with `invoke teardown --keep-emulator`, and checked, unless it already is (as the test above
    leaves it)."""
    if stack.emulator() is not None and not stack.state().has(StackRecord) and stack.inventory() == []:
        return
    stack.ready()
    first = stack.cli("teardown", "--keep-emulator")
    assert first.returncode == 0, first.describe()
    assert "terraform destroy" in first.stdout and "Teardown complete" in first.stdout, first.describe()
    assert "Traceback" not in first.output
    assert stack.inventory() == []


def test_teardown_twice_exits_0_and_says_nothing_is_left(lifecycle_stack, trust_doc):
    stack = lifecycle_stack
    _torn_down(stack)
    again = stack.cli("teardown", "--keep-emulator")
    assert again.returncode == 0, again.describe()
    assert "Nothing to tear down: no resources of this stack were found." in again.stdout, again.describe()
    left = stack.inventory()
    assert left == []

    stopping = stack.cli("teardown")  # stops the (empty) emulator too
    assert stopping.returncode == 0 and stack.emulator() is None, stopping.describe()
    gone = stack.cli("teardown")
    assert gone.returncode == 0, gone.describe()
    assert "Nothing to tear down: the local AWS emulator is not running and no local state is left." in gone.stdout
    assert "Traceback" not in again.output + stopping.output + gone.output
    trust_doc.fault("teardown-twice", stray=left)
