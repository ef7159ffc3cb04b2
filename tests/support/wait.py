"""Wait for something to happen, for as long as it takes and no longer.

Tests poll with ``wait_until`` instead of a loop around ``time.sleep``: the first look is immediate, the next
ones come after 0.01 s, doubling up to ``interval``, so a test waits at most one short interval past the
moment the condition holds, and a timeout says what it waited for and what it last saw.
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import Callable, TypeVar

T = TypeVar("T")

FIRST_INTERVAL = 0.01
LONGEST_REPR = 2000


def wait_until(condition: Callable[[], T], *, timeout: float = 30, interval: float = 0.2,
               message: str = "the condition") -> T:
    """Call ``condition()`` until it returns something truthy and return that; after ``timeout`` seconds,
    raise AssertionError naming ``message`` and the last value. An exception from ``condition`` propagates."""
    deadline = monotonic() + timeout
    pause = min(FIRST_INTERVAL, interval)
    while True:
        value = condition()
        if value:
            return value
        remaining = deadline - monotonic()
        if remaining <= 0:
            seen = repr(value)
            if len(seen) > LONGEST_REPR:
                seen = seen[:LONGEST_REPR] + "..."
            raise AssertionError(f"waited {timeout:g} s for {message}; the last value seen was {seen}")
        sleep(min(pause, remaining))
        pause = min(pause * 2, interval)
