"""The rehearsal's parts, each on its own: the shell it refuses, the target it builds (the aws target but for two
named properties), its connection (AWS's hostnames through the proxy, nothing of the user's), what it keeps of
an earlier run, and the walkthrough's record: teardown after a failed step, never after a Ctrl-C."""

from __future__ import annotations

import json
import logging
import os

import pytest

from vgsales import rehearsal as rehearsal_run
from vgsales import walkthrough
from vgsales.emulator.proxy import HOSTS_LOGGED, TunnelProxy
from vgsales.errors import Interrupted, WorkshopError
from vgsales.infra.terraform import _shown
from vgsales.targets import aws, rehearsal


# Written out, not read from CREDENTIAL_VARIABLES: a name dropped from that tuple must fail here.
REFUSED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
           "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "VGSALES_TARGET_VARIABLES")


@pytest.mark.parametrize("name", REFUSED)
def test_a_shell_with_credentials_or_a_profile_is_refused_naming_them(name):
    with pytest.raises(WorkshopError, match=rf"\({name}\).*`env -u {name}` before the command"):
        rehearsal_run.refuse_credentials({name: "something", "PATH": "/usr/bin"})


@pytest.mark.parametrize("environ", [
    {}, {"AWS_PROFILE": ""}, {"AWS_ACCESS_KEY_ID": "  "},  # set but empty: nothing to use
    {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_CA_BUNDLE": "/etc/ssl/ca.pem",
     "AWS_PROFILE_NOTE": "mine", "HTTPS_PROXY": "http://proxy.corp:3128"},  # AWS_ names that hold no identity
], ids=["nothing", "empty profile", "blank key", "neighbours"])
def test_a_shell_without_them_is_accepted(environ):
    rehearsal_run.refuse_credentials(environ)


def test_the_rehearsal_is_the_aws_target_but_for_its_polls(make_settings, tmp_path):
    settings = rehearsal.settings_of(make_settings(tmp_path))
    assert settings.target == "aws" and settings.target_dir == tmp_path / "rehearsal" / "aws"
    target = rehearsal.target(settings)
    assert rehearsal.differing(target, aws.target(settings)) == [("poll_seconds", rehearsal.POLL_SECONDS, 10.0)]
    assert target.service.description is None, "setup and teardown start and stop nothing, as on AWS"
    listed = rehearsal.differences(target, settings)
    assert [line.split(":")[0] for line in listed] == ["poll_seconds", "service"]


def test_the_aws_path_lists_what_the_local_target_does_differently(make_settings, tmp_path):
    settings = rehearsal.settings_of(make_settings(tmp_path))
    lines = rehearsal.aws_path(settings, rehearsal.target(settings))
    names = [line.split(":")[0] for line in lines]
    assert {"asks_before_apply", "trusts_terraform_state", "terraform_variables", "removes_untracked_resources"} <= set(names)
    assert not set(names) & set(rehearsal.WORDING), "only what changes what runs, not the notes a target prints"
    assert "poll_seconds" not in names, "the rehearsal does not take the aws target's polls: listed once, below"
    assert "terraform_variables: none (the local target: s3_use_path_style=True," in "\n".join(lines)


@pytest.mark.emulator
def test_its_connection_names_no_endpoint_and_takes_nothing_of_the_users(make_settings, tmp_path):
    settings = rehearsal.settings_of(make_settings(tmp_path))
    service = rehearsal.target(settings).service
    with pytest.raises(WorkshopError, match="not running"):
        service.connection("eu-west-1")
    service.start()
    try:
        connection = service.connection("eu-west-1")
        assert connection.endpoint_url is None and connection.proxy_url.startswith("http://127.0.0.1:")
        assert connection.isolated and connection.ca_bundle and connection.max_attempts is None
        users = {"AWS_PROFILE": "prod", "NO_PROXY": ".amazonaws.com", "no_proxy": "amazonaws.com",
                 "HTTPS_PROXY": "http://proxy.corp:3128", "AWS_CONFIG_FILE": "/home/me/.aws/config", "LANG": "C"}
        environment = connection.subprocess_environment(users)
        assert "AWS_ENDPOINT_URL" not in environment and "AWS_PROFILE" not in environment
        assert "NO_PROXY" not in environment and "no_proxy" not in environment
        assert environment["HTTPS_PROXY"] == connection.proxy_url and environment["AWS_REGION"] == "eu-west-1"
        assert environment["AWS_CONFIG_FILE"] == environment["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
        assert environment["LANG"] == "C"
    finally:
        service.stop()
    assert not service.is_up()


def test_an_earlier_rehearsals_state_goes_and_its_caches_stay(tmp_path):
    for path in ["notebook-bundle/vgsales.whl", "terraform/data/providers/aws", "terraform/terraform.tfstate",
                 "terraform/setup.tfplan", "terraform/data-old/x", "stack.json", "data/train.libsvm",
                 "notebook-bundles/stale"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    rehearsal_run.discard_earlier_state(tmp_path)
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert left == ["notebook-bundle/vgsales.whl", "terraform/data/providers/aws"]
    rehearsal_run.discard_earlier_state(tmp_path / "missing")  # a first rehearsal has nothing to discard


def test_the_terraform_log_names_each_option_but_no_variables_value():
    from python_terraform import IsFlagged, IsNotFlagged

    shown = _shown(("/s/setup.tfplan",), {"var": {"tags": {"secret": "v"}, "region": "x"}, "input": False,
                                          "no_color": IsFlagged, "lock": IsNotFlagged, "state": "/s/t", "out": None})
    assert shown == "-var tags=… -var region=… -input=false -no-color -state=/s/t /s/setup.tfplan"


def test_the_plan_shown_leaves_out_only_terraforms_warning_about_our_state_flag():
    from vgsales.infra.terraform import _summarise_plan

    warning = ("\nWarning: Deprecated flag: -state\n\nUse `path` attribute within the `local` backend instead:\n"
               "https://developer.hashicorp.com/terraform/language/v1.10.x/settings/backends/local#path\n")
    other = "\nWarning: Argument is deprecated\n\nUse tags_all instead.\n"  # near miss: a warning about the config
    plan = _summarise_plan(warning + "data.aws_region.current: Reading...\n" + other + "Plan: 3 to add, 0 to change, 0 to destroy.\n")
    assert "Deprecated flag" not in plan.text and "Argument is deprecated" in plan.text
    assert plan.text.index("Reading...") < plan.text.index("Plan: 3 to add") and plan.add == 3


def test_the_proxy_logs_each_hostname_once_and_remembers_a_bounded_number(caplog):
    proxy = TunnelProxy("127.0.0.1", ("127.0.0.1", 9)).start()
    try:
        with caplog.at_level(logging.INFO, logger="vgsales.emulator.proxy"):
            proxy._note_host("sts.us-east-1.amazonaws.com:443")
            proxy._note_host("sts.us-east-1.amazonaws.com:443")
            for number in range(HOSTS_LOGGED + 5):
                proxy._note_host(f"b{number}.s3.amazonaws.com:443")
    finally:
        proxy.stop()
    logged = [record.getMessage() for record in caplog.records]
    assert logged.count("proxy: first tunnel to sts.us-east-1.amazonaws.com:443") == 1
    assert len(logged) == HOSTS_LOGGED


# --- the walkthrough's control flow, with steps that only say what ran --------------------------------------


@pytest.fixture
def scripted(monkeypatch, make_settings, tmp_path):
    """walkthrough.run with ``steps`` of its own, nothing to discover, and a teardown that notes it ran."""
    ran: list[str] = []

    def install(*actions):
        monkeypatch.setattr(walkthrough, "steps", lambda ctx: list(actions))
        monkeypatch.setattr(walkthrough, "snapshot", lambda ctx: walkthrough.Snapshot(frozenset(ran), 0))
        monkeypatch.setattr(walkthrough, "_stack_teardown", lambda ctx: ran.append("teardown"))
        return ran

    from vgsales.context import Context

    return install, Context.of(make_settings(tmp_path)), tmp_path / "record.json"


def test_a_failed_step_ends_the_walkthrough_and_teardown_still_runs(scripted):
    install, ctx, record_file = scripted

    def fail(ctx):
        raise WorkshopError("the training job failed.")

    ran = install(("setup", lambda ctx: ran.append("setup")), ("train", fail), ("deploy", lambda ctx: ran.append("deploy")))
    with pytest.raises(WorkshopError, match=r"stopped at step 'train': the training job failed\. Teardown ran"):
        walkthrough.run(ctx, record_file)
    assert ran == ["setup", "teardown"]
    steps = json.loads(record_file.read_text())["steps"]
    assert [(step["step"], step["error"]) for step in steps] == [
        ("setup", None), ("train", "the training job failed."), ("teardown", None)]


def test_a_crash_still_tears_down_then_propagates(scripted):
    install, ctx, record_file = scripted

    def crash(ctx):
        raise RuntimeError("a bug")

    ran = install(("setup", lambda ctx: ran.append("setup")), ("train", crash))
    with pytest.raises(RuntimeError, match="a bug"):
        walkthrough.run(ctx, record_file)
    assert ran == ["setup", "teardown"]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, Interrupted("Interrupted. The emulator was stopped.")],
                         ids=["raw", "handled by the step"])
def test_a_ctrl_c_skips_teardown_and_keeps_what_was_measured(scripted, interrupt):
    install, ctx, record_file = scripted

    def press(ctx):
        raise interrupt

    ran = install(("setup", lambda ctx: ran.append("setup")), ("train", press))
    with pytest.raises(type(interrupt) if isinstance(interrupt, BaseException) else interrupt):
        walkthrough.run(ctx, record_file)
    assert ran == ["setup"], "a person pressed Ctrl-C to stop: nothing more runs"
    assert [step["step"] for step in json.loads(record_file.read_text())["steps"]] == ["setup"]


def test_each_step_records_what_appeared_and_went(scripted):
    install, ctx, record_file = scripted
    ran = install(("setup", lambda ctx: ran.append("bucket b")), ("deploy", lambda ctx: ran.append("endpoint e")))
    walkthrough.run(ctx, record_file)
    steps = {step["step"]: step for step in json.loads(record_file.read_text())["steps"]}
    assert steps["setup"]["created"] == ["bucket b"] and steps["deploy"]["created"] == ["endpoint e"]
    assert steps["teardown"]["created"] == ["teardown"] and steps["teardown"]["removed"] == []


def test_compare_lines_steps_up_and_names_kinds_that_differ():
    def record(target, *steps):
        return {"version": 1, "target": target, "region": "us-east-1",
                "steps": [{"step": name, "seconds": seconds, "created": created} for name, seconds, created in steps]}

    rehearsed = record("aws", ("setup", 60.0, ["bucket a", "role r"]), ("deploy", 0.2, ["endpoint e-1"]))
    rehearsed["rehearsal"] = True
    real = record("aws", ("setup", 95.5, ["bucket b", "role r"]), ("deploy", 420.0, []), ("status", 1.0, []))
    lines = walkthrough.compare(rehearsed, real)
    assert "aws (rehearsal) us-east-1" in lines[0] and lines[0].count("aws") == 2
    assert lines[1].startswith("setup") and "60.0 s" in lines[1] and "95.5 s" in lines[1] and lines[1].endswith("same kinds")
    assert lines[2].endswith("endpoint | "), lines[2]
    assert lines[3].startswith("status") and " - " in lines[3]


@pytest.mark.parametrize(("text", "problem"), [
    (None, "No walkthrough record"), ("{", "is not a walkthrough record"),
    ('{"version": 2, "steps": []}', "of version 1"), ('{"version": 1}', "of version 1"), ("[]", "of version 1"),
], ids=["missing", "not JSON", "another version", "no steps", "a list"])
def test_a_file_that_is_no_record_is_refused_in_one_sentence(tmp_path, text, problem):
    path = tmp_path / "record.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(WorkshopError, match=problem):
        walkthrough.read_record(path)
