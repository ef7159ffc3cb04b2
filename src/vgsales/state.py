"""What one task leaves for the next, kept per target under the state folder.

Records are small JSON files written atomically, so an interrupted task never leaves half a record.
They are a convenience for chaining tasks: teardown and status never rely on them alone, they discover
resources on the target itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import WorkshopError
from .settings import Settings

# record name -> the task that writes it, for "run X first" messages
PRODUCERS = {
    "stack": "setup",
    "data": "data",
    "training": "train",
    "endpoint": "deploy",
    "evaluation": "evaluate",
}


class RunState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.target_dir

    @property
    def terraform_dir(self) -> Path:
        return self.root / "terraform"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def evaluation_dir(self) -> Path:
        return self.root / "evaluation"

    @property
    def cache_dir(self) -> Path:
        # Shared by both targets: the dataset is the same file whichever target trains on it.
        return self.settings.state_dir / "cache"

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def has(self, name: str) -> bool:
        return self._path(name).is_file()

    def read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        if not path.is_file():
            task = PRODUCERS.get(name, name)
            raise WorkshopError(
                f"There is no {name} record for the {self.settings.target} target yet ({path} is missing). "
                f"Run `invoke {task}` first."
            )
        return json.loads(path.read_text())

    def write(self, name: str, data: dict[str, Any]) -> Path:
        path = self._path(name)
        write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        return path

    def forget(self, *names: str) -> None:
        for name in names:
            self._path(name).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
