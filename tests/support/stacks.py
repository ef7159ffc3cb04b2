"""One local stack that the tests of a module share, built as far as each test needs: ``from support.stacks import
SharedStack``.

A module fixture holds a ``SharedStack``; the fixtures its tests ask for run the steps they need on it
(``shared.step("setup", stack.setup)``, then ``"data"``, ``"train"``, ...). Each step runs once on a stack and is
remembered, so a module pays for one setup however many tests need one, and in any order: no test relies on an
earlier test having run a step. A test that tears the stack down (or may leave it half torn down, when it fails)
marks it spent; the next test that needs a stack gets a new one, in a new state folder, after what is left of the
spent one has been thrown away. In the usual order the test that tears down runs last and nothing is built twice.

``discard(ctx)`` throws a local stack away without tearing it down, for fixtures whose tests are not about
teardown (teardown is tested where it is the subject: tests/stack/test_local_stack.py, tests/pipeline/, the trust
suite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vgsales.context import Context


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
        """Throw the current stack away (see discard), torn down by a test or not."""
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            discard(ctx)

    def _renew(self) -> None:
        try:
            self.close()  # what a spent stack left: nothing after a teardown that passed
        finally:
            self._ctx, self._done, self._spent = self._new_context(), {}, False

    def __enter__(self) -> SharedStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def discard(ctx: Context) -> None:
    """Stop a local stack's emulator, which holds every resource of the stack in its memory (the local target loses
    its resources when stopped) and ends the jobs and endpoints it runs; the state folder is the test's own
    temporary folder. A teardown instead costs SageMaker's deletes and a Terraform destroy, which alone took 4.7
    CPU-s a stack (17 destroys, 80 CPU-s, timed over a whole test run)."""
    if not ctx.target.loses_resources_when_stopped:
        raise ValueError(f"the {ctx.target.name} target keeps its resources when its service stops: tear it down")
    ctx.target.service.stop()
