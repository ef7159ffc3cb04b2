"""`invoke emulator.start/stop/status/env`: the local target's emulator by hand (setup and teardown do it for
you), and the environment that points any other AWS client at it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

from ..context import Context
from ..discovery import stack_tags
from ..errors import WorkshopError
from ..output import console
from ..records import StackRecord
from ..state import write_atomic
from ..targets import Service, marked

# A notebook instance runs its code as the execution role, in a session SageMaker names "SageMaker".
NOTEBOOK_SESSION_NAME = "SageMaker"
NOTEBOOK_SESSION_SECONDS = 12 * 3600
# Variables from the user's shell that would send a client's credentials elsewhere than the emulator's.
SHELL_VARIABLES_TO_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
SDK_CONFIG_FILE = "sagemaker-sdk-config.yaml"

SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


# The resources the SDK creates, by their names in its config schema (sagemaker/config/config_schema.py, the same
# in SDK v2 and sagemaker-core): a tuning job takes TrainingJob's tags (Session.tune), and so do its training jobs.
SDK_TAGGED_RESOURCES = ("TrainingJob", "TransformJob", "Model", "EndpointConfig", "Endpoint")


def sdk_config_text(bucket: str | None = None, tags: Sequence[Mapping[str, str]] = ()) -> str:
    """The SageMaker SDK config (SAGEMAKER_USER_CONFIG_OVERRIDE; the same schema for SDK v2 and v3): telemetry
    off, and with a bucket, the stack's bucket as `Session().default_bucket()`, so that code written for a
    notebook instance neither creates `sagemaker-<region>-<account>` nor needs s3:CreateBucket.

    With tags (the stack's: discovery.stack_tags), the SDK adds them to every resource it creates, unless the
    code gives a tag with the same key itself (Session._append_sagemaker_config_tags). The stack's role lets code
    create and use resources of any name that carry the stack's tag, so the SDK's default names work.

    No DefaultS3ObjectKeyPrefix: the SDK puts it in front of every key it writes, so code that calls
    `upload_data(key_prefix="x")` and then builds `s3://<bucket>/x/...` itself, as AWS's samples do, would train on
    an empty prefix. A notebook instance on AWS has no such setting either."""
    text = SDK_CONFIG
    if bucket is not None:
        text += f"      Session:\n        DefaultS3Bucket: {json.dumps(bucket)}\n"
    if tags:
        # JSON strings are YAML scalars, so any key or value SageMaker allows is written safely.
        listed = "".join(
            f"      - Key: {json.dumps(tag['Key'])}\n        Value: {json.dumps(tag['Value'])}\n" for tag in tags
        )
        text += "".join(f"  {resource}:\n    Tags:\n{listed}" for resource in SDK_TAGGED_RESOURCES)
    return text


def _emulator(ctx: Context) -> Service:
    service = ctx.target.service
    if service.description is None:
        raise WorkshopError(
            f"The emulator belongs to the local target, but this invocation targets {ctx.settings.target!r}. "
            "Run it without INVOKE_WORKSHOP_TARGET=aws (or with target: local)."
        )
    return service


def start(ctx: Context) -> None:
    # A new emulator holds nothing: local records of one that is gone would make setup trust a stack that is not
    # there (Terraform does not refresh locally), so they go first, as setup's own start does.
    from .stack import discard_stale_state

    service = _emulator(ctx)
    discard_stale_state(ctx)
    info, _ = service.start()
    console.print(f"Emulator running at {info.url} (pid {info.pid}).")


def stop(ctx: Context) -> None:
    if _emulator(ctx).stop():
        console.print("Emulator stopped; everything it held is gone (it keeps state in memory).")
    else:
        console.print("The emulator was not running.")


def status(ctx: Context) -> None:
    info = _emulator(ctx).running()
    if info is None:
        console.print("The emulator is not running. `invoke setup` or `invoke emulator.start` starts it.")
    else:
        console.print(f"Emulator running at {info.url} (pid {info.pid}, since {info.started_at}).")


def client_environment(ctx: Context, admin: bool = False) -> tuple[dict[str, str], list[str]]:
    """(variables to set, variables to unset) that point every AWS client in a shell at the running emulator.

    By default the client acts as code on the stack's notebook instance does: as the stack's execution role
    (temporary credentials of an assumed-role session, so `sts get-caller-identity` and the SDKs'
    `get_execution_role()` name the role), with the stack's bucket as the SDK's default bucket. `admin` gives
    the project's own administrative identity instead, as Terraform and the tasks use it.
    """
    service = _emulator(ctx)
    if service.running() is None:
        raise WorkshopError("The local AWS emulator is not running: start it with `invoke setup` (or `invoke emulator.start`).")
    variables = service.shell_environment(ctx.region)
    unset = [name for name in SHELL_VARIABLES_TO_UNSET if name not in variables]
    if admin:
        # Telemetry off: no client in that shell should call an AWS telemetry host.
        config = ctx.settings.state_dir / SDK_CONFIG_FILE
        write_atomic(config, sdk_config_text())
        return marked({**variables, "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config)}), unset
    state = ctx.state
    if not state.has(StackRecord):
        raise WorkshopError(
            "There is no local stack yet, so there is no execution role to act as. Run `invoke setup` first, or "
            "`invoke emulator.env --admin` for the emulator's administrative identity."
        )
    stack = state.read(StackRecord)
    session = ctx.aws.client("sts").assume_role(
        RoleArn=stack.role_arn, RoleSessionName=NOTEBOOK_SESSION_NAME, DurationSeconds=NOTEBOOK_SESSION_SECONDS
    )["Credentials"]
    config = ctx.settings.target_dir / SDK_CONFIG_FILE
    write_atomic(config, sdk_config_text(stack.bucket_name, stack_tags(ctx.settings)))
    variables.update(
        AWS_ACCESS_KEY_ID=session["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=session["SecretAccessKey"],
        AWS_SESSION_TOKEN=session["SessionToken"],
        SAGEMAKER_USER_CONFIG_OVERRIDE=str(config),
    )
    return marked(variables), [name for name in unset if name not in variables]


def shell_lines(variables: dict[str, str], unset: list[str]) -> str:
    """POSIX shell text for `eval "$(invoke emulator.env)"`."""
    lines = [f"unset {' '.join(unset)}"] if unset else []
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sorted(variables.items())]
    return "\n".join(lines)
