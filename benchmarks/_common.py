"""What the benchmarks share: settings in a throw-away state folder, the prepared dataset, a figures table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASET = PROJECT_ROOT.parent / "shared" / "data" / "Video_Games_Sales_as_at_22_Dec_2016.csv"
console = Console(highlight=False)


def dataset_source() -> str:
    """The real dataset when it is beside the project (as in CI), else the public URL the project verifies."""
    if SHARED_DATASET.is_file():
        return str(SHARED_DATASET)
    from vgsales.dataset import KNOWN_SOURCE_URL

    return KNOWN_SOURCE_URL


def settings(state_dir: Path | None = None, **changes):
    """The default settings, in a temporary state folder unless one is given, with dotted-key changes."""
    from vgsales.settings import Settings, project_defaults, with_changes

    state = str(state_dir or tempfile.mkdtemp(prefix="vgsales-bench-"))
    changes = {"state_dir": state, "data_source": dataset_source(), **changes}
    data = with_changes(project_defaults(PROJECT_ROOT), changes)
    return Settings.from_config(data, project_dir=PROJECT_ROOT)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def cli(*tasks: str, state_dir: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run `invoke <tasks>` as a user would, in a fresh process; returns (seconds, stdout)."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("INVOKE_WORKSHOP_", "AWS_"))}
    clean.update(INVOKE_WORKSHOP_STATE_DIR=state_dir, INVOKE_WORKSHOP_DATA_SOURCE=dataset_source(), COLUMNS="200")
    clean.update(env or {})
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "invoke", *tasks], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"invoke {' '.join(tasks)} failed:\n{result.stdout}\n{result.stderr}")
    return took, result.stdout


def create_job_role(iam, name: str, bucket: str) -> str:
    """A role that SageMaker may assume and that may use one bucket and write SageMaker's logs: jobs and endpoints
    act as their role on the emulator (emulator/role_access.py), as on AWS. Returns its ARN."""
    import json

    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    permissions = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/*"}]}  # fmt: skip
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="jobs", PolicyDocument=json.dumps(permissions))
    return str(role["Arn"])
