"""The console's page times with hundreds of training jobs on the emulator.

    python benchmarks/console_pages.py [--jobs 500] [--neighbours 100] [--completed 10] [--repeat 5]

An emulator (the daemon the tasks use) holds ``--jobs`` training jobs of one stack and ``--neighbours`` of
another stack whose tag merely starts the same: ``--completed`` of the stack's run to the end on a small split,
the rest fail at once (their input does not exist), which SageMaker keeps as jobs all the same. The console serves
in this process; each page is fetched ``--repeat`` times over HTTP with the session cookie, as a browser would.
Prints the median and slowest time of each page, and the stack's rows on it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import console, create_job_role, machine, median, print_table, settings  # noqa: E402

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
ROWS = "1 0:1 1:0.5\n0 0:0 1:0.1\n1 0:1 1:0.9\n0 0:0 1:0.3\n" * 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--neighbours", type=int, default=100)
    parser.add_argument("--completed", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from vgsales.console.server import ConsoleServer
    from vgsales.context import Context
    from vgsales.records import StackRecord

    ctx = Context.of(settings(name_prefix="vgbench"))
    ctx.target.service.start()
    try:
        bucket = f"{ctx.settings.name_prefix}-console-bench"
        ctx.aws.client("s3").create_bucket(Bucket=bucket)
        role = create_job_role(ctx.aws.client("iam"), f"{ctx.settings.name_prefix}-bench-role", bucket)
        for channel in ("train", "validation"):
            ctx.aws.client("s3").put_object(Bucket=bucket, Key=f"data/{channel}/{channel}.libsvm", Body=ROWS.encode())
        ctx.state.write(StackRecord(target=ctx.target.name, region=ctx.region, name_prefix=ctx.settings.name_prefix,
                                    data_prefix="data", bucket_name=bucket, role_arn=role))  # fmt: skip
        started = time.monotonic()
        made = create_jobs(ctx, bucket, role, args)
        console.print(f"{made} training jobs made in {time.monotonic() - started:.0f} s")
        served = ConsoleServer(ctx).start()
        try:
            rows = measure(served, ctx, args.repeat)
        finally:
            served.stop()
    finally:
        ctx.target.service.stop()
    print_table(f"Console pages, {args.jobs} training jobs of the stack and {args.neighbours} of a neighbour "
                f"({machine()})", ["page", "median", "slowest", "stack's rows"], rows)  # fmt: skip


def create_jobs(ctx, bucket: str, role: str, args: argparse.Namespace) -> int:
    sagemaker = ctx.aws.client("sagemaker")
    made = 0
    for number in range(args.jobs + args.neighbours):
        ours = number < args.jobs
        prefix = "data" if ours and number < args.completed else "missing"
        stack = ctx.settings.name_prefix if ours else f"{ctx.settings.name_prefix}-ci"
        sagemaker.create_training_job(
            TrainingJobName=f"{stack}-bench-{number:04d}",
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            RoleArn=role,
            InputDataConfig=[{"ChannelName": channel, "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{channel}/"}}}
                for channel in ("train", "validation")],  # fmt: skip
            OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output/"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
            HyperParameters={"objective": "binary:logistic", "num_round": "2", "eval_metric": "auc"},
            Tags=[{"Key": "vgsales:stack", "Value": stack}],
        )
        made += 1
        if made % 50 == 0:  # the emulator runs what it is given: let each batch end before the next
            wait_for_all(sagemaker)
    wait_for_all(sagemaker)
    return made


def wait_for_all(sagemaker) -> None:
    while sagemaker.list_training_jobs(StatusEquals="InProgress", MaxResults=1)["TrainingJobSummaries"]:
        time.sleep(0.5)


def measure(served, ctx, repeat: int) -> list[list[str]]:
    http = requests.Session()
    http.trust_env = False
    http.get(served.url, timeout=60)  # the token once, then the cookie
    sagemaker = ctx.aws.client("sagemaker")
    completed = sagemaker.list_training_jobs(StatusEquals="Completed", MaxResults=1)["TrainingJobSummaries"][0]
    name = completed["TrainingJobName"]
    first = http.get(f"{served.base_url}/training-jobs", timeout=120).text
    token = re.search(r'class="next-page" href="\?next=([^"]+)"', first)
    pages = {
        "stack": "/",
        "training jobs, first page": "/training-jobs",
        **({"training jobs, second page": f"/training-jobs?next={token.group(1)}"} if token else {}),
        "a training job": f"/training-jobs/{name}",
        "a training job, live update": f"/training-jobs/{name}/live",
        "models (none)": "/models",
        "clean up": "/cleanup",
    }
    rows = []
    for label, path in pages.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = http.get(f"{served.base_url}{path}", timeout=300)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        shown = answer.text.count('href="/training-jobs/') if path.startswith("/training-jobs?") or path == "/training-jobs" else ""
        rows.append([label, f"{median(times) * 1000:.0f} ms", f"{max(times) * 1000:.0f} ms", str(shown)])
    return rows


if __name__ == "__main__":
    main()
