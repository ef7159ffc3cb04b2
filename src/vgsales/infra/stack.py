"""`invoke setup`, `teardown` and `status`: the stack's long-lived resources on either target."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .. import resources, target
from ..console import console, step
from ..emulator import daemon
from ..errors import WorkshopError
from ..settings import Settings
from ..state import RunState
from . import bundle, orphans, terraform
from .terraform import TerraformStack
from .terraform_cli import mirror_from_env

# Records that describe resources on the target; they go when the resources go.
TARGET_RECORDS = ("stack", "training", "endpoint")


def bundle_dir(settings: Settings) -> Path:
    """Where setup builds what the notebook instance's on-create copies (see infra/bundle.py)."""
    return settings.target_dir / "notebook-bundle"


def terraform_variables(settings: Settings) -> dict[str, Any]:
    """The root's variables; the notebook bundle only if it was built (setup builds it when it is needed)."""
    variables: dict[str, Any] = {
        "region": settings.region,
        "name_prefix": settings.name_prefix,
        "data_prefix": settings.data_prefix,
        "tags": dict(settings.tags),
        "create_notebook_instance": settings.terraform.create_notebook_instance,
        "notebook_instance_type": settings.terraform.notebook_instance_type,
        "idle_timeout_minutes": settings.terraform.idle_timeout_minutes,
    }
    if settings.terraform.create_notebook_instance and (bundle_dir(settings) / bundle.MANIFEST).is_file():
        variables["notebook_bundle_dir"] = str(bundle_dir(settings))
    if settings.target == "local":
        # The emulator serves S3 on one host name, and its 500s should fail fast, not retry for minutes.
        variables["s3_use_path_style"] = True
        variables["provider_max_retries"] = 2
        # Provider 5.x waits ~55 s for a new lifecycle rule to "propagate", even against the emulator, where
        # the rule has no effect (nothing lives long enough to expire). The module tests cover the rule.
        variables["bucket_lifecycle_rules_enabled"] = False
    return variables


def _stack(settings: Settings, env: dict[str, str]) -> TerraformStack:
    mirror = settings.terraform.plugin_mirror or mirror_from_env()
    return TerraformStack(RunState(settings).terraform_dir, env, plugin_mirror=mirror)


def _discard_stale_local_state(settings: Settings) -> bool:
    """The emulator keeps everything in memory: if it is gone, so is every resource local state records.

    Only ever applied to the local target; real AWS state is never discarded.
    """
    if settings.target != "local" or daemon.status(target.emulator_dir(settings)) is not None:
        return False
    state = RunState(settings)
    leftovers = terraform.recorded_resources(terraform.state_file(state.terraform_dir))
    had_records = any(state.has(name) for name in TARGET_RECORDS)
    if not leftovers and not had_records:
        return False
    console.print(
        f"[yellow]The local emulator is not running, so the {len(leftovers)} resource(s) that local state "
        "recorded are gone with it (the emulator keeps everything in memory). Discarding the stale local "
        "state; nothing on AWS is touched.[/yellow]"
    )
    terraform.discard_state(state.terraform_dir)
    state.forget(*TARGET_RECORDS)
    return True


def setup(settings: Settings) -> dict[str, Any]:
    _discard_stale_local_state(settings)
    if settings.target == "local":
        with step("Starting the local AWS emulator"):
            info = daemon.start(target.emulator_dir(settings), host=settings.emulator.host, port=settings.emulator.port)
        console.print(f"Emulator: {info.url} (pid {info.pid})")
    with target.activate(settings) as env:
        identity = _caller_identity(settings)
        stack = _stack(settings, env)
        if settings.terraform.create_notebook_instance:
            with step("Building the notebook bundle (notebooks, settings, a wheel of this package)"):
                bundle.build_bundle(bundle_dir(settings))
        variables = terraform_variables(settings)
        with step("terraform init"):
            stack.init()
        _clear_untracked(settings, stack)
        with step("terraform plan"):
            plan = stack.plan(variables)
        if not plan.has_changes:
            console.print("The stack is up to date: nothing to change.")
        else:
            console.print(f"Plan: {plan.add} to add, {plan.change} to change, {plan.destroy} to destroy.")
            if settings.target == "aws" and settings.confirm:
                _confirm(plan.text, identity, settings)
            with step(f"terraform apply ({plan.add + plan.change + plan.destroy} changes)"):
                stack.apply()
        outputs = stack.outputs()
    state = RunState(settings)
    state.write("stack", {"target": settings.target, **outputs})
    _print_outputs(outputs)
    return outputs


def _clear_untracked(settings: Settings, stack: TerraformStack) -> None:
    """Resources of the stack that exist on the target although the state does not record them.

    A setup interrupted while a create call was in flight leaves one (Terraform never recorded it), and the next
    apply would then fail on its taken name. In the emulator only this stack lives, so they are removed and
    setup converges. On AWS they might be someone else's stack under the same prefix: stop and say so.
    """
    leftovers = orphans.untracked(orphans.find(settings), stack.state_file)
    if not leftovers:
        return
    listing = ", ".join(str(resource) for resource in leftovers)
    if settings.target != "local":
        raise WorkshopError(
            f"The {settings.target} target already has resources of stack {settings.name_prefix!r} that the local "
            f"Terraform state ({stack.state_file}) does not record: {listing}. An earlier `invoke setup` was "
            "probably interrupted while creating them, or the state folder was lost. Run `invoke teardown` (it finds "
            "them by name and tag and removes them), then `invoke setup` again. Nothing was created."
        )
    console.print(
        f"[yellow]An interrupted setup left {listing} in the emulator without recording it in Terraform state; "
        "removing it so that setup can create it again.[/yellow]"
    )
    for resource in leftovers:
        with step(f"Removing untracked {resource}"):
            orphans.remove(settings, resource)


def _caller_identity(settings: Settings) -> dict[str, str]:
    """Check credentials before planning, so a missing login is one clear message, not a Terraform error."""
    try:
        return boto3.client("sts", region_name=settings.region).get_caller_identity()
    except (NoCredentialsError, ClientError, BotoCoreError) as exc:
        raise WorkshopError(
            f"Cannot use AWS credentials for the {settings.target} target in {settings.region}: {exc}. "
            "Log in first (for example `aws configure sso` or set AWS_PROFILE), or use the local target."
        ) from None


def _confirm(plan_text: str, identity: dict[str, str], settings: Settings) -> None:
    console.print(plan_text)
    question = (
        f"Create these resources in AWS account {identity.get('Account')} ({settings.region})? "
        "They cost money while they exist. [y/N] "
    )
    if not sys.stdin or not sys.stdin.isatty():
        raise WorkshopError(
            "The aws target asks before creating resources, but there is no terminal to ask on. "
            "Review the plan above and run again with INVOKE_WORKSHOP_CONFIRM=false (or confirm: false in your "
            "settings file) to apply without asking. Nothing was created."
        )
    if console.input(question).strip().lower() not in ("y", "yes"):
        raise WorkshopError("Setup cancelled: nothing was created.")


def _print_outputs(outputs: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="Stack", show_header=False)
    for name in ("region", "bucket_name", "role_arn", "notebook_instance_name", "notebook_console_url"):
        if outputs.get(name):
            table.add_row(name, str(outputs[name]))
    console.print(table)


def teardown(settings: Settings, keep_emulator: bool = False) -> list[str]:
    """Remove everything the stack owns, newest first; returns what was removed. Safe to run again.

    What Terraform's state records goes with `terraform destroy`; whatever is left of the stack on the target
    after that (the state was lost, or an interrupted setup never recorded it) is found there by name and tag
    and removed too. keep_emulator leaves the (then empty) local emulator running, to inspect it.
    """
    removed: list[str] = []
    if _discard_stale_local_state(settings):
        removed.append("stale local state")
    if settings.target == "local" and daemon.status(target.emulator_dir(settings)) is None:
        console.print("Nothing to tear down: the local emulator is not running and no local state is left.")
        return removed
    with target.activate(settings) as env:
        sagemaker = boto3.client("sagemaker", region_name=settings.region)
        for resource in resources.find(sagemaker, settings.name_prefix):
            verb = "Stopping" if resource.kind == "training-job" else "Removing"
            with step(f"{verb} {resource.kind} {resource.name}"):
                outcome = resources.remove(sagemaker, resource)
            if outcome in ("deleted", "stopped"):
                removed.append(f"{resource.kind} {resource.name}")
        stack = _stack(settings, env)
        if stack.managed_resources():
            count = len(stack.managed_resources())
            with step("terraform init"):
                stack.init()
            with step(f"terraform destroy ({count} resources, bucket emptied with all object versions)"):
                stack.destroy(terraform_variables(settings))
            removed.append(f"{count} Terraform-managed resources")
        for resource in orphans.find(settings):
            with step(f"Removing {resource} (found on the target, not in Terraform state)"):
                orphans.remove(settings, resource)
            removed.append(str(resource))
    RunState(settings).forget(*TARGET_RECORDS)
    if settings.target == "local" and not keep_emulator:
        with step("Stopping the local AWS emulator"):
            if daemon.stop(target.emulator_dir(settings)):
                removed.append("local emulator")
    if removed:
        console.print(f"Teardown complete: removed {len(removed)} item(s).")
    else:
        console.print("Nothing to tear down: no resources of this stack were found.")
    return removed


def connection_lost(settings: Settings, exc: Exception) -> WorkshopError:
    """What to tell a user whose task lost its connection to the target half-way."""
    if settings.target == "local" and daemon.status(target.emulator_dir(settings)) is None:
        return WorkshopError(
            f"The local AWS emulator stopped while the task was running ({exc}). It keeps everything in memory, "
            "so the local stack is gone with it. Run `invoke setup` to start over (it notices, and discards the "
            "stale local state), or `invoke teardown` to just clean up."
        )
    return WorkshopError(
        f"Lost the connection to the {settings.target} target in the middle of the task ({exc}). Check the network "
        "(and, on the local target, `invoke emulator.status`), then run the task again: every task picks up what "
        "exists. `invoke status` lists it, `invoke teardown` removes it."
    )


@dataclass(frozen=True)
class StatusLine:
    kind: str
    name: str
    state: str
    costs_money: bool


def status(settings: Settings) -> list[StatusLine]:
    """What exists for the stack on the target right now, read from the target itself."""
    lines: list[StatusLine] = []
    if settings.target == "local":
        info = daemon.status(target.emulator_dir(settings))
        if info is None:
            return lines
        lines.append(StatusLine("emulator", info.url, f"running (pid {info.pid})", False))
    with target.activate(settings):
        lines.extend(_stack_lines(settings))
        sagemaker = boto3.client("sagemaker", region_name=settings.region)
        for resource in resources.find(sagemaker, settings.name_prefix):
            lines.append(StatusLine(resource.kind, resource.name, resource.status or "exists", resource.costs_money))
    return lines


def _stack_lines(settings: Settings) -> list[StatusLine]:
    """The Terraform-managed resources, found on the target by name prefix and tag, as teardown finds them."""
    lines = []
    for resource in orphans.find(settings):
        state, costs_money = "exists", False
        if resource.kind == "bucket":
            count = boto3.client("s3", region_name=settings.region).list_objects_v2(Bucket=resource.name).get("KeyCount", 0)
            state = f"{count} object(s)"
        elif resource.kind == "notebook-instance":
            sagemaker = boto3.client("sagemaker", region_name=settings.region)
            state = sagemaker.describe_notebook_instance(NotebookInstanceName=resource.name)["NotebookInstanceStatus"]
            costs_money = state in ("Pending", "InService")
        lines.append(StatusLine(resource.kind, resource.name, state, costs_money))
    return lines


def status_json(lines: list[StatusLine]) -> dict[str, Any]:
    return {"resources": [asdict(line) for line in lines]}


def print_status(lines: list[StatusLine]) -> None:
    from rich.table import Table

    if not lines:
        console.print("Nothing exists for this stack on the target.")
        return
    table = Table(title="Stack resources")
    for column in ("kind", "name", "state", "costs money now"):
        table.add_column(column)
    for line in lines:
        table.add_row(line.kind, line.name, line.state, "[red]yes[/red]" if line.costs_money else "no")
    console.print(table)
    if any(line.costs_money for line in lines):
        console.print("[red]Some resources cost money while they run: `invoke teardown` removes them.[/red]")
