"""The rehearsal in another region than the default, without the question (confirm: false), and the question
answered "no": the aws target's confirmation is what stands between a plan and the money it costs."""

from __future__ import annotations

import pytest
from support.rehearsals import rehearse

from vgsales.emulator import daemon

pytestmark = pytest.mark.e2e


def test_in_eu_west_1_the_region_reaches_every_client_and_the_image(terraform_available, shared_dataset,
                                                                    tmp_path_factory):
    # Without the notebook instance and the bucket's lifecycle rule (the us-east-1 rehearsal has both): fewer
    # resources to plan, and no 55 s wait for the provider to read the rule back, which this test is not about.
    done = rehearse(tmp_path_factory.mktemp("rehearsal-eu"), shared_dataset, region="eu-west-1", confirm="false",
                    terraform_create_notebook_instance="false", terraform_bucket_lifecycle_rule="false")
    assert done.terminal.returncode == 0, done.text
    assert "[y/N]" not in done.text, "confirm: false applies the plan it showed without asking"
    assert "terraform plan" in done.text and "terraform apply (" in done.text
    assert "aws_s3_bucket_lifecycle_configuration" not in done.text, "terraform.bucket_lifecycle_rule: false"
    assert "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.2-0" in done.section("train")
    hosts = done.tunnelled_hosts()
    assert {"sts.eu-west-1.amazonaws.com:443", "api.sagemaker.eu-west-1.amazonaws.com:443",
            "runtime.sagemaker.eu-west-1.amazonaws.com:443"} <= hosts, hosts
    assert not any(".us-east-1." in host for host in hosts), hosts
    assert done.record["region"] == "eu-west-1"
    assert all(step["error"] is None for step in done.record["steps"]), done.record
    assert daemon.processes_under(done.state_dir) == []


def test_no_creates_nothing_and_stops_the_emulator(terraform_available, shared_dataset, tmp_path_factory):
    done = rehearse(tmp_path_factory.mktemp("rehearsal-no"), shared_dataset, answers={"[y/N]": "n"})
    assert done.terminal.returncode == 1, done.text
    assert "Setup cancelled: nothing was created." in done.text
    setup = done.step("setup")
    assert setup["error"] and setup["created"] == [], setup
    assert [step["step"] for step in done.record["steps"]] == ["setup", "teardown"]
    assert done.step("teardown")["removed"] == []
    assert not any(line.startswith("apply ") for line in done.terraform_commands())
    assert daemon.processes_under(done.state_dir) == []
