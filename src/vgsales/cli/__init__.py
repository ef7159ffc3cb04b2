"""How invoke meets the package: settings from invoke's config tree, and user errors as clean exits.

tasks.py stays thin wiring; what it needs from invoke beyond @task lives here.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ConnectionError as AwsConnectionError
from invoke import Exit

from ..errors import WorkshopError
from ..settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[3]  # where tasks.py and invoke.yaml live


def settings_of(c) -> Settings:
    return Settings.from_config(c.config.workshop, project_dir=PROJECT_DIR)


# The heavy imports of the stages after setup (pandas and scikit-learn for data, sagemaker-core for train and
# deploy, matplotlib (without pyplot) for evaluate): about 2.5 s of one core.
LATER_STAGE_MODULES = {
    "data": ("pandas", "sklearn.datasets", "vgsales.pipeline.data"),
    # train runs data first, as its pre-task
    "train": ("pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.train"),
    # tune runs data first too
    "tune": ("pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.tune"),
    "deploy": ("sagemaker.core.resources", "vgsales.pipeline.deploy"),
    "evaluate": ("sklearn.metrics", "vgsales.evaluation.plots", "vgsales.pipeline.evaluate"),
}


def later_stage_imports(argv: list[str] | None = None) -> Callable[[], None] | None:
    """A function that imports what the tasks named after this one on the command line will need, or None.

    `invoke setup train deploy evaluate` spends most of setup waiting for Terraform, in another process; the
    interpreter is idle meanwhile, and the imports would otherwise come one after another at each stage's
    start. setup runs it in a thread while Terraform applies. Nothing but imports happens there, and a failure
    only means the stage imports the module itself, as without this."""
    words = set((argv if argv is not None else sys.argv)[1:])
    modules = list(dict.fromkeys(name for task, names in LATER_STAGE_MODULES.items() if task in words for name in names))
    if not modules:
        return None

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the stage will import it again and report the real error
                return

    return load


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
