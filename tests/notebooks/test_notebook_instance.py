"""Module 1 of the workshop on the local target, in a real browser: `invoke notebook`'s presigned URL opens the
stack's notebook instance in JupyterLab, whose file browser shows the notebooks the lifecycle configuration put
there, and the Chinese notebook runs to the end in the instance's conda_python3 kernel, as the instance's
execution role, on the browser's own session. Then nothing of the instance outlives its emulator.

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

import psutil
import pytest
import requests

from vgsales import notebook
from vgsales.context import Context
from vgsales.emulator import notebook_instances
from vgsales.infra import notebook_access, stack
from vgsales.records import StackRecord

from support.jupyter import outputs_text, run_notebook
from support.stacks import discard
from support.wait import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "video-game-sales/cht-video-game-sales-xgboost.ipynb"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")
MIN_ACCURACY = 0.86


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("VGSALES_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def needs(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {reason}")
        pytest.skip(f"no {reason}")


@pytest.fixture(scope="module")
def instance_stack(shared_dataset, tmp_path_factory):
    needs(shutil.which("terraform") is not None, "terraform on PATH")
    needs(all(Path(path).exists() for path in CHROMIUM), "chromium and chromedriver (apt-get install chromium chromium-driver)")
    state_dir = tmp_path_factory.mktemp("workshop-state")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INVOKE_WORKSHOP_STATE_DIR", str(state_dir))
        env.delenv(notebook.PROJECT_DIR_ENV, raising=False)
        ctx = Context.of(notebook.load_settings(PROJECT_ROOT))
        try:
            stack.setup(ctx)
            yield ctx
        finally:
            discard(ctx)
            # Hygiene: nothing of the instance (JupyterLab, kernels, the scripts' background jobs) outlives it.
            assert instance_processes(state_dir) == []


def instance_processes(state_dir: Path) -> list[int]:
    found = []
    for process in psutil.process_iter():
        try:
            if notebook_instances.MARK in process.environ() and str(state_dir) in process.environ().get("HOME", ""):
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def browser(instance_stack):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMIUM[1]), options=options)
    yield driver
    driver.quit()


def file_browser_names(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, ".jp-DirListing-itemText")]


def test_open_jupyterlab_upload_run(instance_stack, browser, shared_dataset):
    url = notebook_access.presigned_url(instance_stack)  # what `invoke notebook` prints and opens
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/lab\?authToken=[\w-]{43}", url)
    base = url.split("/lab?")[0]
    browser.get(url)
    # JupyterLab, in the instance's volume, with the bundle's folder that on-create copied from the bucket
    wait_until(lambda: "video-game-sales" in file_browser_names(browser), timeout=60, message="the file browser")
    browser.save_screenshot(str(artifacts_dir() / "notebook-instance-jupyterlab.png"))
    browser.get(f"{base}/lab/tree/video-game-sales")
    names = wait_until(lambda: [name for name in file_browser_names(browser) if name.endswith(".ipynb")], timeout=60,
                       message="the bundle's notebooks")
    assert sorted(names) == ["cht-video-game-sales-xgboost.ipynb", "video-game-sales-xgboost.ipynb"]

    # The browser's session (its cookies) runs the notebook through Jupyter's own API, as its UI would.
    http = requests.Session()
    http.trust_env = False
    for cookie in browser.get_cookies():
        http.cookies.set(cookie["name"], cookie["value"])
    # Offline, the learner points the Data cell at a local copy of the dataset (docs/workshop-guide.md).
    preamble = f"import os; os.environ['INVOKE_WORKSHOP_DATA_SOURCE'] = {str(shared_dataset)!r}"
    document = run_notebook(base, http, NOTEBOOK, "conda_python3", preamble=preamble)
    cells = {cell.get("id"): cell for cell in document.cells}
    setup_text = outputs_text(cells["setup-code"])
    assert "notebook instance" in setup_text  # discovery found the instance's stack file, not the project
    matrix_text = outputs_text(cells["evaluate-matrix"])
    assert "predicted hit" in matrix_text and "actual hit" in matrix_text
    assert float(re.search(r"accuracy: (\d\.\d{4})", matrix_text).group(1)) >= MIN_ACCURACY
    assert "Removed 3 resource(s)." in outputs_text(cells["cleanup-run"])

    browser.get(f"{base}/lab/tree/{NOTEBOOK}")
    from selenium.webdriver.common.by import By

    shown = wait_until(lambda: browser.find_elements(By.XPATH, "//pre[contains(., 'accuracy: ')]"), timeout=90,
                       message="the executed notebook's accuracy")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown[0])
    time.sleep(1)  # JupyterLab renders the cells around it
    browser.save_screenshot(str(artifacts_dir() / "notebook-instance-executed.png"))


def test_invoke_notebook_prints_a_url_that_signs_in_once_and_refuses_a_stopped_instance(instance_stack):
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


def test_a_killed_emulator_leaves_no_jupyterlab_behind(instance_stack):
    """A killed emulator cannot stop its instances: each JupyterLab watches the emulator and shuts down (with its
    kernels) when it is gone."""
    sagemaker = instance_stack.aws.client("sagemaker")
    name = instance_stack.state.read(StackRecord).notebook_instance_name
    if sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] != "InService":
        sagemaker.start_notebook_instance(NotebookInstanceName=name)
        sagemaker.get_waiter("notebook_instance_in_service").wait(NotebookInstanceName=name, WaiterConfig={"Delay": 1})
    state_dir = instance_stack.settings.state_dir
    assert instance_processes(state_dir) != []
    # They take SIGTERM, which a stop sends: the emulator blocks it in its own threads, and a child inherits that.
    for pid in instance_processes(state_dir):
        blocked = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("SigBlk:"))
        assert not int(blocked.split()[1], 16) & (1 << (signal.SIGTERM - 1)), pid
    running = instance_stack.target.service.running()
    os.kill(running.pid, signal.SIGKILL)
    wait_until(lambda: instance_processes(state_dir) == [], timeout=10, message="no process of the instance")
