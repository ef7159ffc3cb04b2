"""Teardown of the shared stack with its local state gone, then again and again: it must find everything on the
target, leave nothing, and say so plainly when there is nothing left.

On the local target the emulator is the target; its connection files (emulator.json, the CA) play the part that
AWS credentials play on the aws target, so they stay while the Terraform state and every record go.
"""

from __future__ import annotations

from vgsales.infra import stack as infra
from vgsales.infra import terraform
from vgsales.records import RECORDS


def test_teardown_without_local_state_removes_everything_by_discovery(shared_stack, harness, trust_record):
    shared_stack.ensure("endpoint")
    before = shared_stack.inventory()
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
    state = shared_stack.state()
    terraform.discard_state(state.terraform_dir)
    state.forget(*RECORDS)
    assert terraform.recorded_resources(terraform.state_file(state.terraform_dir)) == []

    removed = infra.teardown(shared_stack.context(), keep_emulator=True)
    left = shared_stack.inventory()
    assert left == [], f"teardown left {left}"
    assert shared_stack.emulator() is not None, "kept for this inspection"
    for kind in ("endpoint", "endpoint-config", "model", "notebook-instance", "lifecycle-config", "role", "bucket"):
        assert any(item.startswith(f"{kind} ") for item in removed), f"no {kind} in {removed}"
    trust_record.fault("state-lost", recovered=True, stray=left)


def test_teardown_twice_exits_0_and_says_nothing_is_left(shared_stack, trust_record):
    again = shared_stack.cli("teardown", "--keep-emulator")
    assert again.returncode == 0, again.describe()
    assert "Nothing to tear down: no resources of this stack were found." in again.stdout, again.describe()
    left = shared_stack.inventory()
    assert left == []

    stopping = shared_stack.cli("teardown")  # stops the (empty) emulator too
    assert stopping.returncode == 0 and shared_stack.emulator() is None, stopping.describe()
    gone = shared_stack.cli("teardown")
    assert gone.returncode == 0, gone.describe()
    assert "Nothing to tear down: the local AWS emulator is not running and no local state is left." in gone.stdout
    assert "Traceback" not in again.output + stopping.output + gone.output
    trust_record.fault("teardown-twice", recovered=True, stray=left)
    trust_record.teardown("shared", left)
