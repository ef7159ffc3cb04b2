"""The one rich console every task prints through, and a spinner with elapsed time for long steps.

The output layer of the whole library (pipeline, infra, notebook discovery, the command line): it imports nothing
of the package, so every layer may use it without importing upward.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import rich
from rich.console import Console

# soft_wrap: rich never breaks a line itself (it would cut an ARN, a URL or a command in two when the output is
# piped at 80 columns); a terminal wraps long lines for display, and copying still gives one line.
console = Console(highlight=False, soft_wrap=True)


class Step:
    """What a step's block may say about how it ended: ``skipped`` replaces the timing ("already done")."""

    def __init__(self) -> None:
        self.skipped: str | None = None


@contextmanager
def step(title: str) -> Iterator[Step]:
    """Show a spinner while the block runs, then one line saying how long it took (or that it failed)."""
    started = time.monotonic()
    outcome = Step()
    try:
        with console.status(f"{title}…"):
            yield outcome
    except BaseException:
        console.print(f"[red]✗[/red] {title} ({time.monotonic() - started:.1f} s)")
        raise
    if outcome.skipped:
        console.print(f"[green]✓[/green] {title}: {outcome.skipped}")
    else:
        console.print(f"[green]✓[/green] {title} ({time.monotonic() - started:.1f} s)")


@contextmanager
def library_displays_off() -> Iterator[None]:
    """While the block runs, rich's global console draws nothing: not a terminal, not Jupyter, and quiet.

    sagemaker-core's waiters (TrainingJob.wait, TransformJob.wait, Endpoint.wait_for_status and wait_for_delete
    in sagemaker/core/resources.py, 2.27.0) always open a rich ``Live`` "Wait Log Panel" on rich's global console,
    since they pass it no console, and have no argument or setting to turn it off. In a terminal that is a second
    live display beside this module's console (its spinner, the streamed training log): the two overwrite each
    other's lines and the panel's frames stay in the scrollback. A ``Live`` on a console that is not a terminal
    neither draws nor redirects stdout; quiet drops the one frame a non-transient one (wait_for_delete) prints as
    it stops. tests/pipeline/test_sdk_wait_panel.py fails if sagemaker-core stops drawing on that console, and
    tests/pipeline/test_terminal_output.py runs the tasks in a real terminal.
    """
    global_console = rich.get_console()
    # rich.reconfigure, rich's documented way to change the global console, replaces that object's __dict__ (so
    # every holder of it sees the change); putting the old __dict__ back is the same move in reverse.
    saved = global_console.__dict__
    rich.reconfigure(quiet=True, force_terminal=False, force_jupyter=False, force_interactive=False)
    try:
        yield
    finally:
        global_console.__dict__ = saved
