"""Teardown's order (discovery.find): what serves traffic first; a tuning job before its training jobs (stopped
first, it launches no more); the notebook instance before the role it runs as and the bucket it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsales import discovery
from vgsales.context import Context
from vgsales.discovery import Resource
from vgsales.settings import STACK_TAG, Settings, project_defaults, with_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def one_of_each(monkeypatch):
    """Every kind lists one running resource of the stack, without any service."""
    settings = Settings.from_config(with_changes(project_defaults(PROJECT_ROOT), {}), project_dir=PROJECT_ROOT)
    ours = [{"Key": STACK_TAG, "Value": settings.name_prefix}]

    def lister(kind: str):
        status = next(iter(discovery.COSTS_WHILE.get(kind, {None})))
        return lambda _ctx: [(Resource(kind, f"{settings.name_prefix}-{kind}", status=status), lambda: ours)]

    for kind in discovery.KINDS:
        monkeypatch.setitem(discovery._CANDIDATES, kind, lister(kind))
    return Context.of(settings)


@pytest.mark.parametrize("asked", ["all", "alphabetical", "reversed"])
def test_resources_come_in_teardown_order_whatever_order_the_kinds_are_asked_in(one_of_each, asked):
    kinds = {"all": discovery.KINDS, "alphabetical": tuple(sorted(discovery.KINDS)), "reversed": discovery.KINDS[::-1]}[asked]
    found = [resource.kind for resource in discovery.find(one_of_each, kinds)]
    assert found == list(discovery.KINDS)
    assert found.index("tuning-job") < found.index("training-job")
    assert found.index("notebook-instance") < found.index("role") < found.index("bucket")
    assert found.index("endpoint") < found.index("endpoint-config") < found.index("model")
