"""moto's reset of the SageMaker backend stops what its jobs run: no job thread, no worker process remains.

The runs belong to the backend (lifecycle.RunRegistry on sagemaker.SageMakerBackend); moto's reset calls reset()
on every backend (moto/core/base_backend.py), which halts them before the backend's state is dropped. The test
uses a region of its own, so that resetting it leaves the other tests' resources alone.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import backend_lock
from moto.sagemaker.models import sagemaker_backends
from sklearn.datasets import make_classification

from vgsales.emulator.sagemaker import SageMakerBackend

from support import datasets
from support.wait import wait_until

REGION = "eu-west-3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
ENDLESS = {"num_round": "100000000", "objective": "binary:logistic", "eval_metric": "auc", "max_depth": "3"}


def libsvm(rows: slice) -> bytes:
    features, labels = make_classification(n_samples=2000, n_features=6, n_informative=4, random_state=3)
    return datasets.libsvm(features[rows], labels[rows])


@pytest.fixture(scope="module")
def bucket(make_bucket):
    return make_bucket("vgsales-reset", {
        "train/part-0.libsvm": libsvm(slice(0, 800)), "train/part-1.libsvm": libsvm(slice(800, 1600)),
        "validation/part-0.libsvm": libsvm(slice(1600, 1800)), "validation/part-1.libsvm": libsvm(slice(1800, 2000)),
    })  # fmt: skip


def channel(bucket: str, name: str) -> dict:
    return {"ChannelName": name, "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}/", "S3DataDistributionType": "ShardedByS3Key"}}}


def definition(bucket: str, instances: int) -> dict:
    return {
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/vgsales-test-sagemaker",
        "InputDataConfig": [channel(bucket, "train"), channel(bucket, "validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def worker_processes(job_name: str) -> list[int]:
    """This machine's `python -m vgsales.emulator.worker` processes of one job (distributed.py names their folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "vgsales.emulator.worker" in command and f"vgsales-{job_name}-" in command:
            found.append(int(entry.name))
    return found


def job_threads(names: list[str]) -> list[str]:
    return [t.name for t in threading.enumerate() if t.is_alive() and any(t.name.endswith(n) for n in names)]


def test_a_reset_mid_job_leaves_nothing_running(aws_env, bucket):
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    single, distributed = (f"vgsales-reset-{uuid.uuid4().hex[:8]}" for _ in range(2))
    sagemaker.create_training_job(TrainingJobName=single, HyperParameters=ENDLESS, **definition(bucket, 1))
    sagemaker.create_training_job(TrainingJobName=distributed, HyperParameters=ENDLESS, **definition(bucket, 2))
    tuning = f"vgsales-reset-{uuid.uuid4().hex[:6]}"
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning,
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]},
        },
        TrainingJobDefinition={**definition(bucket, 1), "StaticHyperParameters": ENDLESS},
    )
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    assert isinstance(backend, SageMakerBackend)

    def names() -> list[str]:
        return [single, distributed, tuning] + [job for job in backend.training_jobs if job.startswith(tuning)]

    try:
        # 3 jobs and a tuning child, each with its thread, and the distributed job's two worker processes.
        wait_until(lambda: len(worker_processes(distributed)) >= 2 and len(backend.runs.running()) >= 4
                   and len(job_threads(names())) == 4, timeout=120,
                   message="the distributed job's two workers, and four runs with their threads")
        running = names()
    finally:  # also when the wait fails: endless jobs must not outlive the test
        with backend_lock:  # moto's reset (BackendDict.reset) resets each backend holding its global lock
            backend.reset()

    assert backend.runs.running() == []
    assert job_threads(running) == []
    assert worker_processes(distributed) == []
    assert backend.training_jobs == {} and backend.hyper_parameter_tuning_jobs == {}
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
