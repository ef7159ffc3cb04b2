"""`invoke tune` on one local stack: a real tuning job on the validation split, its best model deployed next,
Ctrl-C and teardown stopping it mid-run, with nothing left running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgsales import discovery
from vgsales.algorithm.tuning import ParameterRange
from vgsales.context import Context
from vgsales.errors import Interrupted
from vgsales.infra import stack
from vgsales.pipeline import data, deploy, evaluate, train, tune
from vgsales.records import StackRecord, TrainingRecord, TuningRecord

from support.stacks import discard
from support.wait import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "data_sha256": "any",  # generated rows, not the workshop's file
    "terraform.create_notebook_instance": False,
    "training.hyperparameters.num_round": 20,
    "tuning.max_jobs": 4,
    "tuning.max_parallel_jobs": 2,
}


@pytest.fixture(scope="module")
def ctx(terraform_available, make_settings, synthetic_dataset_path, tmp_path_factory):
    ctx = Context.of(make_settings(tmp_path_factory.mktemp("state"), data_source=str(synthetic_dataset_path),
                                   name_prefix="vgtune", **SMALL))
    try:
        stack.setup(ctx)
        data.run(ctx)
        train.run(ctx)  # a model deploy would serve, whichever test runs first: an interrupted tune must keep it
        yield ctx
    finally:
        discard(ctx)


def test_tune_runs_real_jobs_and_its_best_is_the_model_deploy_serves(ctx, capsys, monkeypatch):
    printed_before_the_job = []
    create = tune.HyperParameterTuningJob.create

    def creating(**request):
        printed_before_the_job.append(capsys.readouterr().out)
        return create(**request)

    monkeypatch.setattr(tune.HyperParameterTuningJob, "create", creating)
    record = tune.run(ctx)
    output = capsys.readouterr().out
    # What every job of the search is sent, one sorted line each, before the tuning job exists.
    assert ("Static hyperparameters: eval_metric=auc, num_round=20, objective=binary:logistic, scale_pos_weight=2.0\n"
            "Tuned ranges: eta=0.01..0.5 Logarithmic, max_depth=2..10, min_child_weight=1.0..10.0, subsample=0.5..1.0\n"
            ) in printed_before_the_job[0]
    state = ctx.state
    assert state.read(TuningRecord) == record
    sagemaker = ctx.aws.client("sagemaker")
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=record.tuning_job_name)
    children = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=record.tuning_job_name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["TrainingJobSummaries"]
    best = sagemaker.describe_training_job(TrainingJobName=record.best_training_job_name)
    bucket = state.read(StackRecord).bucket_name
    keys = [o["Key"] for o in ctx.aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert record.status_counts["Completed"] == len(children) == 4
    assert children[0]["TrainingJobName"] == record.best_training_job_name == described["BestTrainingJob"]["TrainingJobName"]
    assert record.best_objective_value == children[0]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    # The objective is computed on validation only; the test split was never uploaded.
    assert [c["ChannelName"] for c in best["InputDataConfig"]] == ["train", "validation"]
    assert not any("test" in key for key in keys)
    # The leaderboard: every job, best first, with its tuned hyperparameters.
    assert "Best of tuning job" in output and "max_depth" in output
    assert output.index(f"{children[0]['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f}") < output.index(
        f"{children[-1]['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f}"
    )
    training = state.read(TrainingRecord)
    assert training.training_job_name == record.best_training_job_name and training.tuning_job_name == record.tuning_job_name
    assert training.model_data_url == best["ModelArtifacts"]["S3ModelArtifacts"]
    assert "_tuning_objective_metric" not in training.hyperparameters
    endpoint = deploy.run(ctx)
    assert endpoint.training_job_name == record.best_training_job_name
    capsys.readouterr()
    evaluation = evaluate.run(ctx)
    printed = capsys.readouterr().out
    assert (f"Model: training job {record.best_training_job_name}, the best of tuning job {record.tuning_job_name}\n"
            in printed)
    assert "Evaluation of a tuned model on" in printed
    report = open(evaluation.report_md).read()
    assert record.best_training_job_name in report
    assert "The hyperparameters are the same" not in report
    assert f"since this model is the best training job of tuning job {record.tuning_job_name}: " in report


def test_the_ranges_line_names_each_range_sorted_with_its_bounds_or_values():
    ranges = [
        ParameterRange("objective", "Categorical", values=("binary:logistic", "reg:logistic")),
        ParameterRange("max_depth", "Integer", low=2, high=10),
        ParameterRange("eta", "Continuous", low=0.01, high=0.5, scaling="Logarithmic"),
    ]
    assert tune.describe_ranges(ranges) == (
        "eta=0.01..0.5 Logarithmic, max_depth=2..10, objective=[binary:logistic, reg:logistic]"
    )


def test_the_ranges_line_prints_a_categorical_range_whole():
    """rich reads "[binary:logistic, reg:logistic]" as a style tag and drops it unless markup is off."""
    from vgsales.output import console

    ranges = [ParameterRange("objective", "Categorical", values=("binary:logistic", "reg:logistic"))]
    with console.capture() as captured:
        tune.announce({"num_round": "100", "eval_metric": "auc"}, ranges)
    assert captured.get() == (
        "Static hyperparameters: eval_metric=auc, num_round=100\n"
        "Tuned ranges: objective=[binary:logistic, reg:logistic]\n"
    )


def _a_child_runs(client, name: str) -> bool:
    """Whether the tuning job ``name`` has a training job InProgress."""
    try:
        jobs = client.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except client.exceptions.ResourceNotFound:
        return False
    return any(job["TrainingJobStatus"] == "InProgress" for job in jobs["TrainingJobSummaries"])


def _nothing_runs(ctx) -> None:
    assert discovery.find(ctx, ("tuning-job", "training-job")) == []


def test_ctrl_c_stops_the_tuning_job_and_keeps_the_model(ctx, make_settings, monkeypatch):
    settings = ctx.settings
    slow = Context.of(make_settings(settings.state_dir, data_source=settings.data_source, name_prefix="vgtune",
                                    **{**SMALL, "training.hyperparameters.num_round": 10_000_000}))
    before = ctx.state.read(TrainingRecord)
    name = "vgtune-ctrl-c"
    monkeypatch.setattr(tune, "tuning_job_name", lambda prefix: name)
    real_follow = tune._follow

    def follow(job, total, poll):
        client = slow.aws.client("sagemaker")
        wait_until(lambda: _a_child_runs(client, name), timeout=60, message=f"a training job of {name} InProgress")
        raise KeyboardInterrupt  # Ctrl-C while the child trains

    monkeypatch.setattr(tune, "_follow", follow)
    with pytest.raises(Interrupted, match="was asked to stop, and it stops its running training jobs"):
        tune.run(slow)
    monkeypatch.setattr(tune, "_follow", real_follow)
    client = ctx.aws.client("sagemaker")

    def ended() -> str | None:
        status = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
            "HyperParameterTuningJobStatus"]
        return None if status in ("InProgress", "Stopping") else status

    status = wait_until(ended, timeout=30, message=f"tuning job {name} to end")
    assert status == "Stopped"
    _nothing_runs(ctx)
    assert ctx.state.read(TrainingRecord) == before, "an interrupted tune leaves the model deploy serves"


def test_teardown_stops_a_running_tuning_job_and_its_training_jobs(make_settings, synthetic_dataset_path, tmp_path_factory,
                                                                terraform_available):
    """`invoke tune` runs in one process (a terminal), `teardown` in another, as a user would run them."""
    state = tmp_path_factory.mktemp("teardown")
    changes = {"name_prefix": "vgtunedown", **SMALL, "training.hyperparameters.num_round": 10_000_000}
    ctx = Context.of(make_settings(state, data_source=str(synthetic_dataset_path), **changes))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("INVOKE_WORKSHOP_", "AWS_"))}
    env.update({f"INVOKE_WORKSHOP_{key.upper().replace('.', '_')}": str(value) for key, value in changes.items()})
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(state), INVOKE_WORKSHOP_DATA_SOURCE=str(synthetic_dataset_path))
    try:
        stack.setup(ctx)
        tuning = subprocess.Popen([sys.executable, "-m", "invoke", "tune"], cwd=PROJECT_ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            client = ctx.aws.client("sagemaker")

            def a_job_runs() -> bool:
                assert tuning.poll() is None, tuning.stdout and tuning.stdout.read()
                pages = client.get_paginator("list_training_jobs").paginate(NameContains="vgtunedown-")
                jobs = [job for page in pages for job in page["TrainingJobSummaries"]]
                return any(job["TrainingJobStatus"] == "InProgress" for job in jobs)

            wait_until(a_job_runs, timeout=120, message="a training job of `invoke tune` InProgress")
            name = client.list_hyper_parameter_tuning_jobs(NameContains="vgtunedown-")[
                "HyperParameterTuningJobSummaries"][0]["HyperParameterTuningJobName"]
            removed = stack.teardown(ctx, keep_emulator=True)
            output, _ = tuning.communicate(timeout=60)
            assert f"tuning-job {name}" in removed
            assert tuning.returncode == 1 and "ended Stopped" in output, output
            assert client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
                "HyperParameterTuningJobStatus"] == "Stopped"
            children = client.list_training_jobs_for_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name)["TrainingJobSummaries"]
            reasons = {job["TrainingJobName"]: job.get("FailureReason") for job in children}
            assert {job["TrainingJobStatus"] for job in children} == {"Stopped"}, reasons
            _nothing_runs(ctx)
        finally:
            if tuning.poll() is None:
                tuning.kill()
                tuning.wait()
    finally:
        discard(ctx)
