"""The local workshop through the command line, and what it costs over the tools it drives.

    python benchmarks/local_pipeline.py [--runs 3]

Each run starts from nothing (a fresh state folder) and times, through the real command line:

- the main job, `invoke setup train deploy evaluate teardown`, in one invocation;
- the same in three invocations (`setup`; `train deploy evaluate`; `teardown`), for the ratios below, each
  parsed for the time its Terraform commands took.

And the baselines the ratios compare with, measured in the same run:

- `terraform init && terraform apply -auto-approve` and `terraform destroy -auto-approve` by hand: the same
  root module, the same variables, against a running emulator;
- the same XGBoost training (the workshop's hyperparameters, same splits) and the test-split prediction in
  this process, with xgboost itself;
- the same API calls from a minimal boto3 client in a fresh process (train, an endpoint, the test split in
  100-row requests): the least any SageMaker client has to do for that work.

Prints the per-stage table, the ratios (setup / hand-run init+apply, teardown / hand-run destroy, train+deploy+
evaluate / in-process XGBoost) and Terraform's share of the main job.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cli, console, dataset_source, machine, median, print_table, settings  # noqa: E402

TERRAFORM_STEP = re.compile(r"^✓ terraform (?:init|apply|destroy)[^\n]*?\((\d+\.\d+) s\)$", re.M)


def terraform_seconds(output: str) -> float:
    return sum(float(seconds) for seconds in TERRAFORM_STEP.findall(output))


def hand_run_terraform() -> tuple[float, float]:
    """(init + apply, destroy) seconds of Terraform run by hand on the project's root, against an emulator."""
    from vgsales.context import Context
    from vgsales.emulator import daemon
    from vgsales.infra import bundle, stack
    from vgsales.infra.terraform import ROOT_MODULE
    from vgsales.infra.terraform_cli import cli_config_env, mirror_from_env

    with tempfile.TemporaryDirectory(prefix="vgsales-bench-tf-") as scratch:
        chosen = settings(Path(scratch) / "state")
        bundle.build_bundle(stack.bundle_dir(chosen))
        variables = Path(scratch) / "bench.tfvars.json"
        variables.write_text(json.dumps(stack.terraform_variables(Context.of(chosen))))
        info = daemon.start(Path(scratch) / "emulator")
        try:
            env = {
                **os.environ, **info.client_env(chosen.region), "TF_DATA_DIR": str(Path(scratch) / "tf-data"),
                "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
                **cli_config_env(mirror_from_env() or chosen.terraform.plugin_mirror, Path(scratch)),
            }  # fmt: skip
            state = ["-state", str(Path(scratch) / "terraform.tfstate")]

            def terraform(*args: str) -> None:
                subprocess.run(["terraform", *args], cwd=ROOT_MODULE, env=env, check=True, capture_output=True)

            started = time.perf_counter()
            terraform("init", "-backend=false", "-no-color")
            terraform("apply", "-auto-approve", "-no-color", f"-var-file={variables}", *state)
            setup = time.perf_counter() - started
            started = time.perf_counter()
            terraform("destroy", "-auto-approve", "-no-color", f"-var-file={variables}", *state)
            return setup, time.perf_counter() - started
        finally:
            daemon.stop(Path(scratch) / "emulator")


def in_process_xgboost(data_dir: Path) -> float:
    """The workshop's training and the test-split prediction with xgboost in this process, in seconds."""
    import xgboost as xgb

    params = dict(settings().training.hyperparameters)  # the workshop's, as `invoke train` sends them
    rounds = int(params.pop("num_round"))
    started = time.perf_counter()
    train = xgb.DMatrix(f"{data_dir / 'train.libsvm'}?format=libsvm")
    validation = xgb.DMatrix(f"{data_dir / 'validation.libsvm'}?format=libsvm")
    booster = xgb.train(params, train, rounds, evals=[(train, "train"), (validation, "validation")], verbose_eval=False)
    booster.predict(xgb.DMatrix(f"{data_dir / 'test.libsvm'}?format=libsvm"))
    return time.perf_counter() - started


MINIMAL_CLIENT = r"""
import json, sys, time
import boto3
spec, test_split = json.loads(sys.argv[1]), sys.argv[2]
sagemaker, runtime = boto3.client("sagemaker"), boto3.client("sagemaker-runtime")
name = spec["TrainingJobName"]
sagemaker.create_training_job(**spec)
while sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "InProgress":
    time.sleep(0.1)
job = sagemaker.describe_training_job(TrainingJobName=name)
sagemaker.create_model(ModelName=name, ExecutionRoleArn=spec["RoleArn"], PrimaryContainer={
    "Image": spec["AlgorithmSpecification"]["TrainingImage"], "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{"VariantName": "AllTraffic",
    "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
while sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating":
    time.sleep(0.1)
rows = [line.partition(" ")[2] for line in open(test_split).read().splitlines()]
for start in range(0, len(rows), 100):
    runtime.invoke_endpoint(EndpointName=name, ContentType="text/x-libsvm", Body="\n".join(rows[start:start + 100]))
sagemaker.delete_endpoint(EndpointName=name)
sagemaker.delete_endpoint_config(EndpointConfigName=name)
sagemaker.delete_model(ModelName=name)
"""


def minimal_client(state_dir: str) -> float:
    """The same work as `invoke train deploy evaluate` with the least a SageMaker client must do: a fresh
    Python process, boto3, the same training job, an endpoint, the test split in 100-row requests."""
    from vgsales.context import Context
    from vgsales.records import DataRecord, TrainingRecord

    ctx = Context.of(settings(Path(state_dir)))
    trained, data = ctx.state.read(TrainingRecord), ctx.state.read(DataRecord)
    described = ctx.aws.client("sagemaker").describe_training_job(TrainingJobName=trained.training_job_name)
    # The minimal client reads its connection from the environment, as any boto3 client in a shell does.
    env = ctx.aws.connection.subprocess_environment(dict(os.environ))
    keys = ("AlgorithmSpecification", "RoleArn", "HyperParameters", "InputDataConfig", "OutputDataConfig",
            "ResourceConfig", "StoppingCondition")  # fmt: skip
    spec = {key: described[key] for key in keys}
    spec["TrainingJobName"] = f"{ctx.settings.name_prefix}-minimal-{int(time.time())}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", MINIMAL_CLIENT, json.dumps(spec, default=str), data.test_split],
                   env=env, check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs from nothing (default 3)")
    args = parser.parse_args()
    console.print(f"Local pipeline on {machine()}; dataset {dataset_source()}")

    figures: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        figures.setdefault(name, []).append(seconds)

    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="vgsales-bench-") as state_dir:
            took, output = cli("setup", "train", "deploy", "evaluate", "teardown", state_dir=state_dir)
            record("main job", took)
            record("terraform in the main job", terraform_seconds(output))
        with tempfile.TemporaryDirectory(prefix="vgsales-bench-") as state_dir:
            for name, tasks in (("setup", ("setup",)), ("train deploy evaluate", ("train", "deploy", "evaluate")),
                                ("teardown", ("teardown",))):  # fmt: skip
                if name == "teardown":
                    record("the same API calls from a minimal boto3 client", minimal_client(state_dir))
                took, output = cli(*tasks, state_dir=state_dir)
                record(name, took)
                if name != "train deploy evaluate":
                    record(f"terraform in {name}", terraform_seconds(output))
            record("xgboost in process", in_process_xgboost(Path(state_dir) / "local" / "data"))
        hand_setup, hand_destroy = hand_run_terraform()
        record("hand-run terraform init + apply", hand_setup)
        record("hand-run terraform destroy", hand_destroy)
        console.print(f"run {index + 1}: main job {figures['main job'][-1]:.1f} s")

    rows = [[name, f"{median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}"] for name, values in figures.items()]
    print_table(f"Wall time, seconds ({args.runs} runs from nothing)", ["measured", "median", "min", "max"], rows)

    def ratio(name: str, baseline: str) -> str:
        return f"{median(figures[name]) / median(figures[baseline]):.2f} ×"

    print_table(
        "Ratios (medians)",
        ["ratio", "measured", "goal"],
        [
            ["setup / hand-run terraform init + apply", ratio("setup", "hand-run terraform init + apply"), "≤ 1.2 ×"],
            ["teardown / hand-run terraform destroy", ratio("teardown", "hand-run terraform destroy"), "≤ 1.2 ×"],
            ["train + deploy + evaluate / xgboost in process", ratio("train deploy evaluate", "xgboost in process"), "≤ 3 ×"],
            ["train + deploy + evaluate / a minimal boto3 client", ratio("train deploy evaluate", "the same API calls from a minimal boto3 client"), ""],
            ["Terraform's share of the main job", f"{median(figures['terraform in the main job']) / median(figures['main job']):.0%}", ""],
        ],
    )
    console.print(f"Main job median: {median(figures['main job']):.1f} s (goal ≤ 12 s).")


if __name__ == "__main__":
    main()
