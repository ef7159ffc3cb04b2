"""`invoke tune` on the local target with the default settings: time, throughput, and the tuned model's quality.

    python benchmarks/tuning.py [--seeds 0 1 2 3 4] [--price-per-hour 0.23] [--aws-minutes-per-job 3]

One local stack (real dataset); then, for the untuned baseline, `invoke train deploy evaluate`, and for each
seed, `INVOKE_WORKSHOP_TUNING_RANDOM_SEED=<seed> invoke tune` followed by `invoke deploy evaluate`. Prints:

- the time of `invoke tune` (goal: at most 60 s on 2 cores), jobs per second of the tuning job itself, and the
  time of one tuning job's training job against the workshop's training job, both from SageMaker's own times
  (creation to end), and against `invoke train` through the command line;
- each tuned model's test ROC AUC (goal: at least 0.88; the model is selected on validation AUC only), its
  accuracy, hit precision and hit recall, beside the untuned model's and the workshop's published figures;
- what the default search costs on AWS: jobs x instance price x billable minutes per job. The price and the
  minutes are inputs (no AWS account here): look up the current on-demand price of the training instance.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cli, console, machine, median, print_table, settings  # noqa: E402

WORKSHOP = {"accuracy": 0.8655, "precision": 0.598, "recall": 0.553}  # the workshop's published result


def metrics(state_dir: str) -> dict:
    return json.loads((Path(state_dir) / "local" / "evaluation" / "metrics.json").read_text())


def record(state_dir: str, name: str) -> dict:
    return json.loads((Path(state_dir) / "local" / f"{name}.json").read_text())


def job_seconds(state_dir: str, tuning_job: str | None, training_job: str) -> tuple[float, list[float]]:
    """(the tuning job's creation-to-end seconds, each of its training jobs' creation-to-end seconds), or for a
    plain training job (0, [its seconds]); read from the emulator as any SageMaker client reads them."""
    from vgsales.context import Context

    sagemaker = Context.of(settings(Path(state_dir))).aws.client("sagemaker")
    if tuning_job is None:
        job = sagemaker.describe_training_job(TrainingJobName=training_job)
        return 0.0, [(job["TrainingEndTime"] - job["CreationTime"]).total_seconds()]
    tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
    pages = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=tuning_job
    )
    children = [summary for page in pages for summary in page["TrainingJobSummaries"]]
    return (
        (tuning["HyperParameterTuningEndTime"] - tuning["CreationTime"]).total_seconds(),
        [(child["TrainingEndTime"] - child["CreationTime"]).total_seconds() for child in children],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--price-per-hour", type=float, default=0.23, help="USD per hour of the training instance")
    parser.add_argument("--aws-minutes-per-job", type=float, default=3.0, help="billable minutes of one job on AWS")
    args = parser.parse_args()
    defaults = settings().tuning
    console.print(f"Machine: {machine()}; tuning: {defaults.strategy}, {defaults.max_jobs} jobs, "
                  f"{defaults.max_parallel_jobs} at a time, {defaults.objective_metric}")
    state = tempfile.mkdtemp(prefix="vgsales-bench-tuning-")
    try:
        cli("setup", state_dir=state)
        train_seconds, _ = cli("train", state_dir=state)
        baseline_job = record(state, "training")["training_job_name"]
        cli("deploy", "evaluate", state_dir=state)
        baseline = metrics(state)
        _, baseline_job_seconds = job_seconds(state, None, baseline_job)
        runs = []
        for seed in args.seeds:
            seconds, _ = cli("tune", state_dir=state, env={"INVOKE_WORKSHOP_TUNING_RANDOM_SEED": str(seed)})
            tuning = record(state, "tuning")
            cli("deploy", "evaluate", state_dir=state)
            wall, children = job_seconds(state, tuning["tuning_job_name"], tuning["best_training_job_name"])
            runs.append({"seed": seed, "cli": seconds, "wall": wall, "children": children, "tuning": tuning,
                         "test": metrics(state)})
    finally:
        cli("teardown", state_dir=state)

    rows = []
    for run in runs:
        jobs = len(run["children"])
        rows.append([
            str(run["seed"]), f"{run['cli']:.1f}", f"{run['wall']:.1f}", f"{jobs / run['wall']:.1f}",
            f"{median(run['children']):.2f}", f"{run['tuning']['best_objective_value']:.4f}",
            f"{run['test']['roc_auc']:.4f}", f"{run['test']['accuracy']:.4f}", f"{run['test']['precision']:.3f}",
            f"{run['test']['recall']:.3f}",
        ])
    rows.append(["untuned", f"{train_seconds:.1f}", "", "", f"{baseline_job_seconds[0]:.2f}", "",
                 f"{baseline['roc_auc']:.4f}", f"{baseline['accuracy']:.4f}", f"{baseline['precision']:.3f}",
                 f"{baseline['recall']:.3f}"])
    rows.append(["workshop", "", "", "", "", "", "-", f"{WORKSHOP['accuracy']:.4f}",
                 f"{WORKSHOP['precision']:.3f}", f"{WORKSHOP['recall']:.3f}"])
    print_table(
        "invoke tune, default settings, one run per seed (tune s: the command; job s: the tuning job; s/child: "
        "median creation-to-end of its training jobs; untuned: invoke train)",
        ["seed", "tune s", "job s", "jobs/s", "s/child", "val AUC", "test AUC", "acc", "prec", "recall"],
        rows,
    )
    aucs = [run["test"]["roc_auc"] for run in runs]
    per_job = median([s for run in runs for s in run["children"]])
    console.print(
        f"invoke tune: median {median([run['cli'] for run in runs]):.1f} s (goal <= 60 s). A tuning job's training "
        f"job takes {per_job:.2f} s from creation to end, the workshop's training job {baseline_job_seconds[0]:.2f} s "
        f"({per_job / baseline_job_seconds[0]:.2f} x); `invoke train` through the command line takes {train_seconds:.1f} s."
    )
    console.print(f"Tuned test ROC AUC: median {median(aucs):.4f}, min {min(aucs):.4f}, max {max(aucs):.4f} "
                  f"(goal >= 0.88); untuned {baseline['roc_auc']:.4f}.")
    jobs = defaults.max_jobs
    cost = jobs * args.aws_minutes_per_job / 60 * args.price_per_hour
    console.print(
        f"On AWS: {jobs} jobs x {settings().training.instance_type} at ${args.price_per_hour}/h x "
        f"{args.aws_minutes_per_job:g} billable min each = ${cost:.2f}; with {defaults.max_parallel_jobs} at a time "
        f"about {jobs / defaults.max_parallel_jobs * (args.aws_minutes_per_job + 1):.0f} min of wall time."
    )


if __name__ == "__main__":
    main()
