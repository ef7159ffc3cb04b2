"""Where the test suite's CPU goes: each test module's CPU seconds and wall seconds, from one serial pytest run.

    python benchmarks/suite_cpu.py [--top 25] [--json FILE] [pytest arguments, e.g. tests/stack]

The suite is CPU-bound on two cores (README, Tests), so what shortens `pytest -n auto` is CPU. A module's CPU here is
the whole machine's busy time (/proc/stat) across each of its tests (setup, call and teardown), so what its tests
start counts too: emulators, Terraform and its provider, JupyterLab, chromium, client scripts. That holds only while
one test runs at a time, so the run is serial (no `-n`), and the machine should be otherwise quiet. A session
fixture counts in the module whose test first asks for it. Linux only (/proc/stat).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PROJECT_ROOT, machine, print_table  # noqa: E402

PROC_STAT = Path("/proc/stat")


def busy_seconds() -> float:
    """The machine's CPU time since boot outside idle and I/O wait, summed over cores (user, nice, system, irq,
    softirq: proc(5))."""
    user, nice, system, _idle, _iowait, irq, softirq = (int(field) for field in PROC_STAT.read_text().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


class CpuByModule:
    """A pytest plugin: CPU and wall seconds per test module."""

    def __init__(self) -> None:
        self.modules: dict[str, list[float]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        cpu, wall = busy_seconds(), time.monotonic()
        yield
        spent = self.modules.setdefault(item.nodeid.split("::", 1)[0], [0.0, 0.0])
        spent[0] += busy_seconds() - cpu
        spent[1] += time.monotonic() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=25, help="modules to print, the costliest first")
    parser.add_argument("--json", type=Path, help="also write {module: [cpu, wall]} here")
    options, pytest_args = parser.parse_known_args()
    if not PROC_STAT.is_file():
        parser.error("this benchmark reads the machine's CPU time from /proc/stat, which only Linux has")
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in pytest_args):
        parser.error("the run must be serial: other workers' CPU would count in each module; leave out -n")
    plugin = CpuByModule()
    os.chdir(PROJECT_ROOT)
    started = time.monotonic()
    code = pytest.main(["-q", "-p", "no:cacheprovider", *pytest_args], plugins=[plugin])
    elapsed = time.monotonic() - started
    costliest = sorted(plugin.modules.items(), key=lambda item: -item[1][0])
    total_cpu = sum(cpu for cpu, _ in plugin.modules.values())
    rows = [[module, f"{cpu:.1f}", f"{wall:.1f}", f"{cpu / total_cpu:.1%}" if total_cpu else "-"]
            for module, (cpu, wall) in costliest[: options.top]]
    print_table(f"CPU by test module ({machine()}; pytest exit {int(code)})", ["module", "CPU-s", "wall s", "share"],
                rows)
    cores = os.cpu_count() or 1
    print(f"{len(plugin.modules)} modules: {total_cpu:.0f} CPU-s in their tests, {elapsed:.0f} s wall for the run; "
          f"on {cores} cores they need at least {total_cpu / cores:.0f} s")
    if options.json:
        options.json.write_text(json.dumps({module: [round(cpu, 1), round(wall, 1)] for module, (cpu, wall) in costliest},
                                           indent=1) + "\n")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
