"""support.stacks.discard: a local stack is thrown away by stopping its emulator; a stack that would outlive that
(the aws target's) is refused, so that no fixture leaves real resources behind by mistake."""

from __future__ import annotations

import pytest

from vgsales.context import Context

from support.stacks import discard


def test_discard_stops_the_local_stacks_emulator(make_settings, tmp_path):
    ctx = Context.of(make_settings(tmp_path))
    ctx.target.service.start()
    assert ctx.target.service.is_up()
    discard(ctx)
    assert not ctx.target.service.is_up()


def test_discard_refuses_a_target_that_keeps_its_resources(make_settings, tmp_path):
    ctx = Context.of(make_settings(tmp_path, target="aws"))
    with pytest.raises(ValueError, match="the aws target keeps its resources when its service stops"):
        discard(ctx)
