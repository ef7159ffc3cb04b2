"""`invoke setup`, `teardown` and `status`: the stack's long-lived resources on either target.

What differs between the targets comes from the context's target (ctx.target); this module runs the same steps on
both.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.markup import escape

from .. import discovery
from ..context import Context
from ..errors import Interrupted, WorkshopError
from ..output import console, step
from ..records import TARGET_RECORDS, StackRecord
from ..settings import Settings
from ..targets import ServiceInfo, Target, own_environment
from . import bundle, terraform
from .terraform import TerraformStack
from .terraform_cli import mirror_from_env


def bundle_dir(settings: Settings) -> Path:
    """Where setup builds what the notebook instance's on-create copies (see infra/bundle.py)."""
    return settings.target_dir / "notebook-bundle"


def terraform_variables(ctx: Context) -> dict[str, Any]:
    """The root's variables; the notebook bundle only if it was built (setup builds it when it is needed)."""
    settings = ctx.settings
    variables: dict[str, Any] = {
        "region": settings.region,
        "name_prefix": settings.name_prefix,
        "data_prefix": settings.data_prefix,
        "tags": dict(settings.tags),
        "create_notebook_instance": settings.terraform.create_notebook_instance,
        "notebook_instance_type": settings.terraform.notebook_instance_type,
        "idle_timeout_minutes": settings.terraform.idle_timeout_minutes,
        **ctx.target.terraform_variables,
    }
    if settings.terraform.bucket_lifecycle_rule is not None:
        variables["bucket_lifecycle_rules_enabled"] = settings.terraform.bucket_lifecycle_rule
    if settings.terraform.create_notebook_instance and (bundle_dir(settings) / bundle.MANIFEST).is_file():
        variables["notebook_bundle_dir"] = str(bundle_dir(settings))
    return variables


def terraform_stack(ctx: Context, connected: bool = True) -> TerraformStack:
    """The stack's Terraform, run in the user's own environment with the target's connection over it
    (``connected``; init needs none, and runs before the emulator is up)."""
    environment = own_environment()
    if connected:
        environment = ctx.aws.connection.subprocess_environment(environment)
    mirror = ctx.settings.terraform.plugin_mirror or mirror_from_env()
    return TerraformStack(ctx.state.terraform_dir, environment, plugin_mirror=mirror)


def discard_stale_state(ctx: Context) -> bool:
    """A target that keeps its resources only while its service runs has none once the service is gone, so
    local state that records some is stale. Never applies to AWS, whose state is never discarded."""
    where, state = ctx.target, ctx.state
    if not where.loses_resources_when_stopped or where.service.is_up():
        return False
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


def setup(ctx: Context, while_applying: Callable[[], Any] | None = None) -> StackRecord:
    """Create or update the stack. while_applying runs in a background thread once Terraform starts to apply
    (it mostly waits on the provider then): the command line imports the later stages' libraries there."""
    where = ctx.target
    discard_stale_state(ctx)
    started = False
    try:
        # The emulator starts (about a second) while Terraform initialises, which needs nothing from the target.
        finish = where.service.begin_start() if where.service.description is not None else None
        try:
            _init(terraform_stack(ctx, connected=False))
        finally:
            if finish is not None:
                started = _finish_start(where, finish)
                ctx.reconnect()  # a started emulator has a new port and key
        return _setup(ctx, fresh=started, while_applying=while_applying)
    except (WorkshopError, ClientError, BotoCoreError) as exc:
        # A failed setup leaves nothing running that it started: the emulator holds only what this setup made.
        if started and where.service.stop():
            stopped = f"{where.service.description} that this setup started has been stopped again"
            raise WorkshopError(f"{exc} {stopped[0].upper()}{stopped[1:]}.") from None
        raise
    except KeyboardInterrupt:
        # An interrupted setup is a failed one: what it started goes, with everything created in it.
        if started and where.service.stop():
            raise Interrupted(
                f"Interrupted. {where.service.description[0].upper()}{where.service.description[1:]} that this "
                "setup started has been stopped, and what was created in it is gone with it; nothing is left "
                "running. Run `invoke setup` again to start over."
            ) from None
        raise


def _finish_start(where: Target, finish: Callable[[], tuple[ServiceInfo, bool]]) -> bool:
    """Wait for the service begun above; True if this setup started it."""
    with step(f"Starting {where.service.description}") as outcome:
        info, started = finish()
        if not started:
            outcome.skipped = "it was already running"
    console.print(f"Running at {info.url} (pid {info.pid})")
    return started


def _setup(ctx: Context, fresh: bool, while_applying: Callable[[], Any] | None) -> StackRecord:
    """fresh: this setup has just started the target's service (the emulator), so it holds nothing yet, its
    credentials are the ones the emulator issued, and the local state was discarded with the old one. Then
    there are no leftovers to look for and no login to check, and Terraform's start overlaps the emulator's
    warm-up instead of waiting behind those calls."""
    settings, where = ctx.settings, ctx.target
    identity = {} if fresh else _caller_identity(ctx)
    stack = terraform_stack(ctx)
    if settings.terraform.create_notebook_instance:
        with step("Notebook bundle (notebooks, settings, a wheel of this package)") as outcome:
            if not bundle.build_bundle(bundle_dir(settings)):
                outcome.skipped = "unchanged, reused"
        if where.prepare_notebook_instances is not None:
            with step("conda_python3 for notebook instances (once per machine)") as outcome:
                if not where.prepare_notebook_instances():
                    outcome.skipped = "built before, reused"
    variables = terraform_variables(ctx)
    if not fresh:
        _clear_untracked(ctx, stack)
    if while_applying is not None:
        threading.Thread(target=while_applying, name="while-terraform-applies", daemon=True).start()
    if where.asks_before_apply:
        # Plan into a file, show it, ask, and apply exactly that plan.
        with step("terraform plan"):
            plan = stack.plan(variables)
        if not plan.has_changes:
            console.print("The stack is up to date: nothing to change.")
        else:
            console.print(f"Plan: {plan.add} to add, {plan.change} to change, {plan.destroy} to destroy.")
            if settings.confirm:
                _confirm(plan.text, identity, settings)
            with step(f"terraform apply ({plan.add + plan.change + plan.destroy} changes)"):
                stack.apply()
    else:
        # Nothing to confirm: plan and apply in one Terraform process, so the provider starts once.
        with step("terraform apply"):
            applied = stack.apply_now(variables, refresh=not where.trusts_terraform_state)
        if applied.has_changes:
            console.print(f"Applied: {applied.add} added, {applied.change} changed, {applied.destroy} destroyed.")
        else:
            console.print("The stack is up to date: nothing to change.")
    outputs = stack.outputs()
    record = StackRecord.from_json({"target": settings.target, **outputs}, "from terraform output")
    ctx.state.write(record)
    _print_outputs(record, where)
    return record


def _init(stack: TerraformStack) -> None:
    with step("terraform init") as outcome:
        if not stack.init():
            outcome.skipped = "already done for this configuration"


def _clear_untracked(ctx: Context, stack: TerraformStack) -> None:
    """Resources of the stack that exist on the target although the state does not record them.

    A setup interrupted while a create call was in flight leaves one (Terraform never recorded it), and the next
    apply would then fail on its taken name. They carry this stack's tag, so they are this stack's; where the
    target allows it (the emulator) they are removed and setup converges. On AWS a person should look first.
    """
    settings, where = ctx.settings, ctx.target
    known = terraform.tracked(stack.state_file)
    leftovers = [found for found in discovery.find(ctx, discovery.STACK_KINDS) if (found.kind, found.name) not in known]
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
            discovery.remove(ctx, resource)


def _caller_identity(ctx: Context) -> dict[str, str]:
    """Check credentials before planning, so a missing login is one clear message, not a Terraform error."""
    try:
        return ctx.aws.client("sts").get_caller_identity()
    except (NoCredentialsError, ClientError, BotoCoreError) as exc:
        raise WorkshopError(
            f"Cannot use AWS credentials for the {ctx.settings.target} target in {ctx.region}: {exc}. "
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
    # Escaped: rich reads "[y/N]" as a style tag and drops it, so the question asked without saying how to answer.
    if console.input(escape(question)).strip().lower() not in ("y", "yes"):
        raise WorkshopError("Setup cancelled: nothing was created.")


def _print_outputs(record: StackRecord, where: Target) -> None:
    # Name, then the whole value on the same line: identifiers stay whole at any width (no table cells).
    console.print("Stack:")
    names = ("region", "bucket_name", "role_arn", "notebook_instance_name", "notebook_console_url")
    if where.notebooks_elsewhere is not None:
        names = names[:-1]
    width = max(len(name) for name in names)
    for name in names:
        value = getattr(record, name)
        if value:
            console.print(f"  {name:<{width}}  {value}", markup=False)
    if where.notebooks_elsewhere is not None and record.notebook_instance_name:
        console.print(where.notebooks_elsewhere, markup=False)


def teardown(ctx: Context, keep_emulator: bool = False) -> list[str]:
    """Remove everything the stack owns, newest first; returns what was removed. Safe to run again.

    What Terraform's state records goes with `terraform destroy`; whatever is left of the stack on the target
    after that (the state was lost, or an interrupted setup never recorded it) is found there by name and tag
    and removed too. keep_emulator leaves the (then empty) local emulator running, to inspect it.
    """
    where = ctx.target
    removed: list[str] = []
    counts = {"pipeline": 0, "terraform": 0, "untracked": 0}
    if discard_stale_state(ctx):
        removed.append("stale local state")
    if not where.service.is_up():
        console.print(f"Nothing to tear down: {where.service.description} is not running and no local state is left.")
        return removed
    for resource in _pipeline_resources(ctx):
        verb = "Stopping" if resource.kind in discovery.JOB_KINDS else "Removing"
        with step(f"{verb} {resource}"):
            outcome = discovery.remove(ctx, resource)
        if outcome in ("deleted", "stopped"):
            removed.append(str(resource))
            counts["pipeline"] += 1
    stack = terraform_stack(ctx)
    if stack.managed_resources():
        count = len(stack.managed_resources())
        _init(stack)
        with step(f"terraform destroy ({count} resources, bucket emptied with all object versions)"):
            stack.destroy(terraform_variables(ctx), refresh=not where.trusts_terraform_state)
        removed.append(f"{count} Terraform-managed resources")
        counts["terraform"] += count
    for resource in discovery.find(ctx, discovery.STACK_KINDS):
        with step(f"Removing {resource} (found on the target, not in Terraform state)"):
            discovery.remove(ctx, resource)
        removed.append(str(resource))
        counts["untracked"] += 1
    ctx.state.forget(*TARGET_RECORDS)
    stopped = False
    if not keep_emulator and where.service.description is not None:
        with step(f"Stopping {where.service.description}"):
            stopped = where.service.stop()
        if stopped:
            removed.append(where.service.description)
    console.print(_teardown_summary(counts, where.service.description if stopped else None))
    return removed


@dataclass(frozen=True)
class TeardownPlan:
    """What `teardown` would remove now, in its order, found as it finds it (the console's clean-up page)."""

    pipeline: list[discovery.Resource]  # stopped or deleted first
    terraform: list[str]  # the addresses in Terraform's state: `terraform destroy`
    untracked: list[discovery.Resource]  # the stack's resources that the state does not record
    service: str | None  # stopped last (the local emulator)

    @property
    def empty(self) -> bool:
        return not (self.pipeline or self.terraform or self.untracked or self.service)


def teardown_plan(ctx: Context) -> TeardownPlan:
    """A dry run of teardown: it reads, and removes nothing. Teardown lists the untracked resources only after its
    destroy; here, before it, they are the stack's resources of those kinds that Terraform's state does not record."""
    where = ctx.target
    if not where.service.is_up():
        return TeardownPlan([], [], [], None)
    stack = terraform_stack(ctx)
    recorded = terraform.tracked(stack.state_file)
    untracked = [item for item in discovery.find(ctx, discovery.STACK_KINDS) if (item.kind, item.name) not in recorded]
    return TeardownPlan(_pipeline_resources(ctx), stack.managed_resources(), untracked, where.service.description)


def _pipeline_resources(ctx: Context) -> list[discovery.Resource]:
    return discovery.find(ctx, discovery.PIPELINE_KINDS)


def _teardown_summary(counts: dict[str, int], stopped: str | None) -> str:
    """One line that counts exactly what the steps above removed."""
    parts = []
    if counts["pipeline"]:
        parts.append(f"{counts['pipeline']} pipeline resource(s) (endpoints, configs, models, jobs)")
    if counts["terraform"]:
        parts.append(f"{counts['terraform']} Terraform-managed resources")
    if counts["untracked"]:
        parts.append(f"{counts['untracked']} resource(s) Terraform had not recorded")
    if not parts and stopped is None:
        return "Nothing to tear down: no resources of this stack were found."
    removed = f"removed {', '.join(parts)}" if parts else "no resources of this stack were left"
    return f"Teardown complete: {removed}{f'; stopped {stopped}' if stopped else ''}."


def connection_lost(ctx: Context, exc: Exception) -> WorkshopError:
    """What to tell a user whose task lost its connection to the target half-way."""
    settings = ctx.settings
    lost = ctx.target.service.lost(exc)
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


def status(ctx: Context) -> list[StatusLine]:
    """What exists for the stack on the target right now, read from the target itself."""
    where = ctx.target
    lines: list[StatusLine] = []
    if not where.service.is_up():
        return lines
    info = where.service.running()
    if info is not None:
        lines.append(StatusLine("emulator", info.url, f"running (pid {info.pid})", False))
    for resource in discovery.find(ctx):
        state = resource.status or "exists"
        if resource.kind == "bucket":
            s3 = ctx.aws.client("s3")
            state = f"{s3.list_objects_v2(Bucket=resource.name).get('KeyCount', 0)} object(s)"
        lines.append(StatusLine(resource.kind, resource.name, state, where.costs_money and resource.costs_money))
    return lines


def status_json(lines: list[StatusLine]) -> dict[str, Any]:
    return {"resources": [asdict(line) for line in lines]}


def print_status(lines: list[StatusLine], ctx: Context) -> None:
    settings = ctx.settings
    if not lines:
        console.print("Nothing exists for this stack on the target.")
        return
    bills = ctx.target.costs_money
    # Columns of known width first, the name last and whole: it is what people copy.
    columns = ("kind", "state", *(["costs money now"] if bills else []), "name")
    rows = [
        (line.kind, line.state, *(["yes" if line.costs_money else "no"] if bills else []), line.name) for line in lines
    ]
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns) - 1)]
    console.print(f"Stack {settings.name_prefix!r} on the {settings.target} target:", markup=False)
    for row in [columns, *rows]:
        cells = [f"{cell:<{width}}" for cell, width in zip(row[:-1], widths)]
        console.print("  " + "  ".join([*cells, row[-1]]), markup=False)
    if not bills:
        console.print("Local emulator: costs nothing.")
    elif any(line.costs_money for line in lines):
        console.print("[red]Some resources cost money while they run: `invoke teardown` removes them.[/red]")
