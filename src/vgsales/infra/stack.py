"""`invoke setup`, `teardown` and `status`: the stack's long-lived resources on either target.

What differs between the targets comes from target.of(settings); this module runs the same steps on both.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .. import discovery, target
from ..cli.console import console, step
from ..errors import WorkshopError
from ..records import TARGET_RECORDS, StackRecord
from ..settings import Settings
from ..state import RunState
from ..target import Target
from . import bundle, terraform
from .terraform import TerraformStack
from .terraform_cli import mirror_from_env


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
        **target.of(settings).terraform_variables,
    }
    if settings.terraform.create_notebook_instance and (bundle_dir(settings) / bundle.MANIFEST).is_file():
        variables["notebook_bundle_dir"] = str(bundle_dir(settings))
    return variables


def _stack(settings: Settings, env: dict[str, str]) -> TerraformStack:
    mirror = settings.terraform.plugin_mirror or mirror_from_env()
    return TerraformStack(RunState(settings).terraform_dir, env, plugin_mirror=mirror)


def _discard_stale_state(settings: Settings, where: Target) -> bool:
    """A target that keeps its resources only while its service runs has none once the service is gone, so
    local state that records some is stale. Never applies to AWS, whose state is never discarded."""
    if not where.loses_resources_when_stopped or where.service.is_up():
        return False
    state = RunState(settings)
    leftovers = terraform.recorded_resources(terraform.state_file(state.terraform_dir))
    had_records = any(state.has(kind) for kind in TARGET_RECORDS)
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


def setup(settings: Settings) -> StackRecord:
    where = target.of(settings)
    _discard_stale_state(settings, where)
    started = _start_service(where)
    try:
        return _setup(settings, where)
    except (WorkshopError, ClientError, BotoCoreError) as exc:
        # A failed setup leaves nothing running that it started: the emulator holds only what this setup made.
        if started and where.service.stop():
            stopped = f"{where.service.description} that this setup started has been stopped again"
            raise WorkshopError(f"{exc} {stopped[0].upper()}{stopped[1:]}.") from None
        raise


def _start_service(where: Target) -> bool:
    """Start what the target needs on this machine (the local emulator); True if this call started it."""
    if where.service.description is None:
        return False
    with step(f"Starting {where.service.description}"):
        info, started = where.service.start()
    console.print(f"Running at {info.url} (pid {info.pid})")
    return started


def _setup(settings: Settings, where: Target) -> StackRecord:
    with target.activate(settings) as env:
        identity = _caller_identity(settings)
        stack = _stack(settings, env)
        if settings.terraform.create_notebook_instance:
            with step("Building the notebook bundle (notebooks, settings, a wheel of this package)"):
                bundle.build_bundle(bundle_dir(settings))
        variables = terraform_variables(settings)
        with step("terraform init"):
            stack.init()
        _clear_untracked(settings, where, stack)
        with step("terraform plan"):
            plan = stack.plan(variables)
        if not plan.has_changes:
            console.print("The stack is up to date: nothing to change.")
        else:
            console.print(f"Plan: {plan.add} to add, {plan.change} to change, {plan.destroy} to destroy.")
            if where.asks_before_apply and settings.confirm:
                _confirm(plan.text, identity, settings)
            with step(f"terraform apply ({plan.add + plan.change + plan.destroy} changes)"):
                stack.apply()
        outputs = stack.outputs()
    record = StackRecord.from_json({"target": settings.target, **outputs}, "from terraform output")
    RunState(settings).write(record)
    _print_outputs(record)
    return record


def _clear_untracked(settings: Settings, where: Target, stack: TerraformStack) -> None:
    """Resources of the stack that exist on the target although the state does not record them.

    A setup interrupted while a create call was in flight leaves one (Terraform never recorded it), and the next
    apply would then fail on its taken name. They carry this stack's tag, so they are this stack's; where the
    target allows it (the emulator) they are removed and setup converges. On AWS a person should look first.
    """
    known = terraform.tracked(stack.state_file)
    leftovers = [
        found for found in discovery.find(settings, discovery.STACK_KINDS) if (found.kind, found.name) not in known
    ]
    if not leftovers:
        return
    listing = ", ".join(str(resource) for resource in leftovers)
    if not where.removes_untracked_resources:
        raise WorkshopError(
            f"The {settings.target} target already has resources of stack {settings.name_prefix!r} that the local "
            f"Terraform state ({stack.state_file}) does not record: {listing}. An earlier `invoke setup` was "
            "probably interrupted while creating them, or the state folder was lost. Run `invoke teardown` (it finds "
            "them by name and tag and removes them), then `invoke setup` again. Nothing was created."
        )
    console.print(
        f"[yellow]An interrupted setup left {listing} on the target without recording it in Terraform state; "
        "removing it so that setup can create it again.[/yellow]"
    )
    for resource in leftovers:
        with step(f"Removing untracked {resource}"):
            discovery.remove(settings, resource, poll=where.poll_seconds)


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


def _print_outputs(record: StackRecord) -> None:
    from rich.table import Table

    table = Table(title="Stack", show_header=False)
    for name in ("region", "bucket_name", "role_arn", "notebook_instance_name", "notebook_console_url"):
        value = getattr(record, name)
        if value:
            table.add_row(name, str(value))
    console.print(table)


def teardown(settings: Settings, keep_emulator: bool = False) -> list[str]:
    """Remove everything the stack owns, newest first; returns what was removed. Safe to run again.

    What Terraform's state records goes with `terraform destroy`; whatever is left of the stack on the target
    after that (the state was lost, or an interrupted setup never recorded it) is found there by name and tag
    and removed too. keep_emulator leaves the (then empty) local emulator running, to inspect it.
    """
    where = target.of(settings)
    removed: list[str] = []
    if _discard_stale_state(settings, where):
        removed.append("stale local state")
    if not where.service.is_up():
        console.print(f"Nothing to tear down: {where.service.description} is not running and no local state is left.")
        return removed
    with target.activate(settings) as env:
        for resource in discovery.find(settings, discovery.PIPELINE_KINDS):
            verb = "Stopping" if resource.kind == "training-job" else "Removing"
            with step(f"{verb} {resource}"):
                outcome = discovery.remove(settings, resource, poll=where.poll_seconds)
            if outcome in ("deleted", "stopped"):
                removed.append(str(resource))
        stack = _stack(settings, env)
        if stack.managed_resources():
            count = len(stack.managed_resources())
            with step("terraform init"):
                stack.init()
            with step(f"terraform destroy ({count} resources, bucket emptied with all object versions)"):
                stack.destroy(terraform_variables(settings))
            removed.append(f"{count} Terraform-managed resources")
        for resource in discovery.find(settings, discovery.STACK_KINDS):
            with step(f"Removing {resource} (found on the target, not in Terraform state)"):
                discovery.remove(settings, resource, poll=where.poll_seconds)
            removed.append(str(resource))
    RunState(settings).forget(*TARGET_RECORDS)
    if not keep_emulator and where.service.description is not None:
        with step(f"Stopping {where.service.description}"):
            if where.service.stop():
                removed.append(where.service.description)
    if removed:
        console.print(f"Teardown complete: removed {len(removed)} item(s).")
    else:
        console.print("Nothing to tear down: no resources of this stack were found.")
    return removed


def connection_lost(settings: Settings, exc: Exception) -> WorkshopError:
    """What to tell a user whose task lost its connection to the target half-way."""
    lost = target.of(settings).service.lost(exc)
    if lost is not None:
        return WorkshopError(lost)
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
    where = target.of(settings)
    lines: list[StatusLine] = []
    if not where.service.is_up():
        return lines
    info = where.service.running()
    if info is not None:
        lines.append(StatusLine("emulator", info.url, f"running (pid {info.pid})", False))
    with target.activate(settings):
        for resource in discovery.find(settings):
            state = resource.status or "exists"
            if resource.kind == "bucket":
                s3 = boto3.client("s3", region_name=settings.region)
                state = f"{s3.list_objects_v2(Bucket=resource.name).get('KeyCount', 0)} object(s)"
            lines.append(StatusLine(resource.kind, resource.name, state, where.costs_money and resource.costs_money))
    return lines


def status_json(lines: list[StatusLine]) -> dict[str, Any]:
    return {"resources": [asdict(line) for line in lines]}


def print_status(lines: list[StatusLine], settings: Settings) -> None:
    from rich.table import Table

    if not lines:
        console.print("Nothing exists for this stack on the target.")
        return
    bills = target.of(settings).costs_money
    table = Table(title="Stack resources")
    for column in ("kind", "name", "state", *(["costs money now"] if bills else [])):
        table.add_column(column)
    for line in lines:
        cost = ["[red]yes[/red]" if line.costs_money else "no"] if bills else []
        table.add_row(line.kind, line.name, line.state, *cost)
    console.print(table)
    if not bills:
        console.print("Local emulator: costs nothing.")
    elif any(line.costs_money for line in lines):
        console.print("[red]Some resources cost money while they run: `invoke teardown` removes them.[/red]")
