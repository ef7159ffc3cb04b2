"""One local stack that the tests of a module share, built as far as each test needs: ``from support.stacks import
SharedStack``.

A module fixture holds a ``SharedStack``; the fixtures its tests ask for run the steps they need on it
(``shared.step("setup", stack.setup)``, then ``"data"``, ``"train"``, ...). Each step runs once on a stack and is
remembered, so a module pays for one setup however many tests need one, and in any order: no test relies on an
earlier test having run a step. A test that tears the stack down (or may leave it half torn down, when it fails)
marks it spent; the next test that needs a stack gets a new one, in a new state folder, after what is left of the
spent one has been torn down. In the usual order the test that tears down runs last and nothing is built twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vgsales.context import Context
from vgsales.infra import stack


class SharedStack:
    def __init__(self, new_context: Callable[[], Context]) -> None:
        """new_context: a Context on a new, empty state folder each time it is called."""
        self._new_context = new_context
        self._ctx: Context | None = None
        self._done: dict[str, Any] = {}
        self._spent = False

    @property
    def ctx(self) -> Context:
        """The current stack's context (a new stack's, if the last one was spent)."""
        if self._ctx is None or self._spent:
            self._renew()
        return self._ctx

    def step(self, name: str, action: Callable[[Context], Any]) -> Any:
        """``action(ctx)`` once per stack: its result, remembered under ``name``. A step that fails is not
        remembered (the next test that needs it runs it again, and fails the same way if it is broken). What a
        later step or test may undo (train forgets the endpoint record) is no step: its fixture runs it each time."""
        ctx = self.ctx
        if name not in self._done:
            self._done[name] = action(ctx)
        return self._done[name]

    def spent(self) -> None:
        """The current stack was torn down, or may have been: the next test that needs one gets a new one."""
        self._spent = True

    def close(self) -> None:
        """Tear down the current stack (nothing to do for one that is gone already)."""
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            stack.teardown(ctx)

    def _renew(self) -> None:
        try:
            self.close()  # what a spent stack left: nothing after a teardown that passed
        finally:
            self._ctx, self._done, self._spent = self._new_context(), {}, False

    def __enter__(self) -> SharedStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
