"""Fixtures of the trust suite: stacks in temporary state folders, the case catalogue, and what the tests saw.

The suite shares one local stack wherever a fault allows, to stay within a few minutes on two cores, so its
modules run in the order below (a stable reorder of the collected items): bad input first (before anything
is uploaded), then the pipeline's faults, the endpoint's payloads and the security scans on the same stack,
then the teardown faults that remove it, and the interrupt faults on a stack of their own, driven through
the real CLI. Tests run with --import-mode=importlib, so harness.py and catalogue.py are loaded here and
handed to tests as fixtures.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MODULE_ORDER = (
    "test_bad_input.py",
    "test_faults_pipeline.py",
    "test_endpoint_payloads.py",
    "test_security.py",
    "test_faults_teardown.py",
    "test_faults_interrupts.py",
    "test_trust_doc.py",
)


def _load(name: str):
    module_name = f"vgsales_trust_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[module_name]


harness_module = _load("harness")
catalogue_module = _load("catalogue")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slots = [index for index, item in enumerate(items) if item.path.parent == HERE]
    ordered = sorted((items[index] for index in slots), key=lambda item: MODULE_ORDER.index(item.path.name))
    for index, item in zip(slots, ordered, strict=True):
        items[index] = item


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    catalogue = catalogue_module
    for fixture, cases in (
        ("dataset_case", catalogue.DATASET_CASES),
        ("config_case", catalogue.CONFIG_CASES),
        ("payload_case", catalogue.PAYLOAD_CASES),
    ):
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, cases, ids=[case.key for case in cases])


@pytest.fixture(scope="session")
def harness():
    return harness_module


@pytest.fixture(scope="session")
def catalogue():
    return catalogue_module


class TrustRecord:
    """What the tests observed, for the tables of docs/trust.md. Paths and ports are replaced by placeholders
    so that the tables do not change from one run to the next."""

    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = str(tmp_root)
        self.faults: dict[str, dict] = {}
        self.teardowns: dict[str, int] = {}
        self.messages: dict[str, dict[str, str]] = {"dataset": {}, "config": {}, "payloads": {}}

    def normalise(self, text: str) -> str:
        text = text.strip().removeprefix("Error: ")
        text = text.replace(self.tmp_root, "<tmp>")
        text = re.sub(r"<tmp>/[^\s'\"]*?/(\S+\.csv|a-folder|no-such-file\.csv)", r"<tmp>/\1", text)
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<request-id>", text)
        return text

    def message(self, group: str, key: str, text: str) -> None:
        self.messages[group][key] = self.normalise(text)

    def fault(self, key: str, *, recovered: bool, stray: list[str]) -> None:
        assert not stray, f"{key}: left after recovery: {stray}"
        self.faults[key] = {"recovered": recovered, "stray": len(stray)}

    def teardown(self, stack: str, leftovers: list[str]) -> None:
        self.teardowns[stack] = len(leftovers)


@pytest.fixture(scope="session")
def trust_record(tmp_path_factory: pytest.TempPathFactory) -> TrustRecord:
    return TrustRecord(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, shared_dataset: Path, terraform_available):
    """One local stack (setup in-process) for every fault that leaves the emulator running."""
    from vgsales.infra import stack as infra

    local = harness_module.LocalStack(tmp_path_factory.mktemp("shared-stack"), shared_dataset)
    try:  # also when setup itself fails: its emulator must not outlive the run
        infra.setup(local.context())
        yield local
    finally:
        local.stop_emulator()  # only this folder's emulator; teardown tests normally stopped it already


@pytest.fixture(scope="session")
def loopback_files(tmp_path_factory: pytest.TempPathFactory, shared_dataset: Path) -> str:
    """A loopback web server for the URL cases; returns its base URL."""
    folder = tmp_path_factory.mktemp("served")
    catalogue_module.serve_files(folder, shared_dataset)
    handler = partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass
