"""The one place that drives Terraform, through python-terraform.

python-terraform 0.10.1 (2019) predates Terraform 1.x; the call patterns here are the ones that work with
Terraform 1.11: apply with skip_plan, destroy without -force, outputs read as a whole,
plan's exit code 2 meaning "changes", and errors checked by return code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, IsNotFlagged, Terraform

from ..errors import WorkshopError
from .terraform_cli import cli_config_env

ROOT_MODULE = Path(__file__).resolve().parents[3] / "terraform"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# In TF_DATA_DIR: the digest of the configuration that `terraform init` last prepared that folder for.
INIT_STAMP = "vgsales-init.sha256"
# Terraform's own log of every command, beside the state: what a failure message points to.
LOG_NAME = "terraform.log"


# What Terraform writes beside the state holds the state's content (every resource's attributes, which may hold
# secrets): the state, its backups and lock, the saved plan, and the log of every command's output. Each is
# made readable by the owner only (0600), in a folder only the owner may enter (0700).
PRIVATE_FILES = ("terraform.tfstate*", "*.tfplan", LOG_NAME)
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(work_dir: Path) -> None:
    """The folder 0700 and every file of PRIVATE_FILES in it 0600 (Terraform creates its files 0644)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    work_dir.chmod(PRIVATE_FOLDER_MODE)
    for pattern in PRIVATE_FILES:
        for path in work_dir.glob(pattern):
            if path.is_file() and not path.is_symlink():
                path.chmod(PRIVATE_FILE_MODE)


def state_file(work_dir: Path) -> Path:
    return work_dir / "terraform.tfstate"


@dataclass(frozen=True)
class PlanSummary:
    add: int
    change: int
    destroy: int
    text: str

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy)


# How long an interrupted Terraform may take to stop gracefully (write its state, stop its provider).
STOP_SECONDS = 60


class TerraformStack:
    """The root configuration, applied with state and plugin cache kept in one target's own folder.

    Each target gets its own state file and TF_DATA_DIR, so a local run can never read or write the
    state of the aws target. ``env`` is the whole environment Terraform runs with (the target's connection over
    the user's own environment); this process's environment is never changed for it.
    """

    def __init__(
        self,
        work_dir: Path,
        env: Mapping[str, str],
        plugin_mirror: str | None = None,
        root_module: Path = ROOT_MODULE,
    ) -> None:
        binary = shutil.which("terraform")
        if binary is None:
            raise WorkshopError(
                "Terraform is not on PATH. Install Terraform 1.6 or newer "
                "(https://developer.hashicorp.com/terraform/install) and run the task again."
            )
        self.work_dir = work_dir
        self.state_file = state_file(work_dir)
        self.log_file = work_dir / LOG_NAME
        self._root = root_module
        self._binary = binary
        self._data_dir = work_dir / "data"
        self._env = {
            **env,
            "TF_DATA_DIR": str(work_dir / "data"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            **cli_config_env(plugin_mirror, work_dir),
        }
        self._tf = Terraform(working_dir=str(root_module), terraform_bin_path=binary)

    def _run(self, command: str, *args: str, **options: Any) -> tuple[int, str, str]:
        make_private(self.work_dir)  # before Terraform writes: nobody else can enter the folder meanwhile
        try:
            rc, out, err = self._terraform(command, *args, no_color=IsFlagged, **options)
            descriptor = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
            with open(descriptor, "a", encoding="utf-8") as log:
                # The arguments too, the variables' values aside: what was applied (a saved plan's file or a fresh
                # plan) is part of what happened.
                log.write(f"--- terraform {command} {_shown(args, options)} (exit {rc})\n"
                          f"{_ANSI.sub('', out)}{_ANSI.sub('', err)}\n")
        finally:
            make_private(self.work_dir)
        return rc, out, err

    def _terraform(self, command: str, *args: str, **options: Any) -> tuple[int, str, str]:
        """python-terraform's command line, run with this stack's environment. `Terraform.cmd` runs it with a copy
        of os.environ (or an empty one), so the process would take the connection from whatever the process's
        environment holds; the same Popen and communicate, with the environment given, keep two stacks apart."""
        argv = self._tf.generate_cmd_string(command, *args, **options)
        try:
            process = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self._tf.working_dir, env=self._env
            )
            try:
                out, err = process.communicate()
            except KeyboardInterrupt:
                # Ctrl-C reached Terraform too (one process group), and it stops gracefully, writing its state. Left
                # alone with its output pipe closed by our exit, it died on the next write and its provider process
                # outlived the task; so wait for it (and end it if it hangs), then report the interrupt.
                try:
                    process.communicate(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()
                raise
        finally:
            self._tf.temp_var_files.clean_up()  # the -var-file written for mapping variables
        return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def _check(self, what: str, result: tuple[int, str, str], ok: tuple[int, ...] = (0,)) -> str:
        rc, out, err = result
        if rc not in ok:
            summary = error_summary(_ANSI.sub("", err.strip() or out.strip()))
            raise WorkshopError(
                f"terraform {what} failed (exit {rc}): {summary} Terraform's whole output is in {self.log_file}."
            )
        return out

    def init(self) -> bool:
        """`terraform init`, unless TF_DATA_DIR is already initialised for this very configuration; True if it ran.

        The digest covers every .tf file of the root and its modules, the lock file and the CLI configuration
        (the provider mirror): any change to them runs init again."""
        digest = self._configuration_digest()
        stamp = self._data_dir / INIT_STAMP
        if stamp.is_file() and stamp.read_text().strip() == digest:
            return False
        stamp.unlink(missing_ok=True)
        rc, out, err = self._run("init", backend=False)
        if rc != 0 and "registry.terraform.io" in err:
            raise WorkshopError(
                "terraform init cannot reach the provider registry (registry.terraform.io). On a machine without "
                "internet access, point Terraform at a provider mirror: set VGSALES_TF_PLUGIN_MIRROR (or "
                "workshop.terraform.plugin_mirror) to a folder holding hashicorp/aws. Terraform's whole output is in "
                f"{self.log_file}."
            )
        self._check("init", (rc, out, err))
        stamp.write_text(self._configuration_digest() + "\n")  # init may have written the lock file
        return True

    def _configuration_digest(self) -> str:
        digest = hashlib.sha256(self._binary.encode())
        files = sorted(self._root.glob("*.tf")) + sorted((self._root / "modules").rglob("*.tf"))
        lock = self._root / ".terraform.lock.hcl"
        for path in [*files, *([lock] if lock.is_file() else [])]:
            digest.update(str(path.relative_to(self._root)).encode() + b"\0" + path.read_bytes() + b"\0")
        config = self._env.get("TF_CLI_CONFIG_FILE")
        if config and Path(config).is_file():
            digest.update(Path(config).read_bytes())
        return digest.hexdigest()

    @property
    def plan_file(self) -> Path:
        return self.work_dir / "setup.tfplan"

    def plan(self, variables: Mapping[str, Any]) -> PlanSummary:
        """Plan into plan_file, so that apply() carries out exactly what was shown (and skips a second refresh)."""
        options: dict[str, Any] = {"var": dict(variables), "state": str(self.state_file), "input": False}
        # -detailed-exitcode: 0 no changes, 2 changes, 1 error.
        result = self._run("plan", detailed_exitcode=IsFlagged, out=str(self.plan_file), **options)
        return _summarise_plan(self._check("plan", result, ok=(0, 2)))

    def apply(self) -> str:
        """Apply the saved plan; Terraform refuses it if the state changed since, instead of doing something else."""
        try:
            return self._check("apply", self._run("apply", str(self.plan_file), state=str(self.state_file), input=False))
        finally:
            self.plan_file.unlink(missing_ok=True)

    def apply_now(self, variables: Mapping[str, Any], refresh: bool) -> PlanSummary:
        """Plan and apply in one Terraform process (one provider start), for a target that does not ask first.

        refresh=False trusts the state: right for the emulator, whose resources only Terraform and this
        project change, and whose state is discarded whenever the emulator is gone."""
        options: dict[str, Any] = {"var": dict(variables), "state": str(self.state_file), "input": False, "refresh": refresh}
        out = self._check("apply", self._run("apply", auto_approve=IsFlagged, **options))
        return _summarise_apply(out)

    def destroy(self, variables: Mapping[str, Any], refresh: bool = True) -> str:
        options = {"var": dict(variables), "state": str(self.state_file), "input": False, "refresh": refresh}
        return self._check("destroy", self._run("destroy", auto_approve=IsFlagged, **options))

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs, read from the state that apply just wrote: what `terraform output -json`
        prints, without starting Terraform again (half a second)."""
        if not self.state_file.is_file():
            return {}
        state = json.loads(self.state_file.read_text() or "{}")
        return {name: item["value"] for name, item in state.get("outputs", {}).items()}

    def managed_resources(self) -> list[str]:
        return recorded_resources(self.state_file)

    def discard_state(self) -> None:
        discard_state(self.work_dir)


def _shown(args: tuple[str, ...], options: Mapping[str, Any]) -> str:
    """A command's options and arguments for the log: each option's name and value, the variables by name only."""
    shown = []
    for name, value in options.items():
        flag = "-" + name.replace("_", "-")
        if name == "var":
            shown += [f"-var {variable}=…" for variable in value]
        elif value is IsFlagged:
            shown.append(flag)
        elif value is not None and value is not IsNotFlagged:
            shown.append(f"{flag}={str(value).lower() if isinstance(value, bool) else value}")
    return " ".join([*shown, *args])


def recorded_resources(state_file: Path) -> list[str]:
    """Addresses of the resources a state file records, as `terraform state list` prints them (an instance of
    count or for_each with its key), read without calling Terraform or the target."""
    if not state_file.is_file():
        return []
    state = json.loads(state_file.read_text() or "{}")
    addresses = []
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed":
            continue
        prefix = f"{resource['module']}." if resource.get("module") else ""
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            index = "" if key is None else f"[{json.dumps(key, ensure_ascii=False)}]"
            addresses.append(f"{prefix}{resource['type']}.{resource['name']}{index}")
    return addresses


# Terraform resource type -> (discovery kind, the state attribute holding its name on the target).
_TRACKED_TYPES = {
    "aws_sagemaker_notebook_instance": ("notebook-instance", "name"),
    "aws_sagemaker_notebook_instance_lifecycle_configuration": ("lifecycle-config", "name"),
    "aws_iam_role": ("role", "name"),
    "aws_s3_bucket": ("bucket", "bucket"),
}


def tracked(state_file: Path) -> set[tuple[str, str]]:
    """(kind, name) of every resource of the kinds discovery knows that a Terraform state file records."""
    if not state_file.is_file():
        return set()
    state = json.loads(state_file.read_text() or "{}")
    names = set()
    for resource in state.get("resources", []):
        kind, attribute = _TRACKED_TYPES.get(resource.get("type"), (None, None))
        if resource.get("mode") != "managed" or kind is None:
            continue
        for instance in resource.get("instances", []):
            name = instance.get("attributes", {}).get(attribute)
            if name:
                names.add((kind, name))
    return names


def discard_state(work_dir: Path) -> None:
    """Forget local state; only ever used for the emulator, whose resources are gone with it."""
    for path in work_dir.glob("terraform.tfstate*"):
        path.unlink()


# Terraform 1.10+ warns about the -state flag that TerraformStack passes on purpose (each target's state in its own
# folder, the root module shared). The warning is about this project's command line, not the person's plan, so the
# plan shown before the [y/N] question leaves it out; Terraform's log keeps it.
_STATE_FLAG_WARNING = re.compile(r"\n*Warning: Deprecated flag: -state\n\n.*?backends/local#path\n", re.DOTALL)


def _summarise_plan(text: str) -> PlanSummary:
    clean = _STATE_FLAG_WARNING.sub("\n", _ANSI.sub("", text), count=1)
    match = re.search(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy", clean)
    counts = tuple(int(n) for n in match.groups()) if match else (0, 0, 0)
    return PlanSummary(*counts, text=clean)


def _summarise_apply(text: str) -> PlanSummary:
    clean = _ANSI.sub("", text)
    match = re.search(r"Resources: (\d+) added, (\d+) changed, (\d+) destroyed", clean)
    counts = tuple(int(n) for n in match.groups()) if match else (0, 0, 0)
    return PlanSummary(*counts, text=clean)


def error_summary(text: str, limit: int = 600) -> str:
    """Terraform's errors in one paragraph: each error's title and its explanation, without the source excerpt.

    Terraform prints `Error: <title>`, a blank line, `  on <file> line N ...` with the offending lines (or `│`
    boxes), a blank line, and the explanation; this keeps the title and the explanation."""
    blocks = re.split(r"(?m)^(?:│\s*)?Error: ", text)[1:]
    if not blocks:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return (" ".join(lines[-3:]) or "no output.")[:limit]
    sentences = []
    for block in blocks:
        lines = [line.strip(" │╵╷") for line in block.splitlines()]
        title = lines[0].strip()
        paragraphs = [[]]
        for line in lines[1:]:
            if line.strip():
                paragraphs[-1].append(line.strip())
            elif paragraphs[-1]:
                paragraphs.append([])
        explanation = [p for p in paragraphs if p and not p[0].startswith(("on ", "with "))]
        text_of = " ".join(" ".join(p) for p in explanation)
        sentences.append(f"{title.rstrip('.')}{': ' + text_of if text_of else ''}".rstrip())
    summary = " ".join(s if s.endswith(".") else s + "." for s in sentences)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"
