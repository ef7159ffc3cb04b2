"""wait_until, on a fake clock: no test here waits, and none depends on how fast the machine is."""

from __future__ import annotations

import pytest

from support import wait
from support.wait import wait_until


class FakeClock:
    """Stands in for time.monotonic and time.sleep: sleeping moves the clock on at once and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"slept {seconds} s"
        self.sleeps.append(seconds)
        self.now += seconds
        if self.now > 1000:
            raise RuntimeError("still polling after 1000 s of a 1 s timeout: the timeout is ignored")


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(wait, "monotonic", fake.monotonic)
    monkeypatch.setattr(wait, "sleep", fake.sleep)
    return fake


def answers(*values, then=None):
    """A condition that returns ``values`` one per call, then ``then`` for ever, and counts its calls."""
    remaining = list(values)

    def condition():
        condition.calls += 1
        return remaining.pop(0) if remaining else then

    condition.calls = 0
    return condition


def test_it_returns_the_first_truthy_value_and_not_before(clock):
    condition = answers(None, 0, "", [], "ready", "too late")
    assert wait_until(condition, timeout=1) == "ready"
    assert condition.calls == 5


def test_a_condition_that_holds_at_once_costs_no_sleep(clock):
    assert wait_until(answers({"Status": "InService"}), timeout=1) == {"Status": "InService"}
    assert clock.sleeps == []


def test_the_interval_starts_short_and_doubles_up_to_its_limit(clock):
    wait_until(answers(*[False] * 8, True), timeout=10, interval=0.2)
    assert clock.sleeps == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2, 0.2])


def test_on_timeout_it_names_what_it_waited_for_and_the_last_value(clock):
    condition = answers(then=[])
    with pytest.raises(AssertionError) as raised:
        wait_until(condition, timeout=1, interval=0.2, message="a training job of vgtune-1 InProgress")
    assert str(raised.value) == "waited 1 s for a training job of vgtune-1 InProgress; the last value seen was []"
    # It waited the whole timeout, never past it, and looked once more at the deadline.
    assert sum(clock.sleeps) == pytest.approx(1) and clock.now == pytest.approx(1)
    assert condition.calls == len(clock.sleeps) + 1


def test_a_condition_that_holds_at_the_deadline_still_counts(clock):
    assert wait_until(lambda: clock.now >= 1 and "done", timeout=1) == "done"


def test_a_long_last_value_is_cut(clock):
    class Pending:
        def __bool__(self) -> bool:
            return False

        def __repr__(self) -> str:
            return "x" * 5000

    with pytest.raises(AssertionError, match=r"the last value seen was x{2000}\.\.\.$"):
        wait_until(Pending, timeout=0)


def test_an_error_in_the_condition_is_not_swallowed(clock):
    def broken():
        raise KeyError("Status")

    with pytest.raises(KeyError):
        wait_until(broken, timeout=1)
    assert clock.sleeps == []
