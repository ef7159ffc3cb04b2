"""The one rich console every task prints through, and a spinner with elapsed time for long steps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

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
