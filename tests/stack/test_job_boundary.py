"""Teardown stops the stack's running tuning and transform jobs and no one else's: a neighbour with the same prefix, one
without the tag, and one with a look-alike tag keep running (on AWS, teardown stops what discovery finds)."""

from __future__ import annotations

import json

import pytest

from vgsales import discovery
from vgsales.context import Context
from vgsales.infra import stack
from vgsales.settings import STACK_TAG

from support.wait import wait_until

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
# The jobs act as this role (the emulator's role_access.py), so it exists, untagged (no stack's), and may use the
# tests' buckets and SageMaker's log groups.
ROLE_NAME = "vgsales-boundary-jobs"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"
ROLE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ROLE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
     "Resource": [f"arn:aws:s3:::vgsales-{kind}-boundary-data{objects}" for kind in ("tuning", "transform", "history")
                  for objects in ("", "/*")]},
    {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
     "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/*"}]}  # fmt: skip
NEIGHBOURS = {
    "vgsales-ci-0101-000000": [{"Key": STACK_TAG, "Value": "vgsales-ci"}],  # another stack, same prefix
    "vgsales-0101-000001": [],  # our prefix, no tag
    "vgsales-0101-000002": [{"Key": STACK_TAG, "Value": "VGSALES"}],  # a value that differs only in case
}
OURS = "vgsales-0101-000003"


def create_training_job(client, name: str, bucket: str, rounds: str, tags: list[dict[str, str]] | None = None) -> None:
    """A training job on the libsvm rows under s3://<bucket>/data/, as ROLE."""
    client.create_training_job(
        TrainingJobName=name, RoleArn=ROLE, Tags=tags or [],
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        HyperParameters={"num_round": rounds, "objective": "binary:logistic"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/", "S3DataDistributionType": "FullyReplicated"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )  # fmt: skip


def create_tuning_job(client, name: str, tags: list[dict[str, str]], bucket: str) -> None:
    """One that runs until it is stopped: its training jobs have a practically endless num_round."""
    channel = lambda channel_name: {  # noqa: E731
        "ChannelName": channel_name, "ContentType": "text/libsvm",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/",
                                        "S3DataDistributionType": "FullyReplicated"}},
    }  # fmt: skip
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ParameterRanges": {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "3"}]},
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"num_round": "100000000", "objective": "binary:logistic"},
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE, "InputDataConfig": [channel("train"), channel("validation")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=tags,
    )  # fmt: skip


def running_children(client, name: str) -> list[str]:
    summaries = client.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    return [job["TrainingJobName"] for job in summaries["TrainingJobSummaries"] if job["TrainingJobStatus"] == "InProgress"]


def completed(client, name: str, timeout: float = 120) -> None:
    def ended() -> str | None:
        status = client.describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
        return None if status == "InProgress" else status

    status = wait_until(ended, timeout=timeout, message=f"training job {name} to end")
    assert status == "Completed", f"training job {name} ended {status}"


@pytest.fixture
def local(make_settings, tmp_path):
    ctx = Context.of(make_settings(tmp_path))
    service = ctx.target.service
    service.start()
    try:
        iam = ctx.aws.client("iam")
        iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="jobs", PolicyDocument=json.dumps(ROLE_POLICY))
        yield ctx
    finally:
        service.stop()


def test_teardown_stops_only_the_stacks_tuning_jobs(local):
    ctx = local
    s3, client = ctx.aws.client("s3"), ctx.aws.client("sagemaker")
    bucket = "vgsales-tuning-boundary-data"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/rows.libsvm", Body=b"1 0:1\n0 0:2\n1 0:3\n0 0:4\n")
    for name, tags in {**NEIGHBOURS, OURS: discovery.stack_tags(ctx.settings)}.items():
        create_tuning_job(client, name, tags, bucket)
    wait_until(lambda: all(running_children(client, name) for name in [*NEIGHBOURS, OURS]), timeout=30,
               message="every tuning job to have a training job running")
    assert [str(r) for r in discovery.find(ctx, ("tuning-job",))] == [f"tuning-job {OURS}"]

    removed = stack.teardown(ctx, keep_emulator=True)

    assert f"tuning-job {OURS}" in removed
    assert client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=OURS)[
        "HyperParameterTuningJobStatus"] == "Stopped"
    assert running_children(client, OURS) == []
    for name in NEIGHBOURS:
        assert client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
            "HyperParameterTuningJobStatus"] == "InProgress", f"teardown stopped the neighbour {name}"
        assert running_children(client, name), f"teardown stopped a training job of the neighbour {name}"
        client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def test_teardown_stops_only_the_stacks_transform_jobs(local):
    """The same boundary for batch transform jobs: ours is stopped, a neighbour's with the same prefix runs on."""
    ctx = local
    s3, client = ctx.aws.client("s3"), ctx.aws.client("sagemaker")
    bucket = "vgsales-transform-boundary-data"
    s3.create_bucket(Bucket=bucket)
    rows = b"1 0:1\n0 0:2\n1 0:3\n0 0:4\n"
    s3.put_object(Bucket=bucket, Key="data/rows.libsvm", Body=rows)
    s3.put_object(Bucket=bucket, Key="big/rows.libsvm", Body=rows * 100_000)  # long enough to be stopped
    create_training_job(client, "vgsales-boundary-model", bucket, rounds="2")
    # A training job that outlasts QUICK_JOB_SECONDS (a busy machine) goes on in the background, and a transform
    # job started before its model exists fails at once: there would be nothing running left to stop.
    completed(client, "vgsales-boundary-model")
    artifact = client.describe_training_job(TrainingJobName="vgsales-boundary-model")["ModelArtifacts"]["S3ModelArtifacts"]
    client.create_model(ModelName="vgsales-ci-boundary-model", ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifact},
                        Tags=[{"Key": STACK_TAG, "Value": "vgsales-ci"}])
    jobs = {"vgsales-transform-ours": discovery.stack_tags(ctx.settings),
            "vgsales-ci-transform-theirs": [{"Key": STACK_TAG, "Value": "vgsales-ci"}]}
    for name, tags in jobs.items():
        client.create_transform_job(
            TransformJobName=name, ModelName="vgsales-ci-boundary-model", BatchStrategy="SingleRecord",
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/big/"}},
                            "ContentType": "text/libsvm", "SplitType": "Line"},
            TransformOutput={"S3OutputPath": f"s3://{bucket}/out/{name}"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1}, Tags=tags,
        )  # fmt: skip
    assert [str(r) for r in discovery.find(ctx, ("transform-job",))] == ["transform-job vgsales-transform-ours"]

    removed = stack.teardown(ctx, keep_emulator=True)

    assert "transform-job vgsales-transform-ours" in removed
    statuses = {name: client.describe_transform_job(TransformJobName=name)["TransformJobStatus"] for name in jobs}
    assert statuses["vgsales-transform-ours"] in ("Stopping", "Stopped")
    assert statuses["vgsales-ci-transform-theirs"] == "InProgress", "teardown stopped a neighbour's transform job"
    client.stop_transform_job(TransformJobName="vgsales-ci-transform-theirs")


def test_a_finished_training_job_is_history_and_only_a_running_one_is_the_stacks(local):
    """SageMaker keeps finished training jobs and they cost nothing: status and teardown list only the stack's
    running ones (near miss: the same stack's job that still runs, listed and stopped)."""
    ctx = local
    s3, client = ctx.aws.client("s3"), ctx.aws.client("sagemaker")
    bucket = "vgsales-history-boundary-data"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/rows.libsvm", Body=b"1 0:1\n0 0:2\n1 0:3\n0 0:4\n")
    for name, rounds in (("vgsales-finished", "2"), ("vgsales-running", "100000000")):
        create_training_job(client, name, bucket, rounds=rounds, tags=discovery.stack_tags(ctx.settings))
    completed(client, "vgsales-finished")

    assert [str(r) for r in discovery.find(ctx, ("training-job",))] == ["training-job vgsales-running"]
    assert [line.name for line in stack.status(ctx) if line.kind == "training-job"] == ["vgsales-running"]
    removed = stack.teardown(ctx, keep_emulator=True)

    assert "training-job vgsales-running" in removed and "training-job vgsales-finished" not in removed
    assert client.describe_training_job(TrainingJobName="vgsales-finished")["TrainingJobStatus"] == "Completed"
