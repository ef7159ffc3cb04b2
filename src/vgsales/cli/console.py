"""The one rich console every task prints through, and a spinner with elapsed time for long steps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

console = Console(highlight=False)


@contextmanager
def step(title: str) -> Iterator[None]:
    """Show a spinner while the block runs, then one line saying how long it took (or that it failed)."""
    started = time.monotonic()
    try:
        with console.status(f"{title}…"):
            yield
    except BaseException:
        console.print(f"[red]✗[/red] {title} ({time.monotonic() - started:.1f} s)")
        raise
    console.print(f"[green]✓[/green] {title} ({time.monotonic() - started:.1f} s)")
