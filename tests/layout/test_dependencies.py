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
    """The rehearsal runs its emulator through the local target's wiring (targets/rehearsal.py uses local.Emulator)."""
    outside = {name for name in importers_of("vgsales.emulator") if not name.startswith("vgsales.emulator")}
    assert outside == {"vgsales.targets.local"}


@pytest.mark.parametrize("other", ["vgsales.pipeline", "vgsales.infra", "vgsales.targets", "vgsales.evaluation",
                                   "vgsales.notebook", "vgsales.discovery", "vgsales.cli"])  # fmt: skip
def test_the_emulator_depends_on_nothing_of_the_pipeline(other):
    assert not {name for name in importers_of(other) if name.startswith("vgsales.emulator")}


@pytest.mark.parametrize("other", ["vgsales.emulator", "vgsales.pipeline", "vgsales.infra", "vgsales.targets",
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
    """`settings.target == ...` (or !=, or `in`) belongs in targets/ only; elsewhere a property of Target says it."""
    offenders = []
    for name, path in modules().items():
        if name.startswith("vgsales.targets"):
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
from vgsales import targets
import vgsales.infra.stack, vgsales.infra.local, vgsales.notebook, vgsales.discovery
import vgsales.pipeline.data, vgsales.pipeline.train, vgsales.pipeline.deploy, vgsales.pipeline.evaluate
root = Path({str(PACKAGE.parents[1])!r})
settings = Settings.from_config(with_changes(project_defaults(root), {{"target": "aws", "state_dir": {str(tmp_path)!r}}}), root)
where = targets.of(settings)
assert where.name == "aws" and where.service.description is None
loaded = sorted(name for name in sys.modules if name.startswith("vgsales.emulator"))
print(loaded)
assert not loaded, loaded
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INVOKE_")}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


# --- nothing in the library rewrites the process's environment -------------------------------------------------

_ENVIRON_WRITES = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__"}


def environment_writes(source: str) -> list[int]:
    """Lines that change os.environ (or call os.putenv / os.unsetenv), however os or environ was imported."""
    tree = ast.parse(source)
    os_names, environ_names = {"os"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names.update(alias.asname or alias.name for alias in node.names if alias.name == "os")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            environ_names.update(alias.asname or alias.name for alias in node.names if alias.name == "environ")

    def is_environ(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            return isinstance(node.value, ast.Name) and node.value.id in os_names
        return isinstance(node, ast.Name) and node.id in environ_names

    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        if any(isinstance(item, ast.Subscript) and is_environ(item.value) for item in targets):
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            function = node.func
            if function.attr in _ENVIRON_WRITES and is_environ(function.value):
                lines.append(node.lineno)
            if function.attr in ("putenv", "unsetenv") and isinstance(function.value, ast.Name) and function.value.id in os_names:
                lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize("source, written", [
    ("import os\nos.environ['A'] = '1'", True),
    ("import os\nos.environ.update(A='1')", True),
    ("import os\ndel os.environ['A']", True),
    ("import os as system\nsystem.environ.pop('A')", True),
    ("from os import environ\nenviron['A'] = '1'", True),
    ("from os import environ as env\nenv.clear()", True),
    ("import os\nos.putenv('A', '1')", True),
    # near misses: reading, copying, and a WSGI request's own `environ` mapping
    ("import os\nvalue = os.environ.get('A')", False),
    ("import os\nmine = dict(os.environ)\nmine['A'] = '1'\nmine.update(B='2')", False),
    ("environ = {}\nenviron['wsgi.input'] = None\nenviron.pop('A', None)", False),
])  # fmt: skip
def test_the_environment_check_sees_writes_and_only_writes(source, written):
    assert bool(environment_writes(source)) is written


def test_library_code_never_writes_the_process_environment():
    """Two contexts share one process: a library function that set os.environ would point the other one's clients
    (and every thread's) at its target. Subprocesses get their environment passed explicitly."""
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in modules().values()
        for line in environment_writes(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


# --- no standard ignore file hides a part of the project --------------------------------------------------------

# The folder names that GitHub's Python .gitignore template ignores wherever they appear (unanchored patterns
# ending in "/": build/, dist/, lib/, target/ for PyBuilder, env/, venv/, ...), as of github/gitignore 3d94ab1.
# An adopter who starts from that template would silently drop any of our folders with such a name.
TEMPLATE_IGNORED_FOLDERS = {
    "__pycache__", "build", "develop-eggs", "dist", "downloads", "eggs", ".eggs", "lib", "lib64", "parts", "sdist",
    "var", "wheels", "htmlcov", ".tox", ".nox", ".hypothesis", ".pytest_cache", "cover", "instance", ".pybuilder",
    "target", "profile_default", ".pdm-build", "__pypackages__", "env", "venv", "ENV", "env.bak", "venv.bak",
    ".mypy_cache", ".pyre", ".pytype", "cython_debug", ".abstra", ".ruff_cache", "python-wheels",
}  # fmt: skip


def hidden_by_the_template(path: str) -> bool:
    return any(part in TEMPLATE_IGNORED_FOLDERS or part.endswith(".egg-info") for part in Path(path).parts[:-1])


def test_the_template_check_catches_a_folder_it_ignores_and_only_that():
    assert hidden_by_the_template("src/vgsales/target/__init__.py")
    assert hidden_by_the_template("src/vgsales/lib/x.py")
    assert not hidden_by_the_template("src/vgsales/targets/__init__.py")  # near miss: one letter more
    assert not hidden_by_the_template("src/vgsales/target.py")  # a file of that name is not a folder


def test_no_tracked_file_is_in_a_folder_that_githubs_python_gitignore_hides():
    root = PACKAGE.parents[1]
    # Tracked files and new ones the project's own .gitignore does not exclude.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True)  # fmt: skip
    paths = listed.stdout.splitlines()
    assert "src/vgsales/context.py" in paths, "the listing covers the package"
    assert not [path for path in paths if hidden_by_the_template(path)]
