"""Wall time of the whole local workshop, per stage: setup, data, train, deploy, evaluate, teardown.

    python benchmarks/local_pipeline.py [--runs 3] [--cli-runs 1]

Each run uses a fresh state folder, so every stage starts from nothing, as `invoke setup train deploy
evaluate teardown` on a new machine does. The stages run in this process (so each is timed on its own);
--cli-runs also times the real command line end to end, which adds invoke's and the imports' start-up.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PROJECT_ROOT,
    console,
    dataset_source,
    machine,
    median,
    print_table,
    settings,
)

STAGES = ("setup", "data", "train", "deploy", "evaluate", "teardown")


def run_stages() -> dict[str, float]:
    from vgsales.cli import console as vgsales_console
    from vgsales.infra import stack
    from vgsales.pipeline import data, deploy, evaluate, train

    bodies = {
        "setup": stack.setup,
        "data": data.run,
        "train": train.run,
        "deploy": deploy.run,
        "evaluate": evaluate.run,
        "teardown": stack.teardown,
    }
    chosen = settings()
    quiet = io.StringIO()
    saved, vgsales_console.console.file = vgsales_console.console.file, quiet
    times = {}
    try:
        for stage in STAGES:
            started = time.perf_counter()
            bodies[stage](chosen)
            times[stage] = time.perf_counter() - started
    finally:
        stack.teardown(chosen)  # a no-op unless a stage failed; never leaves an emulator behind
        vgsales_console.console.file = saved
    return times


def run_cli() -> float:
    invoke = os.path.join(os.path.dirname(sys.executable), "invoke")
    with tempfile.TemporaryDirectory(prefix="vgsales-bench-") as state_dir:
        env = {**os.environ, "INVOKE_WORKSHOP_STATE_DIR": state_dir, "INVOKE_WORKSHOP_DATA_SOURCE": dataset_source()}
        started = time.perf_counter()
        subprocess.run(
            [invoke, "setup", "train", "deploy", "evaluate", "teardown"],
            cwd=PROJECT_ROOT, env=env, check=True, capture_output=True,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="in-process runs, each stage timed (default 3)")
    parser.add_argument("--cli-runs", type=int, default=1, help="end-to-end runs of the real command line")
    args = parser.parse_args()

    console.print(f"Local pipeline on {machine()}; dataset {dataset_source()}")
    runs = []
    for index in range(args.runs):
        runs.append(run_stages())
        console.print(f"run {index + 1}: {sum(runs[-1].values()):.1f} s")
    rows = []
    for stage in STAGES:
        values = [run[stage] for run in runs]
        rows.append([stage, f"{median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}"])
    totals = [sum(run.values()) for run in runs]
    rows.append(["total", f"{median(totals):.2f}", f"{min(totals):.2f}", f"{max(totals):.2f}"])
    print_table(f"Stage wall time, seconds ({args.runs} runs)", ["stage", "median", "min", "max"], rows)
    slowest = max(STAGES, key=lambda stage: median([run[stage] for run in runs]))
    share = median([run[slowest] for run in runs]) / median(totals)
    console.print(f"Dominant stage: {slowest} ({share:.0%} of the median total).")
    if args.cli_runs:
        cli = [run_cli() for _ in range(args.cli_runs)]
        console.print(
            f"`invoke setup train deploy evaluate teardown`, end to end: median {median(cli):.1f} s over {len(cli)} run(s)"
        )


if __name__ == "__main__":
    main()
