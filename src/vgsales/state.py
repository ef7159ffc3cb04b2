"""Where the typed records of records.py live: one JSON file each, per target, under the state folder.

Written atomically, so an interrupted task never leaves half a record.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TypeVar

from .errors import WorkshopError
from .records import Record
from .settings import Settings

R = TypeVar("R", bound=Record)


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

    def path(self, kind: type[Record]) -> Path:
        return self.root / f"{kind.NAME}.json"

    def has(self, kind: type[Record]) -> bool:
        return self.path(kind).is_file()

    def read(self, kind: type[R]) -> R:
        path = self.path(kind)
        if not path.is_file():
            raise WorkshopError(
                f"There is no {kind.NAME} record for the {self.settings.target} target yet ({path} is missing). "
                f"Run `invoke {kind.PRODUCER}` first."
            )
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise WorkshopError(
                f"The {kind.NAME} record {path} is not valid JSON ({exc}). Run `invoke {kind.PRODUCER}` again."
            ) from None
        return kind.from_json(data, str(path))

    def write(self, record: Record) -> Path:
        path = self.path(type(record))
        write_atomic(path, json.dumps(record.to_json(), indent=2, sort_keys=True, default=str) + "\n")
        return path

    def forget(self, *kinds: type[Record]) -> None:
        for kind in kinds:
            self.path(kind).unlink(missing_ok=True)


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
