"""What the emulator adds over plain XGBoost: one training job, and endpoint requests of 100 rows.

    python benchmarks/emulator_overhead.py [--jobs 3] [--requests 300]

Training: CreateTrainingJob to Completed (polled every 20 ms) against xgboost.train in this process on the
same libsvm files, with the workshop's hyperparameters. Hosting: sequential InvokeEndpoint calls with
100-row text/x-libsvm payloads of the test split against booster.predict on the same rows, in process.
The emulator runs as the same background daemon the tasks use, so client and server are separate processes.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    create_job_role,
    console,
    machine,
    median,
    percentile,
    print_table,
    settings,
)

ROLE = "arn:aws:iam::123456789012:role/bench"
BUCKET = "vgsales-bench"


def prepare_splits(workdir: Path) -> tuple[Path, dict[str, str]]:
    from vgsales import dataset, features

    chosen = settings(workdir)
    fetched = dataset.fetch(chosen.data_source, workdir / "cache")
    features.write_splits(features.prepare(dataset.load(fetched.path)), workdir / "data", fetched)
    from vgsales.algorithm.hyperparameters import validate_hyperparameters

    return workdir / "data", validate_hyperparameters(chosen.training.hyperparameters)


def in_process_training(data_dir: Path, hyperparameters: dict[str, str]) -> float:
    import xgboost
    from sklearn.datasets import load_svmlight_files

    started = time.perf_counter()
    x_train, y_train, x_validation, y_validation = load_svmlight_files(
        [str(data_dir / "train.libsvm"), str(data_dir / "validation.libsvm")], zero_based=True
    )
    train = xgboost.DMatrix(x_train, label=y_train)
    validation = xgboost.DMatrix(x_validation, label=y_validation)
    params = {k: v for k, v in hyperparameters.items() if k != "num_round"}
    xgboost.train(params, train, int(hyperparameters["num_round"]), evals=[(train, "train"), (validation, "validation")],
                  verbose_eval=False)
    return time.perf_counter() - started


def emulated_training(sagemaker, image: str, hyperparameters: dict[str, str], index: int) -> tuple[float, str]:
    name = f"vgsales-bench-{index}-{int(time.time())}"
    channels = [
        {
            "ChannelName": channel,
            "ContentType": "text/libsvm",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{channel}/"}},
        }
        for channel in ("train", "validation")
    ]
    started = time.perf_counter()
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        HyperParameters=hyperparameters,
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"training job {name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    return elapsed, job["ModelArtifacts"]["S3ModelArtifacts"]


def payloads(test_split: Path, rows: int = 100) -> list[bytes]:
    lines = test_split.read_bytes().splitlines()
    return [b"\n".join(lines[i : i + rows]) for i in range(0, len(lines), rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import xgboost
    from sagemaker.core import image_uris

    from vgsales.algorithm import serving as xgboost_serving
    from vgsales.context import Context
    from vgsales.emulator import daemon
    from vgsales.targets import local as local_target

    warnings.filterwarnings("ignore", message=".*Unknown file format")  # the container names its model file so

    console.print(f"Emulator overhead on {machine()}, xgboost {xgboost.__version__}")
    with tempfile.TemporaryDirectory(prefix="vgsales-bench-") as scratch:
        workdir = Path(scratch)
        data_dir, hyperparameters = prepare_splits(workdir)
        chosen = settings(workdir)
        started = time.perf_counter()
        daemon.start(local_target.emulator_dir(chosen))
        console.print(f"emulator start: {time.perf_counter() - started:.2f} s")
        try:
            aws = Context.of(chosen).aws
            s3, sagemaker, runtime = aws.client("s3"), aws.client("sagemaker"), aws.client("sagemaker-runtime")
            s3.create_bucket(Bucket=BUCKET)
            create_job_role(aws.client("iam"), ROLE.rpartition("/")[2], BUCKET)
            for channel in ("train", "validation"):
                s3.upload_file(str(data_dir / f"{channel}.libsvm"), BUCKET, f"{channel}/{channel}.libsvm")
            image = image_uris.retrieve("xgboost", chosen.region, chosen.training.image_version)

            # Alternate the two, so that load from elsewhere on the machine hits both alike.
            local, emulated, artifact = [], [], ""
            for index in range(args.jobs):
                local.append(in_process_training(data_dir, hyperparameters))
                elapsed, artifact = emulated_training(sagemaker, image, hyperparameters, index)
                emulated.append(elapsed)

            sagemaker.create_model(ModelName="vgsales-bench", PrimaryContainer={"Image": image, "ModelDataUrl": artifact},
                                   ExecutionRoleArn=ROLE)
            sagemaker.create_endpoint_config(EndpointConfigName="vgsales-bench", ProductionVariants=[{
                "VariantName": "AllTraffic", "ModelName": "vgsales-bench", "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large"}])
            sagemaker.create_endpoint(EndpointName="vgsales-bench", EndpointConfigName="vgsales-bench")
            sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="vgsales-bench",
                                                             WaiterConfig={"Delay": 1})
            bodies = payloads(data_dir / "test.libsvm")
            remote = []
            for index in range(args.requests):
                body = bodies[index % len(bodies)]
                started = time.perf_counter()
                runtime.invoke_endpoint(EndpointName="vgsales-bench", ContentType="text/x-libsvm", Body=body)["Body"].read()
                remote.append(time.perf_counter() - started)

            bucket, key = artifact.removeprefix("s3://").split("/", 1)
            archive = workdir / "model.tar.gz"
            s3.download_file(bucket, key, str(archive))
            with tarfile.open(archive) as tar:
                tar.extract("xgboost-model", workdir, filter="data")
            booster = xgboost.Booster()
            booster.load_model(str(workdir / "xgboost-model"))
            matrices = [xgboost.DMatrix(_dense(body, booster.num_features())) for body in bodies]
            predict, serve = [], []
            for index in range(args.requests):
                started = time.perf_counter()
                booster.predict(matrices[index % len(matrices)])
                predict.append(time.perf_counter() - started)
                started = time.perf_counter()
                xgboost_serving.predict(booster, booster.num_features(), bodies[index % len(bodies)], "text/x-libsvm", None)
                serve.append(time.perf_counter() - started)
        finally:
            daemon.stop(local_target.emulator_dir(chosen))

    overhead = median(emulated) - median(local)
    print_table(
        f"Training, workshop hyperparameters, {args.jobs} job(s)",
        ["", "median s", "min s", "max s"],
        [
            ["xgboost.train in process (load + train)", f"{median(local):.3f}", f"{min(local):.3f}", f"{max(local):.3f}"],
            ["emulated training job (create -> Completed)", f"{median(emulated):.3f}", f"{min(emulated):.3f}",
             f"{max(emulated):.3f}"],
        ],
    )
    console.print(f"Training-job overhead: {overhead:.2f} s per job (goal: at most 2 s)")
    rows_per_request = 100
    print_table(
        f"Hosting, {args.requests} sequential requests of {rows_per_request} rows",
        ["", "p50 ms", "p99 ms", "rows/s"],
        [
            ["booster.predict in process", f"{percentile(predict, 50) * 1e3:.2f}", f"{percentile(predict, 99) * 1e3:.2f}",
             f"{rows_per_request / median(predict):,.0f}"],
            ["the emulator's parse + predict + encode, in process", f"{percentile(serve, 50) * 1e3:.2f}",
             f"{percentile(serve, 99) * 1e3:.2f}", f"{rows_per_request / median(serve):,.0f}"],
            ["InvokeEndpoint on the emulator (boto3, HTTPS)", f"{percentile(remote, 50) * 1e3:.2f}",
             f"{percentile(remote, 99) * 1e3:.2f}", f"{rows_per_request / median(remote):,.0f}"],
        ],
    )
    console.print(
        f"Per-request overhead at p50 over booster.predict: {(percentile(remote, 50) - percentile(predict, 50)) * 1e3:.2f} ms "
        f"(goal: at most 2 ms); of it, payload parsing and encoding {(percentile(serve, 50) - percentile(predict, 50)) * 1e3:.2f} ms, "
        f"the rest HTTPS, boto3 and routing."
    )


def _dense(body: bytes, n_features: int):
    """The rows of a libsvm payload as a dense matrix with NaN for absent features, as the container reads them."""
    import numpy as np

    lines = body.decode().splitlines()
    matrix = np.full((len(lines), n_features), np.nan, dtype=np.float32)
    for row, line in enumerate(lines):
        for item in line.split()[1:]:
            index, value = item.split(":")
            matrix[row, int(index)] = float(value)
    return matrix


if __name__ == "__main__":
    main()
