"""The layout's promises, checked on the source: which package may import which, and where targets differ.

Read with ast, so a lazy import inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "vgsales"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Absolute names of every vgsales module or package this module imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return {item for item in found if item == "vgsales" or item.startswith("vgsales.")}


IMPORTS = {name: imports_of(name, path) for name, path in modules().items()}


def importers_of(prefix: str) -> set[str]:
    return {name for name, found in IMPORTS.items() if any(item == prefix or item.startswith(prefix + ".") for item in found)}


def test_only_the_local_target_wiring_imports_the_emulator():
    outside = {name for name in importers_of("vgsales.emulator") if not name.startswith("vgsales.emulator")}
    assert outside == {"vgsales.target.local"}


@pytest.mark.parametrize("other", ["vgsales.pipeline", "vgsales.infra", "vgsales.target", "vgsales.evaluation",
                                   "vgsales.notebook", "vgsales.discovery", "vgsales.cli"])  # fmt: skip
def test_the_emulator_depends_on_nothing_of_the_pipeline(other):
    assert not {name for name in importers_of(other) if name.startswith("vgsales.emulator")}


@pytest.mark.parametrize("other", ["vgsales.emulator", "vgsales.pipeline", "vgsales.infra", "vgsales.target",
                                   "vgsales.settings", "vgsales.evaluation"])  # fmt: skip
def test_the_algorithm_contract_depends_on_neither_target_nor_pipeline(other):
    assert not {name for name in importers_of(other) if name.startswith("vgsales.algorithm")}


def test_the_pipeline_and_settings_take_the_rules_from_the_algorithm_package():
    assert {"vgsales.settings", "vgsales.pipeline.train", "vgsales.emulator.training"} <= importers_of("vgsales.algorithm")


def test_nothing_imports_the_command_line_layer():
    """cli/ is the edge where invoke meets the package: it imports the library, never the other way round (the
    library printed through cli.console, while cli imported infra: a package cycle)."""
    outside = {name for name in importers_of("vgsales.cli") if not name.startswith("vgsales.cli")}
    assert outside == set()


def test_the_output_layer_imports_nothing_of_the_package():
    assert IMPORTS["vgsales.output"] == set()


def test_no_code_outside_the_target_package_asks_which_target_it_is_on():
    """`settings.target == ...` (or !=, or `in`) belongs in target/ only; elsewhere a property of Target says it."""
    offenders = []
    for name, path in modules().items():
        if name.startswith("vgsales.target"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(side, ast.Attribute) and side.attr == "target" for side in sides):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders


def test_the_aws_path_never_loads_the_emulator(tmp_path):
    """In a fresh interpreter: the aws target, setup/teardown/status and every stage import no emulator module."""
    program = f"""
import sys
from pathlib import Path
from vgsales.settings import Settings, project_defaults, with_changes
from vgsales import target
import vgsales.infra.stack, vgsales.infra.local, vgsales.notebook, vgsales.discovery
import vgsales.pipeline.data, vgsales.pipeline.train, vgsales.pipeline.deploy, vgsales.pipeline.evaluate
root = Path({str(PACKAGE.parents[1])!r})
settings = Settings.from_config(with_changes(project_defaults(root), {{"target": "aws", "state_dir": {str(tmp_path)!r}}}), root)
where = target.of(settings)
assert where.name == "aws" and where.service.description is None
loaded = sorted(name for name in sys.modules if name.startswith("vgsales.emulator"))
print(loaded)
assert not loaded, loaded
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INVOKE_")}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
