"""Fixtures of the trust suite: stacks in temporary state folders, the case catalogue, and docs/trust.md's rows.

Every test passes alone and in any order. Stacks cost Terraform runs (seconds each on two cores), so there are two,
each shared through a session fixture, and each test leaves its stack as it found it or sets up what it needs:

- ``shared_stack``: bad input, the pipeline's faults, the endpoint's payloads and the security scans. No test
  removes it; a fault's test recovers from its fault, so the stack holds exactly what its records say afterwards.
- ``lifecycle_stack``: the interrupts (driven through the real CLI) and the teardown faults, which stop the emulator
  or remove the stack. ``lifecycle_stack.ready()`` sets the stack up again when a test needs it and finds it gone.

Each test that observes a row of docs/trust.md (a fault's outcome, a bad-input case's message, a payload's answer)
asserts that its row equals what it saw (``trust_doc``). With VGSALES_UPDATE_TRUST_DOC=1 those assertions give way
to rewriting the rows from what the tests saw, at the end of the session (``pytest_sessionfinish`` below).

Tests run with --import-mode=importlib, so harness.py and catalogue.py are loaded here and handed to tests as
fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
UPDATE_VARIABLE = "VGSALES_UPDATE_TRUST_DOC"


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


def updating_the_doc() -> bool:
    return bool(os.environ.get(UPDATE_VARIABLE))


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


# --- docs/trust.md, row by row ---------------------------------------------------------------------------------


class TrustDoc:
    """What the tests saw, row by row. Each observation is checked against its row of docs/trust.md at once, or,
    when updating, kept for pytest_sessionfinish to write. Paths, ports and request ids are replaced by
    placeholders so that a row does not change from one run to the next."""

    def __init__(self, tmp_root: Path, updating: bool) -> None:
        self.tmp_root = str(tmp_root)
        self.updating = updating
        self.observed: dict[str, dict[str, object]] = {name: {} for name in catalogue_module.BLOCKS}

    def normalise(self, text: str) -> str:
        text = text.strip().removeprefix("Error: ")
        text = text.replace(self.tmp_root, "<tmp>")
        text = re.sub(r"<tmp>/[^\s'\"]*?/(\S+\.csv|a-folder|no-such-file\.csv)", r"<tmp>/\1", text)
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<request-id>", text)
        return text

    def message(self, block: str, key: str, text: str) -> None:
        """A bad-input case's message or a payload's answer, as its row shows it."""
        self._saw(block, key, self.normalise(text))

    def fault(self, key: str, *, stray: list[str]) -> None:
        """A fault that its test recovered from, with what the emulator held beyond what the stack should."""
        assert not stray, f"{key}: left after recovery: {stray}"
        self._saw("faults", key, {"recovered": True, "stray": len(stray)})

    def _saw(self, block: str, key: str, observed: object) -> None:
        catalogue = catalogue_module
        case = catalogue.case_of(block, key)
        self.observed[block][key] = observed
        if self.updating:
            return  # written at the end of the session
        seen = catalogue.render_row(block, case, observed)
        rows = catalogue.rows_of(catalogue.DOC.read_text(), block, case)
        assert rows == [seen], (
            f"docs/trust.md's {block} row for {key!r} is not what this test saw.\n"
            f"  docs/trust.md: {rows if len(rows) != 1 else rows[0]}\n"
            f"  seen:          {seen}\n"
            f"Regenerate it with {UPDATE_VARIABLE}=1 pytest tests/trust (or only the tests whose rows change)."
        )


_TRUST_DOC = pytest.StashKey[TrustDoc]()


@pytest.fixture(scope="session")
def trust_doc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TrustDoc:
    doc = TrustDoc(tmp_path_factory.getbasetemp(), updating_the_doc())
    request.config.stash[_TRUST_DOC] = doc
    return doc


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With VGSALES_UPDATE_TRUST_DOC=1: the rows of what the tests saw written into docs/trust.md; a case that no
    test of this session observed keeps its row."""
    doc = session.config.stash.get(_TRUST_DOC, None)
    if doc is None or not doc.updating:
        return
    catalogue = catalogue_module
    text, kept, missing = catalogue.rewrite(catalogue.DOC.read_text(), doc.observed)
    catalogue.DOC.write_text(text)
    writer = session.config.get_terminal_writer()
    if writer.width_of_current_line:  # after the progress of -q, which leaves its line open
        writer.line()
    written = sum(len(rows) for rows in doc.observed.values())
    listed = f" ({', '.join(kept[:8])}{', ...' if len(kept) > 8 else ''})" if kept else ""
    writer.line(f"docs/trust.md: {written} row(s) written from what the tests saw; {len(kept)} kept{listed}.")
    problems = [problem for name in catalogue.BLOCKS for problem in catalogue.problems(text, name)]
    problems += [f"{case}: no test of this session saw it, and docs/trust.md had no row for it" for case in missing]
    if problems:
        writer.line("FAILED: docs/trust.md is still not consistent with the catalogue:\n  " + "\n  ".join(problems),
                    red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- stacks -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, shared_dataset: Path, terraform_available):
    """One local stack (setup in-process) for every test that leaves it as it found it."""
    from vgsales.infra import stack as infra

    local = harness_module.LocalStack(tmp_path_factory.mktemp("shared-stack"), shared_dataset)
    try:  # also when setup itself fails: its emulator must not outlive the run
        infra.setup(local.context())
        yield local
    finally:
        local.stop_emulator()  # only this folder's emulator


@pytest.fixture(scope="session")
def lifecycle_stack(tmp_path_factory: pytest.TempPathFactory, shared_dataset: Path, terraform_available):
    """A local stack for the tests that kill, stop or remove it: each sets up what it needs (``ready()``), and
    may leave the stack gone. Nothing is set up until a test asks."""
    local = harness_module.LocalStack(tmp_path_factory.mktemp("lifecycle-stack"), shared_dataset)
    try:
        yield local
    finally:
        local.stop_emulator()


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
