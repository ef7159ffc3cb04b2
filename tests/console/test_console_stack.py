"""`invoke console` watching the workshop on the local target, in a real browser (Debian's chromium and its
chromedriver, driven by selenium, as tests/notebooks/test_notebook_instance.py does): the stack and Open JupyterLab,
a training job's page following the job to its end by itself, its 100 rounds and its log, the endpoint's test form
answering as `invoke deploy`'s sample command does, the evaluation, the bucket, a tuning job's leaderboard, paged
lists that show the stack's rows only, the two languages, the clean-up page listing exactly what teardown then
removes, and the token refusing anyone without it. Screenshots go to test-artifacts/console-*.png: look at them.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests

from vgsales.console.server import ConsoleServer
from vgsales.context import Context
from vgsales.infra import stack
from vgsales.pipeline import data, deploy, evaluate, train, tune
from vgsales.records import DataRecord, EndpointRecord, StackRecord

from support.browser import artifacts_dir, chromium, needs_chromium
from support.stacks import SharedStack
from support.wait import wait_until

pytestmark = pytest.mark.e2e
ROUNDS = 100  # the workshop's num_round (invoke.yaml)
TUNING = {"tuning.max_jobs": 3, "tuning.max_parallel_jobs": 2}


@pytest.fixture(scope="module")
def shared(terraform_available, shared_dataset, make_settings, tmp_path_factory):
    needs_chromium()

    def new_context() -> Context:
        return Context.of(make_settings(tmp_path_factory.mktemp("console"), data_source=str(shared_dataset),
                                        name_prefix="vgconsole", **TUNING))  # fmt: skip

    with SharedStack(new_context) as shared:
        yield shared


def ready(shared: SharedStack) -> Context:
    """The module's stack, set up with the workshop's data (once per stack, whichever test asks first)."""
    shared.step("setup", stack.setup)
    shared.step("data", data.run)
    return shared.ctx


@pytest.fixture(scope="module")
def browser(shared):
    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture
def console(shared, browser):
    """The console of the module's current stack, served in this process, the browser signed in with its URL (the
    token once, then the cookie). A new one for each test: a test that tears the stack down leaves the next a new
    stack, whichever order they run in."""
    served = ConsoleServer(ready(shared)).start()
    browser.get(served.url)
    yield served
    served.stop()


def http_session(browser) -> requests.Session:
    """A requests session on the browser's cookies: what the signed-in browser may fetch."""
    session = requests.Session()
    session.trust_env = False
    for cookie in browser.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def shot(browser, name: str) -> None:
    browser.save_screenshot(str(artifacts_dir() / f"console-{name}.png"))


def deployed(shared) -> EndpointRecord:
    """The workshop up to an evaluated endpoint (whichever test asks first)."""
    shared.step("train", train.run)
    record = shared.step("deploy", deploy.run)
    shared.step("evaluate", evaluate.run)
    return record


def by_css(browser, selector: str):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, selector)


def test_the_stack_page_shows_the_bucket_the_role_and_opens_jupyterlab(shared, console, browser):
    record = shared.ctx.state.read(StackRecord)
    browser.get(f"{console.base_url}/?lang=en")
    page = browser.page_source
    assert record.bucket_name in page and record.role_arn in page
    assert "aws:kms" in page or "AES256" in page  # the bucket's default encryption, read from S3
    assert "sagemaker.amazonaws.com" in page  # who may assume the role, read from its trust policy
    assert "The local target bills nothing." in page
    assert by_css(browser, "table.policy tr"), "the role's statements, as a table"
    wait_until(lambda: _notebook_in_service(shared.ctx, record), timeout=120, message="the notebook instance")
    browser.get(f"{console.base_url}/?lang=en")
    shot(browser, "stack")
    # Open JupyterLab: a presigned URL, handed to the browser as a redirect only (it is in no page)
    assert "authToken" not in browser.page_source
    console_window = browser.current_window_handle
    by_css(browser, "#open-jupyterlab")[0].click()
    lab_window = wait_until(lambda: [handle for handle in browser.window_handles if handle != console_window],
                            timeout=30, message="JupyterLab's tab")[0]  # fmt: skip
    browser.switch_to.window(lab_window)
    wait_until(lambda: by_css(browser, ".jp-DirListing-itemText"), timeout=60, message="JupyterLab's file browser")
    assert browser.current_url.startswith("http://127.0.0.1:") and not browser.current_url.startswith(console.base_url)
    browser.close()
    browser.switch_to.window(console_window)
    # The same post from anywhere but the console's own pages (another server on 127.0.0.1) is refused.
    refused = http_session(browser).post(f"{console.base_url}/notebook", allow_redirects=False,
                                         headers={"Origin": "http://127.0.0.1:8888"})  # fmt: skip
    assert refused.status_code == 403 and "authToken" not in refused.text


def _notebook_in_service(ctx, record) -> bool:
    described = ctx.aws.client("sagemaker").describe_notebook_instance(NotebookInstanceName=record.notebook_instance_name)
    return described["NotebookInstanceStatus"] == "InService"


def test_a_training_jobs_page_follows_it_to_the_end_with_its_rounds_and_log(shared, console, browser):
    ctx = shared.ctx
    sagemaker = ctx.aws.client("sagemaker")
    before = {job["TrainingJobName"] for job in sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]}
    failures: list[BaseException] = []

    def workshop() -> None:  # a new job to watch, whatever an earlier test trained (deploy then serves this one)
        try:
            train.run(ctx)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    running = threading.Thread(target=workshop, name="workshop", daemon=True)
    running.start()
    name = wait_until(lambda: next((job["TrainingJobName"] for job in sagemaker.list_training_jobs(
        MaxResults=100)["TrainingJobSummaries"] if job["TrainingJobName"] not in before), None), timeout=120,
        message="the training job", interval=0.05)  # fmt: skip
    browser.get(f"{console.base_url}/training-jobs/{name}?lang=en")
    live = by_css(browser, "[data-live]")[0]
    assert live.get_attribute("data-done") == "false", "the page opened after the job had ended: nothing to follow"
    browser.execute_script("window.loadedOnce = true;")  # gone if the page reloads
    wait_until(lambda: live.get_attribute("data-done") == "true", timeout=180, message="the page to see the job end")
    running.join(60)
    assert not failures, failures
    assert browser.execute_script("return window.loadedOnce === true;"), "the page reloaded instead of updating"
    assert int(live.get_attribute("data-updates")) >= 1
    status = by_css(browser, '[data-part="status"]')[0].text
    assert "Completed" in status and "Training" in status and "Uploading" in status  # SecondaryStatusTransitions
    rounds = [point.get_attribute("data-x") for point in by_css(browser, 'circle.point[data-series="validation-auc"]')]
    assert rounds == [str(number) for number in range(ROUNDS)]
    assert len(by_css(browser, 'circle.point[data-series="train-auc"]')) == ROUNDS
    log = by_css(browser, "pre.log")[0].text
    assert re.search(rf"^\[{ROUNDS - 1}\]\s+train-auc:", log, re.MULTILINE), log[-500:]
    shot(browser, "training-job")
    browser.get(f"{console.base_url}/training-jobs?lang=en")
    assert name in browser.page_source
    shot(browser, "training-jobs")


def test_the_endpoint_form_answers_as_deploys_sample_command(shared, console, browser):
    from selenium.webdriver.common.by import By

    endpoint = deployed(shared)
    ctx = shared.ctx
    row = deploy.sample_row(Path(ctx.state.read(DataRecord).test_split))
    # what `invoke deploy` prints: invoke_endpoint with the first test row, as libsvm
    expected = ctx.aws.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint.endpoint_name, ContentType="text/x-libsvm", Body=row.encode())["Body"].read().decode()
    browser.get(f"{console.base_url}/endpoints/{endpoint.endpoint_name}?lang=en")
    form = browser.find_element(By.ID, "invoke-form")
    assert form.find_element(By.NAME, "row").get_attribute("value") == row  # the same row, filled in
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    answer = wait_until(lambda: by_css(browser, "#answer"), timeout=30, message="the answer")[0].text
    assert answer.strip() == expected.strip() and 0.0 <= float(answer.strip()) <= 1.0
    # the two invocations are in the endpoint's metrics (CloudWatch, AWS/SageMaker)
    browser.get(f"{console.base_url}/endpoints/{endpoint.endpoint_name}?lang=en")
    invocations = by_css(browser, '[data-metric="Invocations"] circle.point')
    assert sum(float(point.get_attribute("data-y")) for point in invocations) >= 2
    shot(browser, "endpoint")


def test_the_evaluation_page_shows_the_latest_report(shared, console, browser):
    from vgsales.console import reads

    deployed(shared)
    metrics = reads.evaluation(shared.ctx).metrics
    browser.get(f"{console.base_url}/evaluation?lang=zh-TW")
    table = by_css(browser, "#evaluation-metrics")[0].text
    assert f"{metrics.accuracy:.4f}" in table and "準確率" in table
    cells = [cell.text for cell in by_css(browser, "#confusion-matrix td")]
    assert cells == [str(metrics.tn), str(metrics.fp), str(metrics.fn), str(metrics.tp)]
    images = by_css(browser, "section.images img")
    assert len(images) == 2 and all(browser.execute_script("return arguments[0].naturalWidth", image) > 100 for image in images)
    shot(browser, "evaluation")


def test_the_bucket_can_be_browsed_and_an_object_downloaded(shared, console, browser):
    ctx = shared.ctx
    record = ctx.state.read(StackRecord)
    browser.get(f"{console.base_url}/s3?lang=en")
    assert f"{ctx.settings.data_prefix}/" in browser.page_source
    browser.get(f"{console.base_url}/s3?prefix={ctx.settings.data_prefix}/train/&lang=en")
    links = by_css(browser, "a.download")
    assert links, browser.page_source[-2000:]
    shot(browser, "s3")
    downloaded = http_session(browser).get(links[0].get_attribute("href"))
    key = requests.utils.unquote(links[0].get_attribute("href").split("key=", 1)[1])
    stored = ctx.aws.client("s3").get_object(Bucket=record.bucket_name, Key=key)["Body"].read()
    assert downloaded.status_code == 200 and downloaded.content == stored and len(stored) > 1000


def test_a_tuning_jobs_page_counts_its_jobs_and_ranks_them(shared, console, browser):
    ctx = shared.ctx
    shared.step("train", train.run)
    record = shared.step("tune", tune.run)
    browser.get(f"{console.base_url}/tuning-jobs/{record.tuning_job_name}?lang=en")
    counters = by_css(browser, "table.counters")[0].text
    assert "Completed" in counters and str(TUNING["tuning.max_jobs"]) in counters
    rows = by_css(browser, "table.leaderboard tr")[1:]
    assert len(rows) == TUNING["tuning.max_jobs"]
    best = ctx.aws.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=record.tuning_job_name)["BestTrainingJob"]["TrainingJobName"]
    assert best in rows[0].text  # best first, linking to its training job
    assert len(by_css(browser, "circle.point")) == TUNING["tuning.max_jobs"]
    shot(browser, "tuning-job")


def test_lists_are_paged_and_show_the_stacks_rows_only(shared, console, browser):
    ctx = shared.ctx
    sagemaker = ctx.aws.client("sagemaker")
    record = ctx.state.read(StackRecord)
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"

    def model(name: str, stack_tag: str) -> None:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=record.role_arn, PrimaryContainer={"Image": image},
                               Tags=[{"Key": "vgsales:stack", "Value": stack_tag}])  # fmt: skip

    ours = [f"listed-{number:03d}" for number in range(120)]
    for name in ours:
        model(name, ctx.settings.name_prefix)
    model("listed-neighbour", f"{ctx.settings.name_prefix}-ci")  # a neighbour whose tag merely starts the same
    shown: list[str] = []
    browser.get(f"{console.base_url}/models?lang=en")
    pages = 1
    while True:
        on_page = [link.text for link in by_css(browser, 'table.list[data-kind="models"] td a')]
        if pages == 1:  # the neighbour's newest model takes a row of SageMaker's first page, not of the console's
            assert len(on_page) >= 50, len(on_page)
        shown += on_page
        following = by_css(browser, "a.next-page")
        if not following:
            break
        following[0].click()
        pages += 1
    assert pages >= 2, "120 models fit one page of 50"
    assert [name for name in shown if name in ours] == ours[::-1], "newest first, each once"
    assert "listed-neighbour" not in shown
    for name in [*ours, "listed-neighbour"]:
        sagemaker.delete_model(ModelName=name)


def test_the_language_switches_on_the_page(console, browser):
    browser.delete_cookie("vgsales_console_lang")
    browser.get(f"{console.base_url}/training-jobs?lang=en")
    assert by_css(browser, "h1")[0].text == "Training jobs"
    next(link for link in by_css(browser, "a.language") if link.text == "繁體中文").click()
    assert wait_until(lambda: by_css(browser, "h1")[0].text, timeout=10, message="the page") == "訓練工作"
    browser.get(f"{console.base_url}/training-jobs")  # the choice is remembered
    assert by_css(browser, "h1")[0].text == "訓練工作"
    shot(browser, "zh-TW")


def test_a_wrong_token_or_none_is_refused(console):
    token = console.url.split("token=", 1)[1]
    for url in (f"{console.base_url}/?token={token[:-1]}{'a' if token[-1] != 'a' else 'b'}", f"{console.base_url}/",
                f"{console.base_url}/training-jobs"):  # fmt: skip
        answer = requests.get(url, proxies={"http": None, "https": None}, timeout=10)
        assert answer.status_code == 403, url
        assert "vgconsole" not in answer.text


def test_pages_load_nothing_from_elsewhere(console, browser):
    """Every stylesheet, script and image of a page comes from the console itself: nothing from the internet."""
    for page in ("/", "/training-jobs", "/evaluation", "/cleanup"):
        browser.get(f"{console.base_url}{page}")
        sources = browser.execute_script(
            "return [...document.querySelectorAll('link[href], script[src], img[src]')].map(e => e.href || e.src)")
        assert sources and all(source.startswith(console.base_url + "/") for source in sources), (page, sources)


def test_invoke_console_prints_its_url_serves_it_and_ends_on_ctrl_c(shared):
    import os
    import signal
    import subprocess
    import sys

    project = Path(__file__).resolve().parents[2]
    ctx = ready(shared)
    env = {**os.environ, "INVOKE_WORKSHOP_STATE_DIR": str(ctx.settings.state_dir),
           "INVOKE_WORKSHOP_NAME_PREFIX": ctx.settings.name_prefix}  # fmt: skip
    served = subprocess.Popen([sys.executable, "-m", "invoke", "console", "--no-browser"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = served.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{43}", url), url
        session = requests.Session()
        session.trust_env = False
        page = wait_until(lambda: _answer(session, url), timeout=30, message="the console")
        assert page.status_code == 200 and ctx.state.read(StackRecord).bucket_name in page.text
    finally:
        served.send_signal(signal.SIGINT)
        out, err = served.communicate(timeout=20)
    assert served.returncode == 0, err
    assert "Traceback" not in err


def _answer(session: requests.Session, url: str):
    try:
        return session.get(url, timeout=10)
    except requests.ConnectionError:
        return None


# Last: it tears the stack down (a test run alone builds a new one, through the module's SharedStack).
def test_the_clean_up_page_lists_exactly_what_teardown_removes(shared, console, browser):
    deployed(shared)
    ctx = shared.ctx
    # A resource of the stack that Terraform's state does not record (an interrupted setup's, say): found by its
    # name and tag, listed after the destroy, as teardown removes it.
    ctx.aws.client("sagemaker").create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=f"{ctx.settings.name_prefix}-left-behind",
        Tags=[{"Key": "vgsales:stack", "Value": ctx.settings.name_prefix}])
    browser.get(f"{console.base_url}/cleanup?lang=en")
    shot(browser, "cleanup")

    def listed(part: str) -> list[str]:
        return [f"{item.get_attribute('data-kind')} {item.get_attribute('data-name')}" for item in by_css(browser, f"li.{part}")]

    pipeline, untracked = listed("pipeline"), listed("untracked")
    terraform = by_css(browser, "li.terraform")
    service = [element.text for element in by_css(browser, ".service")]
    assert {"endpoint", "endpoint-config", "model"} <= {item.split()[0] for item in pipeline}, pipeline
    assert len(terraform) >= 4 and service, (terraform, service)  # bucket, role, notebook, lifecycle config and more
    assert untracked == [f"lifecycle-config {ctx.settings.name_prefix}-left-behind"]
    shared.spent()  # whatever happens next, the module's next test needs a new stack
    removed = stack.teardown(ctx)
    assert removed == [*pipeline, f"{len(terraform)} Terraform-managed resources", *untracked, *service]
