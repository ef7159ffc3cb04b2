"""The suite hands its children Ctrl-C's default, whatever the shell that started it did with it.

A shell without job control starts a background command (`pytest ... &`) with SIGINT ignored, children inherit
it, and Python keeps an ignored SIGINT: the `invoke` processes the trust suite interrupts would run on
(tests/trust/test_faults_interrupts.py). tests/conftest.py's pytest_configure restores the default.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

# Started with SIGINT ignored; configures as pytest would; then asks a child of its own what it got.
PROBE = f"""
import importlib.util, signal, subprocess, sys
print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
spec = importlib.util.spec_from_file_location("suite_conftest", {str(CONFTEST)!r})
conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conftest)
conftest.pytest_configure(None)
child = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout.strip())
"""


def test_a_suite_started_with_ctrl_c_ignored_gives_its_children_the_default():
    started = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # noqa: PLW1509
    assert started.returncode == 0, started.stderr
    ignored_at_start, child_has_default = started.stdout.split()
    assert ignored_at_start == "True", "the probe must start as a background job does"
    assert child_has_default == "True", started.stdout
