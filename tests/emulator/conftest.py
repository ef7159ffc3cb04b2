"""An in-process emulator for the emulator's own tests; clients find it through the environment."""

from __future__ import annotations

import json
import uuid

import pytest

from vgsales.emulator.server import EmulatorServer

# Jobs and endpoints act as their execution role (role_access.py), so the role the tests name in RoleArn and
# ExecutionRoleArn exists, and may do in any bucket, log group and metric namespace what SageMaker does for a job.
TEST_ROLE_NAME = "vgsales-test-sagemaker"
SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
JOB_ACTIONS = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "logs:CreateLogGroup", "logs:CreateLogStream",
               "logs:PutLogEvents", "cloudwatch:PutMetricData"]  # fmt: skip


@pytest.fixture(scope="session")
def emulator():
    server = EmulatorServer().start()
    create_role(server, TEST_ROLE_NAME, [{"Effect": "Allow", "Action": JOB_ACTIONS, "Resource": "*"}])
    yield server
    server.stop()


def create_role(server: EmulatorServer, name: str, statements: list[dict]) -> str:
    """An execution role that SageMaker may assume, with one inline policy of these statements; returns its ARN."""
    import boto3

    with pytest.MonkeyPatch.context() as patch:
        for variable, value in server.client_env().items():
            patch.setenv(variable, value)
        iam = boto3.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="job", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))  # fmt: skip
    return arn


@pytest.fixture(scope="session")
def make_role(emulator):
    """``make_role(prefix, statements)``: a new execution role named ``<prefix>-<8 hex>`` with those policy
    statements; returns its ARN."""
    return lambda prefix, statements: create_role(emulator, f"{prefix}-{uuid.uuid4().hex[:8]}", statements)


@pytest.fixture
def aws_env(emulator, monkeypatch):
    """Point boto3 and the SDK at the emulator for one test, as a user's shell would; returns the variables it set.

    sagemaker-core caches the clients it builds from the environment in process-wide singletons (its default
    SageMakerClient and CloudWatchLogsClient, sagemaker/core/utils), so they are dropped before and after: a client
    built for another test's emulator (another port, another key) is never reused."""
    env = emulator.client_env()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _drop_sdk_clients()
    yield env
    _drop_sdk_clients()


def _drop_sdk_clients() -> None:
    from sagemaker.core.utils.logs import CloudWatchLogsClient
    from sagemaker.core.utils.utils import SageMakerClient, SingletonMeta

    SageMakerClient.reset()
    SingletonMeta._instances.pop(CloudWatchLogsClient, None)


@pytest.fixture(scope="session")
def make_bucket(emulator):
    """``make_bucket(prefix, {key: body})``: a new bucket on the emulator, named ``<prefix>-<8 hex>``, with those
    objects; for module fixtures, which cannot use ``aws_env``."""
    import boto3

    def make(prefix: str, objects: dict[str, bytes]) -> str:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in emulator.client_env().items():
                patch.setenv(name, value)
            s3 = boto3.client("s3")
            bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
            s3.create_bucket(Bucket=bucket)
            for key, body in objects.items():
                s3.put_object(Bucket=bucket, Key=key, Body=body)
        return bucket

    return make
