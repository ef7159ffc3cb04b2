"""Interrupts and a crashed emulator, on a stack of their own, driven through the real `invoke` CLI.

One user's bad afternoon, in order: Ctrl-C during `train`; the emulator killed half-way through `deploy`;
Ctrl-C during the `setup` that starts over; `setup` again; the pipeline again; `teardown`. After each step the
emulator must hold exactly what the stack should, and after teardown nothing at all.
"""

from __future__ import annotations

import dataclasses
import json

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


@pytest.fixture(scope="module")
def cli_stack(harness, tmp_path_factory, shared_dataset, terraform_available):
    stack = harness.LocalStack(tmp_path_factory.mktemp("interrupts-stack"), shared_dataset)
    setup = stack.cli("setup")
    assert setup.returncode == 0, setup.describe()
    yield stack
    stack.stop_emulator()


def _pipeline(stack, harness) -> list[str]:
    found = stack.inventory()
    return [
        f"{kind} {name}"
        for kind in ("model", "endpoint-config", "endpoint", "running-training-job")
        for name in harness.of_kind(found, kind)
    ]


def test_ctrl_c_during_train_stops_the_job(cli_stack, harness, trust_record):
    following = harness.Following(cli_stack.start_cli("train", **LONG_TRAINING))
    running = wait_until(cli_stack.running_training_jobs, timeout=120, message="a running training job")
    following.interrupt()
    assert following.finish() == Interrupted.exit_code == 130, following.output  # as any interrupted command
    job = running[0]
    assert f"Interrupted: training job {job} was asked to stop, so it stops billing." in following.output
    assert "Traceback" not in following.output
    with cli_stack.aws() as aws:

        def settled() -> str | None:
            status = aws.sagemaker.describe_training_job(TrainingJobName=job)["TrainingJobStatus"]
            return None if status in ("InProgress", "Stopping") else status

        status = wait_until(settled, timeout=30, message=f"training job {job} to stop")
    assert status == "Stopped"
    assert not cli_stack.state().has(TrainingRecord), "an interrupted job must not be recorded for deploy"

    ctx = cli_stack.context()
    data.run(ctx)  # `invoke train` again, its pre-task included
    assert train.run(ctx).final_metrics["validation:auc"] > 0.8
    trust_record.fault("train-interrupted", recovered=True, stray=_pipeline(cli_stack, harness))


def test_the_emulator_killed_in_the_middle_of_deploy(cli_stack, harness):
    cli_stack.ensure("training")
    prelude = KILL_BEFORE_ENDPOINT.format(info_file=str(cli_stack.emulator_dir / "emulator.json"))
    # No retry setting from outside: the local target's connection gives sagemaker-core's clients their attempts too.
    killed = cli_stack.cli("deploy", prelude=prelude)
    assert killed.returncode == 1, killed.describe()
    assert "Traceback" not in killed.output
    assert "Error: The local AWS emulator stopped while the task was running" in killed.stderr, killed.describe()
    assert "Run `invoke setup` to start over" in killed.stderr
    assert "Creating endpoint config" in killed.stdout, "the kill must come after the endpoint config"
    assert cli_stack.emulator() is None

    status = cli_stack.cli("status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout) == {"resources": []}, status.describe()


def test_ctrl_c_during_setup_then_setup_again_converges(cli_stack, harness, trust_record):
    assert cli_stack.emulator() is None, "this step starts over from the killed emulator"
    # The user starts the emulator by hand, so it is theirs: an interrupted setup leaves it running, with what
    # the cut-off apply created (a setup that started the emulator itself stops it: tests/stack/test_setup_failure.py).
    started = cli_stack.cli("emulator.start")
    assert started.returncode == 0, started.describe()
    # The dead emulator's state is noticed and said so plainly, before the new one starts.
    assert "Discarding the stale local state" in started.stdout, started.describe()
    following = harness.Following(cli_stack.start_cli("setup"))
    following.wait_for("terraform init")
    wait_until(cli_stack.inventory, timeout=60, message="a first resource of the interrupted setup")
    following.interrupt()
    assert following.finish() == 130, following.output
    emulator = cli_stack.emulator()
    assert emulator is not None, "an emulator the user started stays up"
    assert "Interrupted. What was created so far is on the target, and the local AWS emulator is still running" in (
        following.output
    )
    assert f"(pid {emulator.pid}, at {emulator.url})" in following.output and "invoke teardown" in following.output
    assert "Traceback" not in following.output

    again = cli_stack.cli("setup")
    assert again.returncode == 0, again.describe()
    ctx = cli_stack.context()
    plan = infra.terraform_stack(ctx).plan(infra.terraform_variables(ctx))
    assert not plan.has_changes, plan.text
    found = cli_stack.inventory()
    for kind in ("bucket", "role", "lifecycle-config", "notebook-instance"):
        assert len(harness.of_kind(found, kind)) == 1, found
    stray = [
        item for item in found if item.split()[0] in ("model", "endpoint-config", "endpoint", "running-training-job")
    ]
    trust_record.fault("setup-interrupted", recovered=True, stray=stray)


def test_setup_clears_untracked_leftovers_locally_and_refuses_them_on_aws(cli_stack, harness):
    """What a cut-off apply leaves without recording it, made on purpose (the interrupt above may miss it)."""
    ctx = cli_stack.context()
    settings = ctx.settings
    leftover = f"{settings.name_prefix}-leftover"
    with cli_stack.aws() as aws:
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
    assert f"role {leftover}" in cli_stack.inventory(), "on AWS, nothing is removed before a person looks"
    infra._clear_untracked(ctx, tracked)
    assert f"role {leftover}" not in cli_stack.inventory()


def test_the_recovered_stack_serves_and_teardown_leaves_nothing(cli_stack, harness, trust_record):
    ctx = cli_stack.context()
    data.run(ctx)
    train.run(ctx)
    record = deploy.run(ctx)
    expected = {
        f"model {record.model_name}",
        f"endpoint-config {record.endpoint_config_name}",
        f"endpoint {record.endpoint_name}",
    }
    trust_record.fault("emulator-killed", recovered=True, stray=sorted(set(_pipeline(cli_stack, harness)) - expected))

    teardown = cli_stack.cli("teardown", "--keep-emulator")
    assert teardown.returncode == 0, teardown.describe()
    assert "terraform destroy" in teardown.stdout and "Teardown complete" in teardown.stdout
    left = cli_stack.inventory()
    assert left == [], left
    trust_record.teardown("interrupts", left)
    stopped = cli_stack.cli("emulator.stop")
    assert stopped.returncode == 0 and cli_stack.emulator() is None, stopped.describe()
