"""The whole workshop in one command, from setup to teardown, each step timed, into a JSON record.

`invoke walkthrough --record run.json` runs it on the chosen target (a real account with
INVOKE_WORKSHOP_TARGET=aws) and `invoke rehearse --record rehearsal.json` against the emulator (rehearsal.py);
both write the same record, one line per step with its wall time and what exists before and after it, so that a
real run and its rehearsal compare step by step (`invoke walkthrough.compare a.json b.json`, docs/aws-run.md).

Teardown always runs, also after a failed step: on AWS, what a half-finished run leaves bills by the hour. Only
a Ctrl-C skips it (the person pressed it to stop, and is told to run `invoke teardown`).
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import discovery
from .context import Context
from .errors import Interrupted, WorkshopError
from .output import console

RECORD_VERSION = 1


@dataclass(frozen=True)
class StepRecord:
    step: str
    seconds: float
    # What exists for the stack after the step that did not before it, and the reverse: "kind name" each.
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Objects in the stack's bucket after the step (the data step uploads, the training job writes a model).
    objects: int = 0
    error: str | None = None


def _stack_setup(ctx: Context) -> None:
    from .infra import stack

    stack.setup(ctx)


def _stack_status(ctx: Context) -> None:
    from .infra import stack

    stack.print_status(stack.status(ctx), ctx)


def _stack_teardown(ctx: Context) -> None:
    from .infra import stack

    stack.teardown(ctx)


def _stage(module: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        import importlib

        importlib.import_module(f"vgsales.pipeline.{module}").run(ctx)

    return run


def steps(ctx: Context) -> list[tuple[str, Callable[[Context], None]]]:
    """The workshop's steps in order, teardown left out (run() always runs it last). Setup runs twice: the second
    one refreshes every resource and must find nothing to change. Evaluating via a batch transform job deploys
    no endpoint, as `invoke train` then suggests."""
    chosen = [
        ("setup", _stack_setup),
        ("setup again", _stack_setup),
        ("data", _stage("data")),
        ("train", _stage("train")),
        ("deploy", _stage("deploy")),
        ("evaluate", _stage("evaluate")),
        ("status", _stack_status),
    ]
    if ctx.settings.evaluate.via == "transform":
        chosen = [item for item in chosen if item[0] != "deploy"]
    return chosen


@dataclass(frozen=True)
class Snapshot:
    resources: frozenset[str]
    objects: int


def snapshot(ctx: Context) -> Snapshot:
    """What exists for the stack now, finished jobs included (they are what a step made), and its objects."""
    if not ctx.target.service.is_up():
        return Snapshot(frozenset(), 0)
    found = discovery.find(ctx, finished_jobs=True)
    objects = 0
    s3 = ctx.aws.client("s3")
    for resource in found:
        if resource.kind == "bucket":
            objects += sum(page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=resource.name))
    return Snapshot(frozenset(str(resource) for resource in found), objects)


def _timed(ctx: Context, name: str, action: Callable[[Context], None], before: Snapshot) -> tuple[StepRecord, Snapshot]:
    console.rule(f"[bold]{name}[/bold]")
    started = time.monotonic()
    error: str | None = None
    try:
        action(ctx)
    except Interrupted:  # a Ctrl-C that the step handled is still a Ctrl-C: the walkthrough stops here
        raise
    except (WorkshopError, ClientError, BotoCoreError) as exc:
        error = str(exc)
    seconds = round(time.monotonic() - started, 1)
    after = snapshot(ctx)
    record = StepRecord(
        step=name,
        seconds=seconds,
        created=sorted(after.resources - before.resources),
        removed=sorted(before.resources - after.resources),
        objects=after.objects,
        error=error,
    )
    return record, after


def run(ctx: Context, record_file: Path | None = None, extra: Mapping[str, Any] | None = None) -> list[StepRecord]:
    """Run every step, then teardown whatever happened; write the record (if asked) after each step, so that an
    interrupted run keeps what it measured. Raises the first step's error after teardown."""
    header = {
        "version": RECORD_VERSION,
        "target": ctx.settings.target,
        "region": ctx.region,
        "name_prefix": ctx.settings.name_prefix,
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    records: list[StepRecord] = []
    current = snapshot(ctx)
    crash: Exception | None = None
    try:
        for name, action in steps(ctx):
            record, current = _timed(ctx, name, action, current)
            records.append(record)
            _write(record_file, header, records)
            if record.error is not None:
                break
    except Interrupted:
        raise
    except Exception as exc:  # a bug, not a failed step: still tear down (KeyboardInterrupt is no Exception)
        crash = exc
    record, current = _timed(ctx, "teardown", _stack_teardown, current)
    records.append(record)
    _write(record_file, header, records)
    if crash is not None:
        raise crash
    failed = [item for item in records if item.error is not None]
    if failed:
        first = failed[0]
        raise WorkshopError(
            f"The walkthrough stopped at step {first.step!r}: {first.error} Teardown ran after it"
            + (f" and also failed: {records[-1].error}" if records[-1].error and records[-1] is not first else "")
            + (f". The record is in {record_file}." if record_file else ".")
        )
    _print_summary(records)
    return records


def _write(record_file: Path | None, header: Mapping[str, Any], records: Sequence[StepRecord]) -> None:
    if record_file is None:
        return
    document = {**header, "seconds": round(sum(item.seconds for item in records), 1), "steps": [asdict(item) for item in records]}
    record_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _print_summary(records: Sequence[StepRecord]) -> None:
    width = max(len(item.step) for item in records)
    console.print("Walkthrough complete (resources as found by the stack's tag; Terraform counts its own parts too):")
    for item in records:
        made = f"{len(item.created)} created" + (f", {len(item.removed)} removed" if item.removed else "")
        console.print(f"  {item.step:<{width}}  {item.seconds:>7.1f} s  {made}", markup=False)
    console.print(f"  {'total':<{width}}  {sum(item.seconds for item in records):>7.1f} s", markup=False)


def read_record(path: Path) -> dict[str, Any]:
    """A record written by run(), or one clear message saying why the file is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkshopError(
            f"No walkthrough record at {path}: `invoke rehearse --record {path}` or `invoke walkthrough.run --record "
            f"{path}` writes one."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkshopError(f"{path} is not a walkthrough record: {exc}.") from None
    if not isinstance(document, dict) or document.get("version") != RECORD_VERSION or not isinstance(document.get("steps"), list):
        raise WorkshopError(
            f"{path} is not a walkthrough record of version {RECORD_VERSION} (a JSON object with `version` and "
            "`steps`, as `--record` writes it)."
        )
    return document


def compare(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    """Two records side by side, step by step: each one's seconds, and the kinds of resource each step created
    where the two differ (names hold times and random parts, so kinds are what must match)."""
    def kinds(items: Sequence[str]) -> list[str]:
        return sorted(item.split(" ", 1)[0] for item in items)

    def label(document: Mapping[str, Any]) -> str:
        return f"{document.get('target')}{' (rehearsal)' if document.get('rehearsal') else ''} {document.get('region')}"

    steps_a = {item["step"]: item for item in first.get("steps", [])}
    steps_b = {item["step"]: item for item in second.get("steps", [])}
    names = [*steps_a, *(name for name in steps_b if name not in steps_a)]
    width = max([len(name) for name in names] + [len("step")])
    lines = [f"{'step':<{width}}  {label(first):>24}  {label(second):>24}  resources created"]
    for name in names:
        a, b = steps_a.get(name), steps_b.get(name)
        seconds = [f"{item['seconds']:.1f} s" if item else "-" for item in (a, b)]
        if a and b and kinds(a["created"]) == kinds(b["created"]):
            same = "same kinds" if a["created"] else "none"
        else:
            same = f"{', '.join(kinds(a['created'])) if a else '-'} | {', '.join(kinds(b['created'])) if b else '-'}"
        lines.append(f"{name:<{width}}  {seconds[0]:>24}  {seconds[1]:>24}  {same}")
    return lines
