"""What setup's summary points a learner at: the notebook instance's console page on AWS, never on the local target,
where the AWS console shows nothing of the stack: there, `invoke notebook` opens the instance's JupyterLab."""

from __future__ import annotations

import pytest

from vgsales import targets
from vgsales.output import console
from vgsales.infra import stack
from vgsales.records import StackRecord

CONSOLE_URL = "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/notebook-instances/vgsales-notebook"


def record(notebook: bool = True) -> StackRecord:
    return StackRecord(
        target="local", region="us-east-1", name_prefix="vgsales", data_prefix="video-game-sales",
        bucket_name="vgsales-123456789012-us-east-1", role_arn="arn:aws:iam::123456789012:role/vgsales-sagemaker-execution",
        notebook_instance_name="vgsales-notebook" if notebook else None,
        notebook_console_url=CONSOLE_URL if notebook else None,
    )  # fmt: skip


def summary(settings, stack_record: StackRecord) -> str:
    with console.capture() as captured:
        stack._print_outputs(stack_record, targets.of(settings))
    return captured.get()


def test_the_local_summary_sends_nobody_to_the_aws_console(make_settings, tmp_path):
    text = summary(make_settings(tmp_path), record())
    assert "console.aws.amazon.com" not in text
    assert "vgsales-notebook" in text
    assert "`invoke notebook` opens it" in text


def test_the_aws_summary_links_the_notebook_instance_in_the_console(make_settings, tmp_path):
    text = summary(make_settings(tmp_path, target="aws"), record())
    assert f"notebook_console_url    {CONSOLE_URL}" in text
    assert "invoke notebook" not in text


@pytest.mark.parametrize("where", ["local", "aws"])
def test_without_a_notebook_instance_no_notebook_line(make_settings, tmp_path, where):
    text = summary(make_settings(tmp_path, target=where), record(notebook=False))
    assert "notebook" not in text and "role_arn" in text
