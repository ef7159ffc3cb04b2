"""How invoke meets the package: settings from invoke's config tree, and user errors as clean exits.

tasks.py stays thin wiring; what it needs from invoke beyond @task lives here.
"""

from __future__ import annotations

import functools
from pathlib import Path

from botocore.exceptions import ConnectionError as AwsConnectionError
from invoke import Exit

from ..errors import WorkshopError
from ..settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[3]  # where tasks.py and invoke.yaml live


def settings_of(c) -> Settings:
    return Settings.from_config(c.config.workshop, project_dir=PROJECT_DIR)


def next_step(c, tasks: str, why: str) -> None:
    """The line every task ends with: what to run next, on the same target."""
    from .. import target
    from .console import console

    console.print(f"Next: {target.of(settings_of(c)).command(tasks)}  ({why})")


def user_errors(body):
    """Turn a WorkshopError into invoke's Exit: one clear message and exit code 1, never a traceback."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        try:
            return body(c, *args, **kwargs)
        except WorkshopError as exc:
            raise Exit(f"Error: {exc}", code=1) from None
        except AwsConnectionError as exc:  # the target went away mid-task, e.g. the emulator was killed
            from vgsales.infra import stack

            raise Exit(f"Error: {stack.connection_lost(settings_of(c), exc)}", code=1) from None
        except KeyboardInterrupt:
            raise Exit(
                "Interrupted. Whatever was created so far is recorded on the target; run the task again to "
                "continue, or `invoke teardown` to remove everything.",
                code=130,
            ) from None

    return wrapper
