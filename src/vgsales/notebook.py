"""Settings for the workshop notebooks, found rather than typed by hand.

``discover()`` looks, in this order, for:

1. ``VGSALES_PROJECT_DIR``: the project folder (the one with invoke.yaml) to use, wherever the notebook is;
2. a notebook instance's stack file, ``~/.vgsales/stack.json`` (or ``VGSALES_STACK_FILE``), which the
   lifecycle configuration's on-start script writes at every start: the aws target with that stack's bucket,
   role, region and prefixes; run records go to ``.workshop/`` beside the notebook;
3. invoke.yaml in the notebook's folder or a folder above it: the project's own settings and the stack that
   ``invoke setup`` recorded (on the local target, with its emulator running).

Settings load exactly as the invoke tasks load them: invoke.yaml, ~/.invoke.yaml, the file named by
``INVOKE_RUNTIME_CONFIG`` and ``INVOKE_WORKSHOP_*`` environment variables (``INVOKE_WORKSHOP_STATE_DIR``
points a notebook at another state folder, as the tests do). Without any of these, a WorkshopError says
what to run first.
"""

from __future__ import annotations

import html
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke import Config

from vgsales import discovery
from vgsales.context import Context
from vgsales.errors import WorkshopError
from vgsales.evaluation.metrics import Metrics
from vgsales.output import console, step
from vgsales.records import EndpointRecord, EvaluationRecord, StackRecord
from vgsales.settings import PROJECT_DIR_ENV, Settings, workshop_of
from vgsales.state import RunState

STACK_FILE_ENV = "VGSALES_STACK_FILE"
INSTANCE_STACK_FILE = Path("~/.vgsales/stack.json")
CONFIG_FILE = "invoke.yaml"
# What on-start writes (the Terraform root's output names); the pipeline needs each of them.
STACK_KEYS = ("bucket_name", "data_prefix", "region", "role_arn", "name_prefix")
# What the notebook's clean-up removes: everything that serves or is served. The stack itself (bucket,
# role, notebook instance) belongs to `invoke teardown` on the machine that created it.
SERVING_KINDS = ("endpoint", "endpoint-config", "model")
assert set(SERVING_KINDS) <= set(discovery.PIPELINE_KINDS)


@dataclass(frozen=True)
class Workshop:
    """What a notebook runs the pipeline with (its context: pass ``workshop.context`` to each stage), and where
    it was found."""

    context: Context
    found_in: str  # "notebook instance" or "project"
    origin: Path  # the stack file or the project's invoke.yaml
    stack: StackRecord

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def state(self) -> RunState:
        return self.context.state

    def metrics(self) -> Metrics:
        """The metrics of the last `evaluate` run."""
        return Metrics.from_json(Path(self.state.read(EvaluationRecord).metrics_json))

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("found in", f"{self.found_in} ({self.origin})"),
            ("target", self.settings.target),
            ("region", self.settings.region),
            ("bucket", f"s3://{self.stack.bucket_name}/{self.settings.data_prefix}/"),
            ("execution role", self.stack.role_arn),
            ("resource names", f"{self.settings.name_prefix}-..."),
            ("run records", str(self.settings.target_dir)),
        ]

    def __repr__(self) -> str:
        width = max(len(name) for name, _ in self.rows())
        return "\n".join(f"{name:<{width}}  {value}" for name, value in self.rows())

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th><td style='text-align:left'>"
            f"{html.escape(value)}</td></tr>"
            for name, value in self.rows()
        )
        return f"<table>{cells}</table>"


def discover(start: Path | None = None) -> Workshop:
    """The workshop's settings for a notebook in ``start`` (default: the current folder, the notebook's)."""
    _show_workshop_errors_plainly()
    start = Path(start or Path.cwd()).expanduser().resolve()
    explicit = os.environ.get(PROJECT_DIR_ENV, "").strip()
    if explicit:
        project_dir = Path(explicit).expanduser().resolve()
        if not (project_dir / CONFIG_FILE).is_file():
            raise WorkshopError(
                f"{PROJECT_DIR_ENV} is set to {project_dir}, but there is no {CONFIG_FILE} there. Set it to the "
                "project folder (the one with tasks.py and invoke.yaml), or unset it."
            )
        return _from_project(project_dir)
    stack_file = _stack_file()
    if stack_file is not None:
        return _from_instance(stack_file, _find_project(start))
    project_dir = _find_project(start)
    if project_dir is not None:
        return _from_project(project_dir)
    raise WorkshopError(
        f"This notebook found no workshop settings: there is no {INSTANCE_STACK_FILE} (a notebook instance "
        f"of this workshop has one) and no {CONFIG_FILE} in {start} or a folder above it. On your machine, run "
        "`invoke setup` in the project folder first (it starts the local AWS emulator and creates the stack), "
        f"then open this notebook from the project's notebooks/ folder, or set {PROJECT_DIR_ENV} to the project "
        "folder. On AWS, open the notebook on the notebook instance that `invoke setup` created."
    )


def _stack_file() -> Path | None:
    named = os.environ.get(STACK_FILE_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise WorkshopError(
                f"{STACK_FILE_ENV} names {path}, which does not exist. On a notebook instance the on-start "
                "script writes it at every start: stop and start the instance, or unset the variable."
            )
        return path
    path = INSTANCE_STACK_FILE.expanduser()
    return path if path.is_file() else None


def _find_project(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None


def load_settings(project_dir: Path) -> Settings:
    """The settings `invoke` would use when run in ``project_dir``, from the same files and variables."""
    project_dir = Path(project_dir).resolve()
    return Settings.from_config(_load_config(project_dir), project_dir=project_dir)


def _load_config(project_dir: Path) -> dict[str, Any]:
    """The `workshop` mapping as `invoke` would see it when run in ``project_dir``."""
    config = Config(project_location=str(project_dir), runtime_path=os.environ.get("INVOKE_RUNTIME_CONFIG") or None)
    config.load_project()
    config.load_runtime()
    config.load_shell_env()
    if "workshop" not in config:
        raise WorkshopError(
            f"{project_dir / CONFIG_FILE} has no `workshop` section, so it is not this workshop's settings file. "
            "Use the invoke.yaml that comes with the project."
        )
    # As a task sees it: with the INVOKE_WORKSHOP_* variables invoke leaves out, and every unknown one refused.
    return workshop_of(config)


def _from_instance(stack_file: Path, bundle_dir: Path | None) -> Workshop:
    stack = _read_stack_file(stack_file)
    if bundle_dir is None:
        raise WorkshopError(
            f"Found the notebook instance's {stack_file}, but no {CONFIG_FILE} beside this notebook or above it. "
            "The notebook bundle copied at the instance's creation holds it: open the notebook from "
            "~/SageMaker/video-game-sales/, or run `invoke setup` again to upload a complete bundle."
        )
    config = _load_config(bundle_dir)
    # The stack decides where its resources are; the instance's own credentials are the aws target's.
    config.update(target="aws", **{key: stack[key] for key in ("region", "name_prefix", "data_prefix")})
    context = Context.of(Settings.from_config(config, project_dir=bundle_dir))
    record = StackRecord.from_json({**stack, "target": "aws"}, str(stack_file))
    context.state.write(record)
    return Workshop(context, "notebook instance", stack_file, record)


def _read_stack_file(path: Path) -> dict[str, Any]:
    try:
        stack = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WorkshopError(
            f"The stack file {path} is unreadable ({exc}). The on-start script rewrites it at every start of "
            "the notebook instance: stop and start the instance."
        ) from None
    missing = [key for key in STACK_KEYS if not isinstance(stack, dict) or not stack.get(key)]
    if missing:
        raise WorkshopError(
            f"The stack file {path} lacks {', '.join(missing)}. It comes from the stack's lifecycle configuration: "
            "run `invoke setup` again on the machine that created the stack, then stop and start the instance."
        )
    return stack


def _from_project(project_dir: Path) -> Workshop:
    context = Context.of(load_settings(project_dir))
    settings, state, where = context.settings, context.state, context.target
    run_setup = where.setup_command
    if not state.has(StackRecord):
        raise WorkshopError(
            f"There is no {settings.target} stack for the project in {project_dir} yet (nothing at "
            f"{settings.target_dir}). Run `{run_setup}` in that folder first, then run this cell again."
        )
    if not where.service.is_up():
        raise WorkshopError(
            f"The local AWS emulator of the project in {project_dir} is not running, and everything the local "
            f"stack held went with it. Run `{run_setup}` in that folder, then run this cell again."
        )
    return Workshop(context, "project", project_dir / CONFIG_FILE, state.read(StackRecord))


def clean_up(workshop: Workshop) -> list[str]:
    """Remove the endpoint, its configuration and the model: what the notebook created that bills or serves.

    Found on the target by the stack's tag, not from records, so nothing is missed. The stack itself
    (bucket, role, notebook instance, local emulator) is left for `invoke teardown`.
    """
    removed = []
    for resource in discovery.find(workshop.context, SERVING_KINDS):
        with step(f"Removing {resource}"):
            outcome = discovery.remove(workshop.context, resource)
        if outcome == "deleted":
            removed.append(str(resource))
    workshop.state.forget(EndpointRecord)
    console.print(
        f"Removed {len(removed)} resource(s)." if removed else "No endpoint, endpoint config or model was left."
    )
    console.print(_what_remains(workshop))
    return removed


def _what_remains(workshop: Workshop) -> str:
    if workshop.found_in == "notebook instance":
        return (
            "[yellow]Still there: this notebook instance (it bills by the hour while it runs; it stops itself "
            "after the idle timeout) and the stack's bucket and role. Run `invoke teardown` on the machine that "
            "ran `invoke setup` to remove them all.[/yellow]"
        )
    return workshop.context.target.teardown_note


def _show_workshop_errors_plainly() -> None:
    """In Jupyter, show a WorkshopError as its message alone, as the invoke tasks print it, not as a traceback.

    Rich also warns about ipywidgets at every progress spinner when they are not installed; the spinner is
    only decoration (each step prints its result line anyway), so that warning is silenced.
    """
    warnings.filterwarnings("ignore", message='install "ipywidgets" for Jupyter support')
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        value._render_traceback_ = lambda: [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"]
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((WorkshopError,), show)
