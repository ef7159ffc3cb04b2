"""Interrupts and a crashed emulator on the lifecycle stack, driven through the real `invoke` CLI.

Each test sets up what it needs (``lifecycle_stack.ready()``) or starts from nothing on purpose, and leaves the
stack set up: Ctrl-C during `setup` on an emulator the user started, then `setup` again; Ctrl-C during `train`;
untracked leftovers of a cut-off apply; the emulator killed half-way through `deploy`, then `setup` and the
pipeline again. After each, the emulator must hold exactly what the stack's records say.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from vgsales import targets
from vgsales.context import Context
from vgsales.errors import Interrupted, WorkshopError
from vgsales.infra import stack as infra
from vgsales.pipeline import data, deploy, train
from vgsales.records import TrainingRecord
from vgsales.settings import STACK_TAG
from vgsales.state import RunState

from support.wait import wait_until

# Ctrl-C must land while the job runs: 100,000 rounds take minutes where the default 100 take a second.
LONG_TRAINING = {"INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_NUM_ROUND": "100000"}
# Kill the emulator at a fixed point of `invoke deploy`: after the model and endpoint config exist, as the
# endpoint is created. Runs in the invoke process before the task, so the rest is the real CLI.
KILL_BEFORE_ENDPOINT = """
import json, os, signal
from sagemaker.core.resources import Endpoint
_create = Endpoint.create.__func__
def _killing_create(cls, *args, **kwargs):
    info = json.load(open({info_file!r}))
    os.kill(info["pid"], signal.SIGKILL)
    return _create(cls, *args, **kwargs)
Endpoint.create = classmethod(_killing_create)
"""


READ_ONLY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
)


def _record_text(stack, kind) -> str | None:
    path = stack.state().path(kind)
    return path.read_text() if path.is_file() else None


# In file order, the first test builds the stack that the others then find set up (each would set it up itself).


def terraform_processes(state_dir: Path) -> list[str]:
    """Terraform and provider processes working in this state folder (the provider runs from its TF_DATA_DIR)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "terraform" in command and str(Path(state_dir).resolve()) in command:
            found.append(command[:200])
    return found


def test_ctrl_c_during_setup_then_setup_again_converges(lifecycle_stack, harness, trust_doc):
    stack = lifecycle_stack
    # The user starts the emulator by hand, so it is theirs: an interrupted setup leaves it running, with what
    # the cut-off apply created (a setup that started the emulator itself stops it: tests/stack/test_setup_failure.py).
    # It starts empty: whatever another test left on this stack goes with the emulator that held it.
    stack.stop_emulator()
    started = stack.cli("emulator.start")
    assert started.returncode == 0, started.describe()
    assert stack.inventory() == [], "the interrupted setup starts on an empty emulator"
    following = harness.Following(stack.start_cli("setup"))
    following.wait_for("terraform init")
    wait_until(stack.inventory, timeout=60, message="a first resource of the interrupted setup")
    following.interrupt()
    assert following.finish() == 130, following.output
    # The task ends after Terraform has stopped: neither it nor its provider plugin outlives the interrupt.
    assert terraform_processes(stack.state_dir) == [], "a Terraform process outlived the interrupted setup"
    emulator = stack.emulator()
    assert emulator is not None, "an emulator the user started stays up"
    assert "Interrupted. What was created so far is on the target, and the local AWS emulator is still running" in (
        following.output
    )
    assert f"(pid {emulator.pid}, at {emulator.url})" in following.output and "invoke teardown" in following.output
    assert "Traceback" not in following.output

    again = stack.cli("setup")
    assert again.returncode == 0, again.describe()
    ctx = stack.context()
    plan = infra.terraform_stack(ctx).plan(infra.terraform_variables(ctx))
    assert not plan.has_changes, plan.text
    found = stack.inventory()
    for kind in ("bucket", "role", "lifecycle-config", "notebook-instance"):
        assert len(harness.of_kind(found, kind)) == 1, found
    trust_doc.fault("setup-interrupted", stray=stack.pipeline_resources())  # a new emulator: none at all


def test_ctrl_c_during_train_stops_the_job(lifecycle_stack, harness, trust_doc):
    stack = lifecycle_stack
    stack.ready()
    trained_before = _record_text(stack, TrainingRecord)
    before = stack.pipeline_resources()  # training touches no endpoint: after the recovery, this and nothing more
    following = harness.Following(stack.start_cli("train", **LONG_TRAINING))
    running = wait_until(stack.running_training_jobs, timeout=120, message="a running training job")
    following.interrupt()
    assert following.finish() == Interrupted.exit_code == 130, following.output  # as any interrupted command
    job = running[0]
    assert f"Interrupted: training job {job} was asked to stop, so it stops billing." in following.output
    assert "Traceback" not in following.output
    with stack.aws() as aws:

        def settled() -> str | None:
            status = aws.sagemaker.describe_training_job(TrainingJobName=job)["TrainingJobStatus"]
            return None if status in ("InProgress", "Stopping") else status

        status = wait_until(settled, timeout=30, message=f"training job {job} to stop")
    assert status == "Stopped"
    assert _record_text(stack, TrainingRecord) == trained_before, "an interrupted job must not be recorded for deploy"

    ctx = stack.context()
    data.run(ctx)  # `invoke train` again, its pre-task included
    assert train.run(ctx).final_metrics["validation:auc"] > 0.8
    trust_doc.fault("train-interrupted", stray=sorted(set(stack.pipeline_resources()) - set(before)))


def test_setup_clears_untracked_leftovers_locally_and_refuses_them_on_aws(lifecycle_stack, harness):
    """What a cut-off apply leaves without recording it, made on purpose (an interrupt may miss it)."""
    stack = lifecycle_stack
    stack.ready()
    ctx = stack.context()
    settings = ctx.settings
    leftover = f"{settings.name_prefix}-leftover"
    with stack.aws() as aws:
        aws.iam.create_role(
            RoleName=leftover, AssumeRolePolicyDocument="{}", Tags=[{"Key": STACK_TAG, "Value": settings.name_prefix}]
        )
        aws.iam.put_role_policy(RoleName=leftover, PolicyName="inline", PolicyDocument=READ_ONLY)
    tracked = infra.terraform_stack(ctx)
    # The same stack judged as if it were on AWS: the aws target's rules, with clients that reach this emulator.
    aws_settings = dataclasses.replace(settings, target="aws")
    on_aws = dataclasses.replace(targets.of(aws_settings), service=ctx.target.service)
    with pytest.raises(WorkshopError) as refused:
        infra._clear_untracked(Context(aws_settings, on_aws, RunState(aws_settings)), tracked)
    assert f"role {leftover}" in str(refused.value) and "Run `invoke teardown`" in str(refused.value)
    assert "The aws target already has resources" in str(refused.value)
    assert f"role {leftover}" in stack.inventory(), "on AWS, nothing is removed before a person looks"
    infra._clear_untracked(ctx, tracked)
    assert f"role {leftover}" not in stack.inventory()


def test_the_emulator_killed_in_the_middle_of_deploy_then_setup_starts_over(lifecycle_stack, trust_doc):
    stack = lifecycle_stack
    stack.ensure("training")
    stack.remove_endpoint()  # the kill comes as `deploy` creates the endpoint, so there must be none yet
    prelude = KILL_BEFORE_ENDPOINT.format(info_file=str(stack.emulator_dir / "emulator.json"))
    # No retry setting from outside: the local target's connection gives sagemaker-core's clients their attempts too.
    killed = stack.cli("deploy", prelude=prelude)
    assert killed.returncode == 1, killed.describe()
    assert "Traceback" not in killed.output
    assert "Error: The local AWS emulator stopped while the task was running" in killed.stderr, killed.describe()
    assert "Run `invoke setup` to start over" in killed.stderr
    assert "Creating endpoint config" in killed.stdout, "the kill must come after the endpoint config"
    assert stack.emulator() is None

    status = stack.cli("status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout) == {"resources": []}, status.describe()

    # Recovery, as the message says: `invoke setup` notices the dead emulator, starts over, then `invoke train deploy`.
    again = stack.cli("setup")
    assert again.returncode == 0, again.describe()
    assert "Discarding the stale local state" in again.stdout, again.describe()
    ctx = stack.context()
    data.run(ctx)
    train.run(ctx)
    deploy.run(ctx)
    trust_doc.fault("emulator-killed", stray=stack.serving_exactly())
