"""`invoke rehearse`: the workshop on the aws target's code path, from setup to teardown, without an account.

The aws target's own steps run unchanged (targets/rehearsal.py says what that keeps and the two things it does
not): the saved plan shown, confirmed and applied from its file, Terraform's refresh, the region's image URI, the
bucket's lifecycle rule, the cost column of `status`, teardown's search for leftovers. Every client talks to AWS's
real hostnames, which a local emulator answers through its proxy; it starts with the rehearsal and stops with it,
whatever happens, and the rehearsal keeps its state in a folder of its own.

Before anything starts, the rehearsal refuses a shell that holds AWS credentials or a profile: its clients are
given the emulator's key and read none of them, but a person who rehearses with their account's key in the
shell is one typo away from running the real thing, and the message says how to start clean.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from .context import Context
from .errors import Interrupted, WorkshopError
from .output import console, step
from .settings import Settings
from .state import RunState
from .targets import TARGET_VARIABLES, rehearsal
from .walkthrough import StepRecord, run

# What makes a shell an AWS account's (or the local emulator's, from `eval "$(invoke emulator.env)"`).
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", TARGET_VARIABLES,
)


def refuse_credentials(environ: Mapping[str, str] | None = None) -> None:
    """A one-paragraph error naming every credential or profile variable the shell holds (set and not empty)."""
    environ = os.environ if environ is None else environ
    found = [name for name in CREDENTIAL_VARIABLES if environ.get(name, "").strip()]
    if not found:
        return
    raise WorkshopError(
        f"The rehearsal runs without an AWS account, but this shell holds AWS credentials or a profile "
        f"({', '.join(found)}). Nothing was started. Run it in a clean shell: put "
        f"`env {' '.join(f'-u {name}' for name in found)}` before the command, as in "
        f"`env {' '.join(f'-u {name}' for name in found)} invoke rehearse --record rehearsal.json`, or open a new "
        "terminal without them. "
        "To run the workshop on your account instead, see docs/aws-run.md."
    )


# What a rehearsal keeps of the last one: caches that hold no state (the notebook bundle's wheel, Terraform's
# provider), so that it does not build and install them again.
CACHES = ("notebook-bundle", "terraform/data")


def discard_earlier_state(root: Path) -> None:
    """Everything an earlier rehearsal recorded describes an emulator that is gone: start from nothing but the
    caches."""
    def discard(folder: Path, prefix: str) -> None:
        for path in folder.iterdir() if folder.is_dir() else ():
            name = f"{prefix}{path.name}"
            if name in CACHES:
                continue
            if path.is_dir() and not path.is_symlink():
                if any(cache.startswith(f"{name}/") for cache in CACHES):
                    discard(path, f"{name}/")
                else:
                    shutil.rmtree(path)
            else:
                path.unlink()

    discard(root, "")


def rehearse(settings: Settings, record_file: Path | None = None) -> list[StepRecord]:
    """Start the rehearsal's emulator, run every step of the walkthrough against it with the aws target's
    code path, and stop the emulator again, whatever happens (Ctrl-C included)."""
    refuse_credentials()
    settings = rehearsal.settings_of(settings)
    where = rehearsal.target(settings)
    ctx = Context(settings, where, RunState(settings))
    where.service.stop()  # one an interrupted rehearsal left running
    discard_earlier_state(settings.target_dir)
    console.print(
        f"Rehearsing the aws target in {settings.region}: every client talks to AWS's hostnames, answered by a local "
        f"emulator. Its state folder: {settings.target_dir}.",
        markup=False,
    )
    console.print("Where the aws target's path and the local target's differ, the rehearsal takes the aws path:",
                  markup=False)
    for line in rehearsal.aws_path(settings, where):
        console.print(f"  {line}", markup=False)
    console.print("Not the aws target's:", markup=False)
    for line in rehearsal.differences(where, settings):
        console.print(f"  {line}", markup=False)
    try:
        with step("Starting the rehearsal's emulator"):
            info, _ = where.service.start()
        console.print(f"AWS's hostnames through its proxy, TLS with its CA ({info.url}, pid {info.pid})", markup=False)
        return run(ctx, record_file, extra={"rehearsal": True})
    except KeyboardInterrupt:
        raise Interrupted(
            "Interrupted. The rehearsal's emulator has been stopped, and everything created in it is gone with it; "
            "nothing is left running and nothing ran anywhere else. Run `invoke rehearse` again to start over."
        ) from None
    finally:
        with step("Stopping the rehearsal's emulator"):
            where.service.stop()
