"""What each task prints, piped at 80 columns as in a CI log or `> file`: no identifier is cut or broken, and
every task ends with the one line that says what to run next. And `invoke --help <task>` names real settings.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vgsales.records import DataRecord, EndpointRecord, StackRecord, TrainingRecord

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TASKS = ("setup", "data", "train", "deploy", "evaluate", "status", "teardown")


def invoke(*args: str, state_dir: Path, data_source: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("INVOKE_WORKSHOP_", "AWS_"))}
    env.pop("COLUMNS", None)
    env.update(INVOKE_WORKSHOP_STATE_DIR=str(state_dir), COLUMNS="80", TERM="dumb")
    if data_source is not None:
        env["INVOKE_WORKSHOP_DATA_SOURCE"] = str(data_source)
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def outputs(terraform_available, shared_dataset, tmp_path_factory, make_settings):
    """Each task run on its own, in order, with its output; and the records they left (read before teardown)."""
    from vgsales.state import RunState

    state_dir = tmp_path_factory.mktemp("cli-output")
    printed: dict[str, str] = {}
    identifiers: list[str] = []
    try:
        for task in TASKS:
            if task == "teardown":
                state = RunState(make_settings(state_dir))
                stack, data = state.read(StackRecord), state.read(DataRecord)
                training, endpoint = state.read(TrainingRecord), state.read(EndpointRecord)
                identifiers += [
                    stack.bucket_name, stack.role_arn, stack.notebook_instance_name,
                    data.manifest, training.training_job_name, training.model_data_url, endpoint.endpoint_name,
                    endpoint.endpoint_config_name, endpoint.model_name,
                ]  # fmt: skip
            result = invoke(task, state_dir=state_dir, data_source=shared_dataset)
            assert result.returncode == 0, f"invoke {task}:\n{result.stdout}\n{result.stderr}"
            printed[task] = result.stdout
    finally:
        invoke("teardown", state_dir=state_dir)
    return printed, identifiers


@pytest.mark.parametrize("task", TASKS)
def test_every_task_ends_with_what_to_run_next(outputs, task):
    printed, _ = outputs
    last = printed[task].rstrip().splitlines()[-1]
    assert re.fullmatch(r"Next: invoke [a-z]+  \(.+\)", last), last


def test_no_identifier_is_cut_or_broken_at_80_columns(outputs):
    printed, identifiers = outputs
    everything = "\n".join(printed.values())
    assert "…" not in everything.replace("terraform init…", ""), "rich's ellipsis: something was cut"
    shown = [identifier for identifier in identifiers if identifier in everything]
    # Each identifier a task prints appears whole on one line; most of them are printed.
    assert len(shown) >= 8, (shown, identifiers)
    for task, text in printed.items():
        for line in text.splitlines():
            for identifier in identifiers:
                # The head of an identifier at the end of a line, its tail missing: a line break inside it.
                for cut in range(12, len(identifier)):
                    if line.endswith(identifier[:cut]):
                        pytest.fail(f"invoke {task} broke {identifier!r} at character {cut}:\n{line}")


def test_the_deploy_sample_commands_are_single_lines(outputs):
    printed, identifiers = outputs
    lines = printed["deploy"].splitlines()
    python = next(line for line in lines if line.strip().startswith("python3 -c"))
    cli = next(line for line in lines if line.strip().startswith("aws sagemaker-runtime invoke-endpoint"))
    assert python.rstrip().endswith("print(r['Body'].read().decode())\"")
    assert cli.rstrip().endswith("out.json && cat out.json")
    manifest = next(identifier for identifier in identifiers if identifier.endswith("manifest.json"))
    assert manifest in printed["deploy"], "the manifest is named with its path"


def test_local_status_says_it_costs_nothing_and_teardown_counts_what_it_removed(outputs):
    printed, _ = outputs
    assert "Local emulator: costs nothing." in printed["status"]
    assert "costs money now" not in printed["status"]
    steps = printed["teardown"]
    destroyed = int(re.search(r"terraform destroy \((\d+) resources", steps).group(1))
    pipeline = len(re.findall(r"^✓ (?:Removing|Stopping) (?:endpoint|endpoint-config|model|training-job) ", steps, re.M))
    summary = next(line for line in steps.splitlines() if line.startswith("Teardown complete"))
    assert f"{destroyed} Terraform-managed resources" in summary
    assert summary.startswith(f"Teardown complete: removed {pipeline} pipeline resource(s)"), summary
    assert "stopped the local AWS emulator" in summary


def _settings_tree() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "invoke.yaml").read_text())["workshop"]


@pytest.mark.parametrize("task", [*TASKS, "data"])
def test_help_names_settings_that_exist(task):
    result = invoke("--help", task, state_dir=PROJECT_ROOT / ".workshop")
    assert result.returncode == 0, result.stderr
    named = re.findall(r"workshop\.([a-z0-9_.<>]+)", result.stdout)
    assert named, result.stdout
    tree = _settings_tree()
    for name in named:
        node = tree
        for part in name.split("."):
            if part == "<name>":
                break
            assert isinstance(node, dict) and part in node, f"invoke --help {task} names workshop.{name}, which invoke.yaml lacks"
            node = node[part]
    assert "INVOKE_WORKSHOP_" in result.stdout and "-f my-settings.yaml" in result.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["invoke", "setup"], None),
        (["invoke", "setup", "teardown"], None),
        (["invoke", "setup", "train"], ["pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.train"]),
        (["invoke", "setup", "train", "deploy"], ["pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.train", "vgsales.pipeline.deploy"]),
        (["invoke", "setup", "evaluate"], ["sklearn.metrics", "vgsales.evaluation.plots", "vgsales.pipeline.evaluate"]),
        (["invoke", "-f", "train.yaml", "setup"], None),  # a word that is not a task name is no task
    ],
)
def test_setup_prefetches_only_what_the_later_tasks_on_the_command_line_import(monkeypatch, argv, expected):
    from vgsales import cli

    imported: list[str] = []
    monkeypatch.setattr(cli.importlib, "import_module", imported.append)
    load = cli.later_stage_imports(argv)
    if expected is None:
        assert load is None
        return
    load()
    assert imported == expected
