"""The workshop's notebook, executed headless against the local target, as a learner runs it: in order, no edits.

The Chinese notebook, the workshop's own: the English one has the same code cells, cell metadata and kernel
(tests/notebooks/test_notebook_files.py), so executing it too would run the same code a second time (35 s).
One local stack (emulator, bucket, role; no notebook instance) serves it. The kernel finds it the way a learner's
does: the notebook's folder is the project's notebooks/, and INVOKE_WORKSHOP_* variables point the settings at this
test's state folder and at the shared dataset.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from vgsales import discovery, notebook
from vgsales.context import Context
from vgsales.infra import stack
from vgsales.records import StackRecord

from support.jupyter import outputs_text
from support.stacks import discard

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOK = "cht-video-game-sales-xgboost.ipynb"
CELL_TIMEOUT_SECONDS = 600
MIN_ACCURACY = 0.86


@pytest.fixture(scope="module")
def local_stack(shared_dataset, tmp_path_factory):
    if shutil.which("terraform") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have terraform on PATH")
        pytest.skip("terraform is not on PATH")
    state_dir = tmp_path_factory.mktemp("workshop-state")
    with pytest.MonkeyPatch.context() as env:
        # The kernels inherit these, so the notebooks find this stack as they would find a learner's.
        env.setenv("INVOKE_WORKSHOP_STATE_DIR", str(state_dir))
        env.setenv("INVOKE_WORKSHOP_DATA_SOURCE", str(shared_dataset))
        env.setenv("INVOKE_WORKSHOP_TERRAFORM_CREATE_NOTEBOOK_INSTANCE", "false")  # the word a user would type
        env.delenv(notebook.PROJECT_DIR_ENV, raising=False)
        env.delenv(notebook.STACK_FILE_ENV, raising=False)
        ctx = Context.of(notebook.load_settings(PROJECT_ROOT))
        try:
            started = time.monotonic()
            stack.setup(ctx)
            print(f"local stack set up in {time.monotonic() - started:.1f} s")
            yield ctx
        finally:
            discard(ctx)


def serving_resources(ctx) -> list[str]:
    return [item.name for item in discovery.find(ctx, notebook.SERVING_KINDS)]


def test_the_notebook_runs_in_order_and_reaches_the_workshop_accuracy(local_stack, tmp_path) -> None:
    name = NOTEBOOK
    document = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    client = NotebookClient(document, kernel_name="python3", timeout=CELL_TIMEOUT_SECONDS,
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    started = time.monotonic()
    try:
        client.execute()
    finally:
        nbformat.write(document, tmp_path / name)  # the executed notebook, for a look after a failure
    print(f"{name} executed in {time.monotonic() - started:.1f} s")

    cells = {cell.get("id"): cell for cell in document.cells}
    assert not [cell.id for cell in document.cells if any(o.output_type == "error" for o in cell.get("outputs", []))]
    # Discovery found the test's stack, through the project's invoke.yaml and the INVOKE_WORKSHOP_* variables.
    assert str(local_stack.settings.target_dir) in outputs_text(cells["setup-code"])
    # The evaluation shows the confusion matrix and the accuracy.
    evaluation_text = outputs_text(cells["evaluate-run"])
    assert "Confusion matrix" in evaluation_text and "accuracy" in evaluation_text
    matrix_text = outputs_text(cells["evaluate-matrix"])
    accuracy = float(re.search(r"accuracy: (\d\.\d{4})", matrix_text).group(1))
    assert accuracy >= MIN_ACCURACY
    assert "predicted hit" in matrix_text and "actual hit" in matrix_text
    # The untuned model's matrix, as the workshop's crosstab prints it: rows "no" and "yes" of actual hit.
    matrix = [[int(n) for n in re.search(rf"^{label}\s+(\d+)\s+(\d+)\s*$", matrix_text, re.M).groups()]
              for label in ("no", "yes")]
    # Tuning ran real jobs, and the tuned model was deployed and scored: the latest evaluation is its.
    tuning_text = outputs_text(cells["tune-run"])
    assert "Best of tuning job" in tuning_text and "completed" in tuning_text
    tuned = notebook.Workshop(local_stack, "project", PROJECT_ROOT / "invoke.yaml",
                              local_stack.state.read(StackRecord)).metrics()
    tuned_text = outputs_text(cells["tune-deploy-run"])
    assert tuned.n == 803 and f"{tuned.accuracy:.4f}" in tuned_text and f"{tuned.roc_auc:.4f}" in tuned_text
    assert str([list(row) for row in tuned.confusion_matrix]) in tuned_text  # the table's "[[tn, fp], [fn, tp]]" row
    assert sum(map(sum, matrix)) == 803
    # The threshold comparison ran on the endpoint's scores, and the clean-up left nothing serving.
    assert "0.5" in outputs_text(cells["further-table"])
    assert "Removed 3 resource(s)." in outputs_text(cells["cleanup-run"])
    assert serving_resources(local_stack) == []
