"""The `vgsales` command: the project's invoke tasks from any folder.

`invoke` looks for tasks.py in the folder it runs in and above, so `invoke emulator.env` in the folder of one's
own code finds none. `vgsales` runs invoke's own Program as if `-r <project folder>` were given: the same
tasks, the same invoke.yaml, the same INVOKE_WORKSHOP_* variables, and -f files relative to the folder it runs
in. The project folder is the checkout this package is installed from, else VGSALES_PROJECT_DIR.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from invoke import Program

from . import PROJECT_DIR, PROJECT_DIR_ENV


class WorkshopProgram(Program):
    """invoke's Program, looking for tasks.py in the project folder unless -r names another."""

    def __init__(self, project_dir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.project_dir = project_dir

    def load_collection(self) -> None:
        search_root = self.args["search-root"]
        if search_root.value is None:
            search_root.value = str(self.project_dir)
        super().load_collection()


def missing_project(project_dir: Path) -> str | None:
    """The one-paragraph reason why there are no tasks to run, or None."""
    if (project_dir / "tasks.py").is_file():
        return None
    named = os.environ.get(PROJECT_DIR_ENV, "").strip()
    return (
        f"Error: vgsales runs the tasks of the workshop's project folder (the one with tasks.py and invoke.yaml), "
        f"but found none: this copy of the vgsales package is not installed from one, and {PROJECT_DIR_ENV} "
        f"{'names ' + named + ', which has no tasks.py' if named else 'is not set'}. Set "
        f"{PROJECT_DIR_ENV} to the project folder, or install the package from it with `pip install -e "
        "<project folder>`. (Inside the project folder, `invoke` works as well.)"
    )


def main(argv: list[str] | None = None) -> None:
    problem = missing_project(PROJECT_DIR)
    if problem is not None:
        print(problem, file=sys.stderr)
        sys.exit(1)
    try:
        package_version = version("vgsales")
    except PackageNotFoundError:  # running from a source tree without an installed distribution
        package_version = "unknown"
    WorkshopProgram(PROJECT_DIR, name="vgsales", binary="vgsales", version=package_version).run(argv)


if __name__ == "__main__":
    main()
