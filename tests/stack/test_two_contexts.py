"""Two contexts side by side in one process: two stacks in two threads, and the two targets at once.

Before contexts, choosing a target rewrote os.environ for the whole process, so a thread's clients took whatever
target another thread had activated last. Each context now carries its own clients and Terraform environment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest

from vgsales import discovery, targets
from vgsales.context import Context
from vgsales.errors import WorkshopError
from vgsales.infra import stack
from vgsales.pipeline import data, train
from vgsales.records import StackRecord, TrainingRecord


def _stack_settings(make_settings, tmp_path, prefix: str, dataset, **changes):
    return make_settings(
        tmp_path / prefix,
        name_prefix=prefix,
        data_source=str(dataset),
        data_sha256="any",  # generated rows, not the workshop's file
        **{"terraform.create_notebook_instance": False, "training.hyperparameters.num_round": "5", **changes},
    )


def in_threads(action: Callable[[Context], Any], contexts: dict[str, Context]) -> dict[str, Any]:
    """``action(ctx)`` for each context at once, one thread each: what each returned or raised, by prefix."""
    outcomes: dict[str, Any] = {}

    def run(prefix: str, ctx: Context) -> None:
        try:
            outcomes[prefix] = action(ctx)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcomes[prefix] = exc

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in contexts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return outcomes


def test_two_stacks_set_up_train_and_tear_down_in_two_threads_of_one_process(
    terraform_available, make_settings, synthetic_dataset_path, tmp_path
):
    """Each thread's emulator, bucket, training job and Terraform state are its own, though both run at once."""
    contexts = {
        prefix: Context.of(_stack_settings(make_settings, tmp_path, prefix, synthetic_dataset_path))
        for prefix in ("vgleft", "vgright")
    }
    environment_before = dict(os.environ)
    barrier = threading.Barrier(len(contexts))

    def set_up_and_train(ctx: Context) -> tuple[StackRecord, TrainingRecord]:
        barrier.wait(timeout=60)  # both setups start together, so their calls interleave
        record = stack.setup(ctx)
        data.run(ctx)
        return record, train.run(ctx)

    try:
        outcomes = in_threads(set_up_and_train, contexts)
        failures = {prefix: outcome for prefix, outcome in outcomes.items() if isinstance(outcome, BaseException)}
        assert not failures, failures
        assert set(outcomes) == set(contexts)
        for prefix, ctx in contexts.items():
            stack_record, training = outcomes[prefix]
            other = contexts["vgright" if prefix == "vgleft" else "vgleft"]
            assert stack_record.bucket_name.startswith(f"{prefix}-")
            assert isinstance(training, TrainingRecord) and training.training_job_name.startswith(f"{prefix}-xgb-")
            # The job is on this context's emulator, and the other emulator never heard of it.
            sagemaker = ctx.aws.client("sagemaker")
            assert sagemaker.describe_training_job(TrainingJobName=training.training_job_name)["TrainingJobStatus"] == "Completed"
            with pytest.raises(sagemaker.exceptions.ClientError, match="not found|does not exist|Could not find"):
                other.aws.client("sagemaker").describe_training_job(TrainingJobName=training.training_job_name)
            assert ctx.aws.connection.endpoint_url != other.aws.connection.endpoint_url
            assert {found.kind for found in discovery.find(ctx)} >= {"bucket", "role"}
        assert dict(os.environ) == environment_before, "no context changed the process's environment"
    finally:
        # In two threads too, as the name says: both end without an error, each with its own emulator stopped.
        torn_down = in_threads(stack.teardown, contexts)
    assert not [outcome for outcome in torn_down.values() if isinstance(outcome, BaseException)], torn_down
    for ctx in contexts.values():
        assert not ctx.target.service.is_up()


def test_a_local_and_an_aws_context_side_by_side(make_settings, tmp_path, monkeypatch):
    """The aws context's clients go to AWS's own hostnames for its region; the local one's to its emulator. Building
    both sends no request and changes nothing of the environment."""
    monkeypatch.delenv(targets.TARGET_VARIABLES, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    local = Context.of(make_settings(tmp_path / "local-state"))
    aws = Context.of(make_settings(tmp_path / "aws-state", target="aws", region="eu-west-1"))
    before = dict(os.environ)
    local.target.service.start()
    try:
        assert local.aws.client("s3").meta.endpoint_url == local.target.service.running().url
        assert aws.aws.client("s3").meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
        assert aws.aws.client("sagemaker").meta.endpoint_url == "https://api.sagemaker.eu-west-1.amazonaws.com"
        # A real answer from the emulator, signed with the emulator's key that the context read from its state.
        assert local.aws.client("sts").get_caller_identity()["Arn"].startswith("arn:aws:")
        assert dict(os.environ) == before
    finally:
        local.target.service.stop()


def test_the_aws_target_refuses_a_shell_pointed_at_the_emulator(make_settings, tmp_path, monkeypatch):
    """`eval "$(invoke emulator.env)"` left the emulator's key in the shell: the aws target would sign with it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000001")
    monkeypatch.setenv(targets.TARGET_VARIABLES, "AWS_ACCESS_KEY_ID," + targets.TARGET_VARIABLES)
    aws = Context.of(make_settings(tmp_path, target="aws"))
    with pytest.raises(WorkshopError, match=r"This shell points AWS clients at the local emulator.*Nothing was run"):
        aws.aws.client("sts")
    monkeypatch.setenv(targets.TARGET_VARIABLES, "")  # near miss: the variable set but naming nothing
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert aws.aws.client("sts").meta.region_name == aws.region
