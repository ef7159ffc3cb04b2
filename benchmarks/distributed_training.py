"""Multi-instance training on the emulator: rows/s, wall time, peak memory per worker and AUC, by data size and hosts.

    python benchmarks/distributed_training.py [--scales 10 100] [--instances 1 2 4]

The data has the real schema: the workshop's train split (5,614 rows, 331 features after preprocessing),
resampled with replacement to 10x and 100x its rows, with the two review scores jittered so that rows are not
plain copies; 10 % more rows are generated the same way and held out to measure the test ROC AUC. Each
configuration is a training job with the workshop's hyperparameters on an in-process emulator, its train channel
written as one libsvm object per instance (as `invoke data` writes it), ShardedByS3Key. Wall time is the job's own,
from creation to end; peak memory is each worker's peak resident set (the job's log says it). One instance
trains in the emulator's own process, where its memory cannot be told apart.

This machine has 2 cores: from 2 hosts on, the workers share them, so more hosts only add coordination.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATASET, console, create_job_role, machine, print_table  # noqa: E402

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
PEAK = re.compile(r"peak resident memory (\d+) MiB")


def generated(scale: int, seed: int = 7):
    """(train features, train labels, test features, test labels): the real train split resampled ``scale`` times."""
    import numpy as np
    import scipy.sparse

    from vgsales import dataset, features

    prepared = features.prepare(dataset.load(SHARED_DATASET))
    frame = prepared.train
    matrix = frame.loc[:, list(prepared.feature_names)].to_numpy(dtype=np.float32)
    labels = frame["label"].to_numpy(dtype=np.float32)
    rng = np.random.default_rng(seed)
    critic, user = (prepared.feature_names.index(name) for name in ("Critic_Score", "User_Score"))

    def sample(rows: int):
        picked = rng.integers(0, len(labels), rows)
        x = matrix[picked].copy()
        x[:, critic] = np.clip(x[:, critic] + rng.normal(0, 2, rows), 1, 100).round()
        x[:, user] = np.clip(x[:, user] + rng.normal(0, 0.3, rows), 0.1, 10).round(1)
        return scipy.sparse.csr_matrix(x), labels[picked]

    train = sample(len(labels) * scale)
    test = sample(len(labels) * scale // 10)
    return (*train, *test)


def libsvm_shards(x, y, shards: int) -> list[bytes]:
    from sklearn.datasets import dump_svmlight_file

    bounds = [round(len(y) * i / shards) for i in range(shards + 1)]
    out = []
    for start, stop in zip(bounds, bounds[1:]):
        buffer = io.BytesIO()
        dump_svmlight_file(x[start:stop], y[start:stop], buffer, zero_based=True)
        out.append(buffer.getvalue())
    return out


def run_job(s3, sagemaker, logs, bucket: str, prefix: str, instances: int) -> tuple[float, list[float], bytes]:
    name = f"bench-{prefix.replace('/', '-')}-{instances}-{int(time.time())}"
    channel = {"ChannelName": "train", "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/", "S3DataDistributionType": "ShardedByS3Key"}}}
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/vgsales-bench",
        HyperParameters={"max_depth": "3", "eta": "0.1", "eval_metric": "auc", "scale_pos_weight": "2.0",
                         "subsample": "0.5", "objective": "binary:logistic", "num_round": "100"},
        InputDataConfig=[channel],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    while (job := sagemaker.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] == "InProgress":
        time.sleep(0.2)
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    wall = (job["TrainingEndTime"] - job["CreationTime"]).total_seconds()
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/")
    peaks = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"])
        peaks += [float(m.group(1)) for e in events["events"] if (m := PEAK.search(e["message"]))]
    key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix(f"s3://{bucket}/")
    return wall, peaks, s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_auc(archive: bytes, x, y) -> float:
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    booster = xgb.Booster()
    booster.load_model(bytearray(tarfile.open(fileobj=io.BytesIO(archive)).extractfile("xgboost-model").read()))
    return float(roc_auc_score(y, booster.predict(xgb.DMatrix(x))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    import boto3

    from vgsales.emulator.server import EmulatorServer

    console.print(f"Machine: {machine()}")
    server = EmulatorServer().start()
    rows_out = []
    try:
        os.environ.update(server.client_env())
        s3, sagemaker, logs = boto3.client("s3"), boto3.client("sagemaker"), boto3.client("logs")
        bucket = "vgsales-bench-distributed"
        s3.create_bucket(Bucket=bucket)
        create_job_role(boto3.client("iam"), "vgsales-bench", bucket)
        for scale in args.scales:
            x, y, x_test, y_test = generated(scale)
            for instances in args.instances:
                prefix = f"x{scale}/{instances}"
                for index, body in enumerate(libsvm_shards(x, y, instances)):
                    s3.put_object(Bucket=bucket, Key=f"{prefix}/train-{index + 1}-of-{instances}.libsvm", Body=body)
                wall, peaks, archive = run_job(s3, sagemaker, logs, bucket, prefix, instances)
                memory = f"{max(peaks):.0f}" if peaks else "n/a (in the emulator)"
                rows_out.append([f"{scale}x ({len(y):,} rows)", str(instances), f"{wall:.1f}", f"{len(y) / wall:,.0f}",
                                 memory, f"{test_auc(archive, x_test, y_test):.4f}"])
                console.print(rows_out[-1])
    finally:
        server.stop()
    print_table("Multi-instance training on the emulator (100 rounds, the workshop's hyperparameters)",
                ["data", "hosts", "wall s", "rows/s", "peak MiB per worker", "test ROC AUC"], rows_out)


if __name__ == "__main__":
    main()
