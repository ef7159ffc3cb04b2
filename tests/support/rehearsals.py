"""`invoke rehearse` run as a person runs it (in a terminal, in a shell without AWS credentials), and what it left
to read: its transcript, its record, Terraform's log and the emulator's log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.terminal import PROJECT_ROOT, Terminal, run_in_terminal, terminal_environment

# The rehearsal prints long lines (plans, ARNs); a wide terminal keeps them whole in the transcript.
COLUMNS = 200


@dataclass(frozen=True)
class Rehearsal:
    terminal: Terminal
    state_dir: Path
    record_file: Path
    env: dict[str, str]

    @property
    def text(self) -> str:
        return self.terminal.text()

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.record_file.read_text(encoding="utf-8"))

    @property
    def target_dir(self) -> Path:
        return self.state_dir / "rehearsal" / "aws"

    def step(self, name: str) -> dict[str, Any]:
        return next(step for step in self.record["steps"] if step["step"] == name)

    def section(self, name: str) -> str:
        """What the rehearsal printed for one step: from its rule (a row of ─ around the name) to the next. Rows,
        not lines: a rule fills the terminal's width, which lines() would take for a wrapped line."""
        lines = self.terminal.rows
        rule = re.compile(rf"^─+ {re.escape(name)} ─+$")
        start = next(index for index, line in enumerate(lines) if rule.match(line.strip()))
        end = next((index for index in range(start + 1, len(lines)) if re.match(r"^─+ .+ ─+$", lines[index].strip())),
                   len(lines))
        return "\n".join(lines[start:end])

    def terraform_log(self) -> str:
        return (self.target_dir / "terraform" / "terraform.log").read_text(encoding="utf-8")

    def terraform_commands(self) -> list[str]:
        """Each command's line of Terraform's log, without the leading `--- terraform `."""
        return re.findall(r"^--- terraform (.+)$", self.terraform_log(), re.MULTILINE)

    def tunnelled_hosts(self) -> set[str]:
        log = (self.target_dir / "emulator" / "emulator.log").read_text(encoding="utf-8")
        return set(re.findall(r"proxy: first tunnel to (\S+)", log))

    def invoke(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)


def rehearse(state_dir: Path, dataset: Path, answers: Mapping[str, str] | None = None, timeout: float = 300,
             **settings: str) -> Rehearsal:
    """`invoke rehearse --record <state_dir>/record.json` in a terminal, answering ``answers``' prompts."""
    # Without AWS credentials or a profile, as the rehearsal asks.
    env = terminal_environment(state_dir, data_source=str(dataset), **settings)
    record_file = state_dir / "record.json"
    terminal = run_in_terminal("rehearse", "--record", str(record_file), env=env, timeout=timeout, columns=COLUMNS,
                               answers=answers)
    return Rehearsal(terminal, state_dir, record_file, env)
