"""Module 1 of the workshop on the local target, in a real browser: `invoke notebook`'s presigned URL opens the
stack's notebook instance in JupyterLab, whose file browser shows the notebooks the lifecycle configuration put
there, and the Chinese notebook runs to the end in the workshop's kernel (the environment on-create installed,
over conda_python3), as the instance's execution role, on the browser's own session; code written for AWS's
conda_python3 (SageMaker Python SDK v2) runs there unchanged. Then nothing of the instance outlives its emulator.

The browser is Debian's chromium with its chromedriver (.ci/run installs them), driven by selenium. Screenshots
go to test-artifacts/ in the project folder (VGSALES_TEST_ARTIFACTS names another): look at them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import requests

from vgsales import discovery, notebook
from vgsales.context import Context
from vgsales.emulator import notebook_image, notebook_instances
from vgsales.infra import bundle, notebook_access, stack
from vgsales.evaluation.metrics import Metrics
from vgsales.records import StackRecord

from support.browser import artifacts_dir, chromium, needs, needs_chromium
from support.jupyter import outputs_text, run_notebook
from support.stacks import SharedStack
from support.wait import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "video-game-sales/cht-video-game-sales-xgboost.ipynb"
MIN_ACCURACY = 0.86


@pytest.fixture(scope="module")
def instance_stacks(shared_dataset, tmp_path_factory):
    """The module's stack with its notebook instance, found as a notebook finds it (notebook.load_settings), built
    once; the test that kills its emulator spends it, and a test after that gets a new one."""
    needs(shutil.which("terraform") is not None, "terraform on PATH")
    needs_chromium()
    state_dirs: list[Path] = []

    def new_context() -> Context:
        state_dirs.append(tmp_path_factory.mktemp("workshop-state"))
        with pytest.MonkeyPatch.context() as env:
            env.setenv("INVOKE_WORKSHOP_STATE_DIR", str(state_dirs[-1]))
            env.delenv(notebook.PROJECT_DIR_ENV, raising=False)
            return Context.of(notebook.load_settings(PROJECT_ROOT))

    with SharedStack(new_context) as shared:
        yield shared
    # Hygiene: nothing of an instance (JupyterLab, kernels, the scripts' background jobs) outlives it.
    assert [pid for state_dir in state_dirs for pid in instance_processes(state_dir)] == []


@pytest.fixture
def instance_stack(instance_stacks):
    instance_stacks.step("setup", stack.setup)
    return instance_stacks.ctx


def in_service(ctx: Context) -> None:
    """The stack's instance InService again, after a test that stopped it (a start that a test may undo is no
    step: support/stacks.py)."""
    sagemaker = ctx.aws.client("sagemaker")
    name = ctx.state.read(StackRecord).notebook_instance_name
    if sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Stopped":
        sagemaker.start_notebook_instance(NotebookInstanceName=name)
    sagemaker.get_waiter("notebook_instance_in_service").wait(NotebookInstanceName=name, WaiterConfig={"Delay": 1})


def instance_processes(state_dir: Path) -> list[int]:
    found = []
    for process in psutil.process_iter():
        try:
            if notebook_instances.MARK in process.environ() and str(state_dir) in process.environ().get("HOME", ""):
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


def instance_volume(ctx) -> Path:
    """The stack's notebook instance's volume (home/SageMaker) in its emulator's state folder (notebook_instances)."""
    name = ctx.state.read(StackRecord).notebook_instance_name
    (found,) = (ctx.settings.target_dir / "emulator" / "notebook-instances").glob(f"*-{ctx.region}-{name}/home/SageMaker")
    return found


@pytest.fixture(scope="module")
def browser(instance_stacks):
    driver = chromium()
    yield driver
    driver.quit()


def file_browser_names(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, ".jp-DirListing-itemText")]


@pytest.fixture
def lab(instance_stack, browser):
    """The browser signed in with `invoke notebook`'s URL, and a requests session on the browser's own cookies (which
    run notebooks through Jupyter's API, as its UI would): (base URL, session)."""
    in_service(instance_stack)
    url = notebook_access.presigned_url(instance_stack)  # what `invoke notebook` prints and opens
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/lab\?authToken=[\w-]{43}", url)
    browser.get(url)
    wait_until(lambda: browser.get_cookies(), timeout=60, message="the session cookie")
    http = requests.Session()
    http.trust_env = False
    for cookie in browser.get_cookies():
        http.cookies.set(cookie["name"], cookie["value"])
    return url.split("/lab?")[0], http


def install_outcome(base: str, http: requests.Session) -> str | None:
    """The last line of on-create's install.log once the background install has ended (what the notebook tells the
    learner to wait for), else None."""
    answer = http.get(f"{base}/api/contents/video-game-sales/install.log", params={"content": 1})
    lines = answer.json()["content"].splitlines() if answer.status_code == 200 else []
    return lines[-1] if lines and lines[-1].startswith("vgsales on-create: ") else None


def test_open_jupyterlab_upload_run(instance_stack, browser, lab, shared_dataset):
    base, http = lab
    # JupyterLab, in the instance's volume, with the bundle's folder that on-create copied from the bucket
    wait_until(lambda: "video-game-sales" in file_browser_names(browser), timeout=60, message="the file browser")
    browser.save_screenshot(str(artifacts_dir() / "notebook-instance-jupyterlab.png"))
    browser.get(f"{base}/lab/tree/video-game-sales")
    names = wait_until(lambda: [name for name in file_browser_names(browser) if name.endswith(".ipynb")], timeout=60,
                       message="the bundle's notebooks")
    assert sorted(names) == ["cht-video-game-sales-xgboost.ipynb", "video-game-sales-xgboost.ipynb"]

    # on-create's install into the workshop's environment ends in the background; on-start registered its kernel
    # beside conda_python3 (and the server's own environment offers none).
    assert wait_until(lambda: install_outcome(base, http), timeout=300, message="on-create's install") == (
        "vgsales on-create: installed"
    )
    assert sorted(http.get(f"{base}/api/kernelspecs").json()["kernelspecs"]) == ["conda_python3", "vgsales"]

    # Offline, the learner points the Data cell at a local copy of the dataset (docs/workshop-guide.md).
    preamble = f"import os; os.environ['INVOKE_WORKSHOP_DATA_SOURCE'] = {str(shared_dataset)!r}"
    document = run_notebook(base, http, NOTEBOOK, bundle.INSTANCE_KERNEL["name"], preamble=preamble)
    cells = {cell.get("id"): cell for cell in document.cells}
    assert not [cell.id for cell in document.cells if any(o.output_type == "error" for o in cell.get("outputs", []))]
    setup_text = outputs_text(cells["setup-code"])
    assert "notebook instance" in setup_text  # discovery found the instance's stack file, not the project
    # The evaluation shows the confusion matrix and the accuracy: the untuned model's, as the workshop's crosstab
    # prints it, rows "no" and "yes" of actual hit.
    evaluation_text = outputs_text(cells["evaluate-run"])
    assert "Confusion matrix" in evaluation_text and "accuracy" in evaluation_text
    matrix_text = outputs_text(cells["evaluate-matrix"])
    assert "predicted hit" in matrix_text and "actual hit" in matrix_text
    assert float(re.search(r"accuracy: (\d\.\d{4})", matrix_text).group(1)) >= MIN_ACCURACY
    matrix = [[int(n) for n in re.search(rf"^{label}\s+(\d+)\s+(\d+)\s*$", matrix_text, re.M).groups()]
              for label in ("no", "yes")]
    assert sum(map(sum, matrix)) == 803
    # Tuning ran real jobs, and the tuned model was deployed and scored: the latest evaluation on the instance's
    # volume is its, and the notebook printed that one's figures, not a constant.
    assert "Best of tuning job" in outputs_text(cells["tune-run"]) and "completed" in outputs_text(cells["tune-run"])
    tuned = Metrics.from_json(max(instance_volume(instance_stack).rglob("metrics.json"), key=lambda path: path.stat().st_mtime))
    tuned_text = outputs_text(cells["tune-deploy-run"])
    assert tuned.n == 803 and f"{tuned.accuracy:.4f}" in tuned_text and f"{tuned.roc_auc:.4f}" in tuned_text
    assert str([list(row) for row in tuned.confusion_matrix]) in tuned_text  # the table's "[[tn, fp], [fn, tp]]" row
    # The threshold comparison ran on the endpoint's scores, and the clean-up left nothing serving.
    assert "0.5" in outputs_text(cells["further-table"])
    assert "Removed 3 resource(s)." in outputs_text(cells["cleanup-run"])
    assert [item.name for item in discovery.find(instance_stack, notebook.SERVING_KINDS)] == []

    browser.get(f"{base}/lab/tree/{NOTEBOOK}")
    from selenium.webdriver.common.by import By

    shown = wait_until(lambda: browser.find_elements(By.XPATH, "//pre[contains(., 'accuracy: ')]"), timeout=90,
                       message="the executed notebook's accuracy")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown[0])
    time.sleep(1)  # JupyterLab renders the cells around it
    browser.save_screenshot(str(artifacts_dir() / "notebook-instance-executed.png"))


# The opening of AWS's own notebook for this workshop (SageMaker SDK v2), as a learner runs it in conda_python3.
SDK_V2_OPENING = """\
import boto3
import sagemaker
from sagemaker import get_execution_role

role = get_execution_role()
bucket = sagemaker.Session().default_bucket()
container = sagemaker.image_uris.retrieve("xgboost", boto3.Session().region_name, "latest")
caller = boto3.client("sts").get_caller_identity()["Arn"]
print("opened:", sagemaker.__version__, role, bucket, container, caller)
"""


def test_conda_python3_runs_code_written_for_the_sagemaker_sdk_v2(instance_stack, lab):
    """conda_python3 keeps what AWS preinstalls (the SDK v2), untouched by the workshop's install, and runs as the
    notebook identity with the SDK config on-start wrote."""
    base, http = lab
    document = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SDK_V2_OPENING)])
    saved = http.put(f"{base}/api/contents/sdk-v2-opening.ipynb", headers={"X-XSRFToken": http.cookies.get("_xsrf", "")},
                     json={"type": "notebook", "format": "json", "content": document})  # fmt: skip
    saved.raise_for_status()
    ran = run_notebook(base, http, "sdk-v2-opening.ipynb", "conda_python3")
    (opened,) = [line for line in outputs_text(ran.cells[0]).splitlines() if line.startswith("opened: ")]
    version, role, bucket, container, caller = opened.split()[1:]
    assert f"sagemaker=={version}" in notebook_image.PINS.read_text().splitlines()
    record = instance_stack.state.read(StackRecord)
    assert (role, bucket) == (record.role_arn, record.bucket_name)  # get_execution_role(), default_bucket()
    assert container.endswith("/xgboost:latest")
    assert caller.endswith(f":assumed-role/{record.role_arn.rsplit('/', 1)[1]}/SageMaker")


def test_invoke_notebook_prints_a_url_that_signs_in_once_and_refuses_a_stopped_instance(instance_stack):
    in_service(instance_stack)
    # A stop ends every process of the instance, on-create's background install too, and a start runs on-start
    # only (as on AWS): the learner waits for install.log's last line first, as the notebook tells them to.
    install_log = instance_volume(instance_stack) / "video-game-sales" / "install.log"

    def install_ended() -> bool:
        lines = install_log.read_text().splitlines() if install_log.is_file() else []
        return bool(lines) and lines[-1].startswith("vgsales on-create: ")

    wait_until(install_ended, timeout=300, message="on-create's install to end before the instance stops")
    env = {**os.environ, "INVOKE_WORKSHOP_STATE_DIR": str(instance_stack.settings.state_dir)}

    def invoke_notebook() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "notebook", "--no-browser"], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    printed = invoke_notebook()
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.splitlines()[0]
    assert requests.get(url.replace("/lab?", "/api/contents?"), proxies={}).status_code == 200
    assert requests.get(url.replace("/lab?", "/api/contents?"), proxies={}).status_code == 403  # once only
    sagemaker = instance_stack.aws.client("sagemaker")
    name = instance_stack.state.read(StackRecord).notebook_instance_name
    sagemaker.stop_notebook_instance(NotebookInstanceName=name)
    sagemaker.get_waiter("notebook_instance_stopped").wait(NotebookInstanceName=name, WaiterConfig={"Delay": 1})
    with pytest.raises(requests.ConnectionError):  # the stopped instance's JupyterLab is gone
        requests.get(url.split("/lab?")[0] + "/api", proxies={}, timeout=5)
    refused = invoke_notebook()
    assert refused.returncode == 1
    assert f"The notebook instance {name} is Stopped, not InService" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_killed_emulator_leaves_no_jupyterlab_behind(instance_stacks, instance_stack):
    """A killed emulator cannot stop its instances: each JupyterLab watches the emulator and shuts down (with its
    kernels) when it is gone."""
    in_service(instance_stack)
    instance_stacks.spent()  # its emulator is killed below
    state_dir = instance_stack.settings.state_dir
    assert instance_processes(state_dir) != []
    # They take SIGTERM, which a stop sends: the emulator blocks it in its own threads, and a child inherits that.
    for pid in instance_processes(state_dir):
        blocked = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("SigBlk:"))
        assert not int(blocked.split()[1], 16) & (1 << (signal.SIGTERM - 1)), pid
    running = instance_stack.target.service.running()
    os.kill(running.pid, signal.SIGKILL)
    wait_until(lambda: instance_processes(state_dir) == [], timeout=10, message="no process of the instance")
