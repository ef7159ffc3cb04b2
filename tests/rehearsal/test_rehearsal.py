"""`invoke rehearse` end to end, as a person runs it: in a terminal, answering the aws target's [y/N] with y.

The aws target's code path runs against AWS's real hostnames, which the rehearsal's emulator answers through its
proxy. What the transcript, the Terraform log, the emulator's log and the record must show is what would happen
on an account: the plan shown, the question asked, the saved plan applied from its file, the bucket's lifecycle
rule created, a second setup that refreshes and changes nothing, the region's image, the cost column, and a
teardown after which nothing of the stack is left and no process runs.
"""

from __future__ import annotations

import json
import re

import pytest
from support.rehearsals import Rehearsal, rehearse

from vgsales.emulator import daemon

pytestmark = pytest.mark.e2e

QUESTION = "Create these resources in AWS account 123456789012 (us-east-1)? They cost money while they exist. [y/N]"


@pytest.fixture(scope="module")
def rehearsal(terraform_available, shared_dataset, tmp_path_factory) -> Rehearsal:
    return rehearse(tmp_path_factory.mktemp("rehearsal"), shared_dataset, answers={"[y/N]": "y"})


def test_the_rehearsal_runs_every_step_and_exits_0(rehearsal):
    assert rehearsal.terminal.returncode == 0, rehearsal.text
    assert [step["step"] for step in rehearsal.record["steps"]] == [
        "setup", "setup again", "data", "train", "deploy", "evaluate", "status", "teardown"]
    assert all(step["error"] is None for step in rehearsal.record["steps"]), rehearsal.record
    assert rehearsal.record["target"] == "aws" and rehearsal.record["rehearsal"] is True


def test_the_plan_is_shown_then_asked_about_then_applied_from_its_file(rehearsal):
    text = rehearsal.text
    plan = text.index("module.data_bucket.aws_s3_bucket_lifecycle_configuration.this[0] will be created")
    question = text.index(QUESTION)
    applied = text.index("terraform apply (")
    assert plan < question < applied, text
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy\.", text[:question])
    assert "Deprecated flag: -state" not in text[:question], "the warning is about our own flag, not the plan"
    # Terraform's own log: `plan -out=<file>`, then `apply <that file>`, with no variables of its own.
    runs = rehearsal.terraform_commands()
    plans = [line for line in runs if line.startswith("plan ")]
    applies = [line for line in runs if line.startswith("apply ")]
    assert plans and applies, runs
    plan_file = re.search(r"-out=(\S+)", plans[0]).group(1)
    assert applies[0].endswith(f" {plan_file} (exit 0)") and "-var" not in applies[0], applies[0]


def test_the_bucket_lifecycle_rule_is_created_and_read_back(rehearsal):
    log = rehearsal.terraform_log()
    assert re.search(r"aws_s3_bucket_lifecycle_configuration\.this\[0\]: Creation complete after \d+s", log), log


def test_setup_again_refreshes_and_changes_nothing(rehearsal):
    again = rehearsal.section("setup again")
    assert "The stack is up to date: nothing to change." in again, again
    assert QUESTION not in again
    refreshed = [line for line in rehearsal.terraform_commands() if line.startswith("plan ")]
    assert len(refreshed) == 2 and all("-refresh=false" not in line for line in refreshed), refreshed


def test_every_client_went_to_aws_hostnames_through_the_proxy(rehearsal):
    """Terraform's provider (IAM is global, S3 virtual-hosted), the pipeline's clients and the runtime client."""
    hosts = rehearsal.tunnelled_hosts()
    bucket = next(item.split(" ", 1)[1] for item in rehearsal.step("setup")["created"] if item.startswith("bucket "))
    assert {
        "sts.us-east-1.amazonaws.com:443", "iam.amazonaws.com:443", "api.sagemaker.us-east-1.amazonaws.com:443",
        "runtime.sagemaker.us-east-1.amazonaws.com:443", "logs.us-east-1.amazonaws.com:443",
    } <= hosts, hosts
    # Virtual-hosted, as the provider addresses a bucket on AWS (in us-east-1 on S3's global name, by default).
    assert {f"{bucket}.s3.amazonaws.com:443", f"{bucket}.s3.us-east-1.amazonaws.com:443"} & hosts, hosts
    assert "AWS_ENDPOINT_URL" not in rehearsal.text


def test_training_uses_the_image_the_sdk_resolves_for_the_region(rehearsal):
    assert "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0" in rehearsal.section("train")


def test_status_shows_what_costs_money(rehearsal):
    status = rehearsal.section("status")
    assert "costs money now" in status
    endpoint = next(line for line in status.splitlines() if line.strip().startswith("endpoint "))
    assert " yes " in endpoint, status
    assert "Some resources cost money while they run" in status


def test_each_step_records_what_it_created_and_teardown_removes_it_all(rehearsal):
    kinds = {step["step"]: sorted(item.split(" ")[0] for item in step["created"]) for step in rehearsal.record["steps"]}
    assert kinds["setup"] == ["bucket", "lifecycle-config", "notebook-instance", "role"]
    assert kinds["setup again"] == kinds["data"] == kinds["evaluate"] == kinds["status"] == []
    assert kinds["train"] == ["training-job"]
    assert kinds["deploy"] == ["endpoint", "endpoint-config", "model"]
    created = {item for step in rehearsal.record["steps"][:-1] for item in step["created"]}
    teardown = rehearsal.step("teardown")
    # A finished training job is history on SageMaker: it cannot be deleted and costs nothing.
    assert set(teardown["removed"]) == {item for item in created if not item.startswith("training-job ")}
    assert rehearsal.step("data")["objects"] >= 3 and teardown["objects"] == 0


def test_nothing_is_left_running_and_the_record_compares(rehearsal, tmp_path):
    assert daemon.processes_under(rehearsal.state_dir) == []
    assert not (rehearsal.state_dir / "aws").exists(), "the rehearsal never writes the aws target's own state"
    compared = rehearsal.invoke("walkthrough.compare", str(rehearsal.record_file), str(rehearsal.record_file))
    assert compared.returncode == 0, compared.stderr
    assert re.search(r"^deploy\s+\S+ s\s+\S+ s\s+same kinds$", compared.stdout, re.MULTILINE), compared.stdout
    json.loads(rehearsal.record_file.read_text())  # whole, after the last step
