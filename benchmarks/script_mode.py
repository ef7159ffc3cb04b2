"""A script-mode training job's overhead on the emulator, against running the same script directly.

    python benchmarks/script_mode.py [--repeats 5] [--rounds 100]

The script is the one the client tests run (tests/clients/scripts/script_mode/train.py, written as AWS's
script-mode samples are), on the workshop's train and validation splits of the real dataset (5,614 and 803 rows,
libsvm). "Direct" runs `python train.py --<hyperparameter> <value> ...` with the SM_* variables a script reads, in
a job environment (script_mode/environment.py) so that it imports what it imports in a job; "job" is a
CreateTrainingJob on an in-process emulator, from the call to the status that says it ended (polled every 20 ms):
downloading the channels and the code as the role, the job's environment, the container's entry point, the logs
and metrics, packing and uploading the model. (Every job lasts at least a second, lifecycle.MINIMUM_JOB_SECONDS;
this one lasts longer anyway.)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PROJECT_ROOT, SHARED_DATASET, console, create_job_role, machine, print_table  # noqa: E402

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SOURCE_DIR = PROJECT_ROOT / "tests" / "clients" / "scripts" / "script_mode"


def splits(folder: Path) -> dict[str, Path]:
    """The workshop's train and validation splits as libsvm files, one folder per channel."""
    from sklearn.datasets import dump_svmlight_file

    from vgsales import dataset, features

    prepared = features.prepare(dataset.load(SHARED_DATASET))
    written = {}
    for channel, frame in (("train", prepared.train), ("validation", prepared.validation)):
        path = folder / channel / f"{channel}.libsvm"
        path.parent.mkdir(parents=True)
        dump_svmlight_file(frame.loc[:, list(prepared.feature_names)].to_numpy(), frame["label"].to_numpy(), str(path),
                           zero_based=True)  # fmt: skip
        written[channel] = path
    return written


def hyperparameters(rounds: int) -> dict[str, object]:
    return {"max_depth": 3, "eta": 0.1, "subsample": 0.5, "scale_pos_weight": 2.0, "num_round": rounds}


def run_directly(folder: Path, data: dict[str, Path], rounds: int) -> float:
    from vgsales.emulator.script_mode import environment

    env_folder = folder / "direct-env"
    if not env_folder.exists():
        environment.create(env_folder)
    python = environment.ScriptEnvironment(env_folder).python
    model_dir = folder / "direct-model"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir()
    arguments = [item for name, value in sorted(hyperparameters(rounds).items()) for item in (f"--{name}", str(value))]
    env = {"PATH": os.environ["PATH"], "SM_MODEL_DIR": str(model_dir), "SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1",
           "SM_CHANNEL_TRAIN": str(data["train"].parent), "SM_CHANNEL_VALIDATION": str(data["validation"].parent)}
    started = time.perf_counter()
    subprocess.run([str(python), str(SOURCE_DIR / "train.py"), *arguments], env=env, cwd=SOURCE_DIR, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def sourcedir() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(SOURCE_DIR.iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name)
    return buffer.getvalue()


def run_job(sagemaker, bucket: str, role: str, rounds: int, index: int) -> float:
    name = f"bench-script-{index}-{int(time.time())}"
    encoded = {name: json.dumps(value) for name, value in hyperparameters(rounds).items()}
    encoded.update(sagemaker_program='"train.py"', sagemaker_submit_directory=json.dumps(f"s3://{bucket}/code/sourcedir.tar.gz"))
    channels = [{"ChannelName": channel, "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{channel}/", "S3DataDistributionType": "FullyReplicated"}}}
        for channel in ("train", "validation")]  # fmt: skip
    started = time.perf_counter()
    sagemaker.create_training_job(
        TrainingJobName=name, RoleArn=role, HyperParameters=encoded, InputDataConfig=channels,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )  # fmt: skip
    while (job := sagemaker.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] == "InProgress":
        time.sleep(0.02)
    took = time.perf_counter() - started
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    if not SHARED_DATASET.is_file():
        raise SystemExit(f"the real dataset is not at {SHARED_DATASET}")
    import boto3

    from vgsales.emulator.server import EmulatorServer

    console.print(f"Machine: {machine()}")
    folder = Path(tempfile.mkdtemp(prefix="vgsales-bench-script-"))
    server = EmulatorServer().start()
    try:
        data = splits(folder)
        os.environ.update(server.client_env())
        s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
        bucket = "vgsales-bench-script"
        s3.create_bucket(Bucket=bucket)
        role = create_job_role(boto3.client("iam"), "vgsales-bench-script", bucket)
        for channel, path in data.items():
            s3.put_object(Bucket=bucket, Key=f"{channel}/{path.name}", Body=path.read_bytes())
        s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=sourcedir())
        run_directly(folder, data, args.rounds)  # the page cache and the job environment, once
        direct = [run_directly(folder, data, args.rounds) for _ in range(args.repeats)]
        jobs = [run_job(sagemaker, bucket, role, args.rounds, index) for index in range(args.repeats)]
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    direct_median, job_median = statistics.median(direct), statistics.median(jobs)
    print_table(
        f"A script-mode training job against the same script run directly ({args.rounds} rounds, "
        f"median of {args.repeats})",
        ["", "seconds"],
        [["the script directly", f"{direct_median:.2f}"],
         ["the training job, create to Completed", f"{job_median:.2f}"],
         ["overhead", f"{job_median - direct_median:.2f}"],
         ["ratio job / direct", f"{job_median / direct_median:.2f}"]],
    )  # fmt: skip


if __name__ == "__main__":
    main()
