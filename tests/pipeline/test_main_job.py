"""The README's main job, through the real CLI, on the real dataset: the workshop end to end, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    binary = os.path.join(os.path.dirname(sys.executable), "invoke")
    return subprocess.run(
        [binary, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **env}
    )


def test_setup_train_deploy_evaluate_teardown_on_the_local_target(terraform_available, shared_dataset, tmp_path):
    env = {
        "INVOKE_WORKSHOP_STATE_DIR": str(tmp_path),
        "INVOKE_WORKSHOP_DATA_SOURCE": str(shared_dataset),
        "COLUMNS": "200",  # one line per table row, for the assertions below
    }
    result = invoke("setup", "train", "deploy", "evaluate", "teardown", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output

    # invoke ran `data` once, as train's pre-task, and the workshop's splits came out.
    assert output.count("Fetching the dataset") == 1
    assert "the workshop's file (sha256 verified)" in output
    for row in ("train │ 5,614 │  945", "validation │ 1,604 │  267", "test │   803 │  132"):
        assert row in output, row
    assert "validation-auc" in output, "the training log streamed"

    run_dir = tmp_path / "local" / "evaluation"
    assert f"Evaluation written to {run_dir}" in output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["n"] == 803
    assert metrics["accuracy"] >= 0.86, metrics
    assert sum(metrics["confusion_matrix"][1]) == 132
    for name in ("confusion_matrix.png", "roc_curve.png", "report.md"):
        assert (run_dir / name).stat().st_size > 0

    # Teardown removed the endpoint, its config and model, the Terraform stack, then the emulator.
    for removed in ("Removing endpoint vgsales-endpoint", "Removing endpoint-config", "Removing model", "terraform destroy"):
        assert removed in output, removed
    status = invoke("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {"resources": []}
