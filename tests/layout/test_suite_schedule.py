"""The order modules start in under `pytest -n auto` (tests/conftest.py, schedule_key): the longest first, then each
folder's modules spread over the run, so that one folder's waiting modules do not run side by side or last, each
folder's longest first (tests/durations.json, written by `--store-durations`), so that the run ends with short ones."""

from __future__ import annotations

from types import SimpleNamespace

import json

import conftest
import pytest
from conftest import LONGEST_FIRST, schedule_key

pytestmark = pytest.mark.unit


def ordered_modules(nodeids: list[str], durations: dict[str, float] | None = None) -> list[str]:
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]
    items.sort(key=schedule_key(items, durations or {}))  # as pytest_collection_modifyitems sorts them
    modules: list[str] = []
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module not in modules:
            modules.append(module)
    return modules


def test_the_longest_start_first_in_their_order_and_a_module_keeps_its_tests_in_order():
    collected = ["tests/a/test_1.py::t1", "tests/a/test_1.py::t2", f"{LONGEST_FIRST[1]}test_x.py::t",
                 f"{LONGEST_FIRST[0]}::t"]
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in collected]
    items.sort(key=schedule_key(items, {}))
    assert [item.nodeid for item in items] == [f"{LONGEST_FIRST[0]}::t", f"{LONGEST_FIRST[1]}test_x.py::t",
                                               "tests/a/test_1.py::t1", "tests/a/test_1.py::t2"]


def test_a_folders_modules_are_spread_over_the_run_not_run_together():
    emulator = [f"tests/emulator/test_{n}.py::t" for n in range(6)]
    stack = [f"tests/stack/test_{n}.py::t" for n in range(2)]
    order = ordered_modules(emulator + stack)  # collected folder by folder, as pytest collects
    positions = [order.index(f"tests/stack/test_{n}.py") for n in range(2)]
    # Six emulator modules and two stack modules: each stack module starts among the emulator's, none at the ends.
    assert 0 < positions[0] < positions[1] < len(order) - 1, order
    assert positions[1] - positions[0] >= 2, order
    # Each folder keeps its own modules' order.
    assert [module for module in order if "emulator" in module] == [item.split("::")[0] for item in emulator]


def test_within_a_folder_the_longest_module_starts_first_and_an_unknown_one_counts_as_the_median():
    modules = [f"tests/emulator/test_{name}.py" for name in "abcd"]
    durations = {modules[0]: 1.0, modules[1]: 30.0, modules[2]: 10.0}  # test_d.py is new: the median, 10 s
    order = ordered_modules([f"{module}::t" for module in modules], durations)
    assert order == [modules[1], modules[2], modules[3], modules[0]]  # equal durations keep file order


def test_store_durations_writes_each_modules_summed_seconds_from_the_controller_only(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "DURATIONS_FILE", tmp_path / "durations.json")
    monkeypatch.setattr(conftest, "_module_seconds", {})
    for nodeid, seconds in (("tests/a/test_1.py::t1", 1.2), ("tests/a/test_1.py::t2", 2.0), ("tests/b/test_2.py::t", 0.5)):
        conftest.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds))
    worker = SimpleNamespace(getoption=lambda name: True, workerinput={})
    conftest.store_durations(worker)
    assert not (tmp_path / "durations.json").exists(), "a worker saw only its own modules"
    conftest.store_durations(SimpleNamespace(getoption=lambda name: name != "store_durations"))
    assert not (tmp_path / "durations.json").exists(), "written only when asked"
    conftest.store_durations(SimpleNamespace(getoption=lambda name: True))
    assert json.loads((tmp_path / "durations.json").read_text()) == {"tests/a/test_1.py": 3.2, "tests/b/test_2.py": 0.5}
