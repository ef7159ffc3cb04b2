"""sagemaker-core's "Wait Log Panel" and how the pipeline keeps it off the terminal.

The SDK's waiters open a rich Live panel on rich's global console, whatever the application prints meanwhile;
in a terminal it fights the pipeline's own spinner and streamed log (tests/pipeline/test_terminal_output.py).
``library_displays_off`` makes that console draw nothing while a waiter runs. The first test is a canary: it
fails when sagemaker-core stops drawing there (then the workaround has nothing left to do, or misses where it
draws now), the second holds the workaround to its promise on the real waiters.

The table holds the waiters the pipeline still calls. `invoke train` no longer calls ``TrainingJob.wait``: it
follows the job and its log itself (vgsales.pipeline.train.follow, tests/pipeline/test_train_log.py), so that
waiter is not in the table.
"""

from __future__ import annotations

import io

import pytest
import rich
from botocore.exceptions import ClientError
from rich.console import Console
from sagemaker.core.resources import Endpoint, TransformJob
from sagemaker.core.shapes import TransformResources

from vgsales import output as vgsales_console


def _gone(self, *args, **kwargs):
    raise ClientError({"Error": {"Code": "ValidationException", "Message": "Could not find endpoint"}},
                      "DescribeEndpoint")


# Every waiter the pipeline calls, on a resource already in the state it waits for, so no request is sent.
WAITERS = {
    "TransformJob.wait": (TransformJob, None, lambda: TransformJob(
        transform_job_name="vgsales-transform-1", transform_job_status="Completed",
        transform_resources=TransformResources(instance_type="ml.m5.large", instance_count=1)).wait(poll=1)),
    "Endpoint.wait_for_status": (Endpoint, None, lambda: Endpoint(
        endpoint_name="vgsales-endpoint", endpoint_status="InService").wait_for_status("InService", poll=1)),
    "Endpoint.wait_for_delete": (Endpoint, _gone, lambda: Endpoint(
        endpoint_name="vgsales-endpoint", endpoint_status="Deleting").wait_for_delete(poll=1)),
}


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """Rich's global console as it is in a terminal, 80 columns wide, writing into the returned buffer."""
    screen = io.StringIO()
    monkeypatch.setattr(rich, "_console", Console(file=screen, force_terminal=True, width=80))
    return screen


@pytest.fixture(params=list(WAITERS))
def waiter(request, monkeypatch):
    resource, refresh, wait = WAITERS[request.param]
    monkeypatch.setattr(resource, "refresh", refresh or (lambda self, *args, **kwargs: self))
    return wait


def test_canary_sagemaker_core_draws_its_wait_panel_on_richs_global_console(terminal, waiter):
    waiter()
    assert "Wait Log Panel" in terminal.getvalue(), (
        "sagemaker-core no longer draws its wait panel on rich's global console: see whether "
        "vgsales.output.library_displays_off is still needed, or where the panel is drawn now"
    )


def test_library_displays_off_keeps_the_panel_out_and_the_pipeline_console_in(terminal, waiter, capsys):
    global_console = rich.get_console()
    with vgsales_console.library_displays_off():
        waiter()
        vgsales_console.console.print("the pipeline's own line")
    assert terminal.getvalue() == "", "nothing at all reaches the terminal from the SDK's panel"
    assert "the pipeline's own line" in capsys.readouterr().out
    # Afterwards the global console is itself again: the same object, a terminal, writing where it did.
    assert rich.get_console() is global_console and global_console.is_terminal
    global_console.print("after")
    assert terminal.getvalue() == "after\n"
