"""`invoke emulator.start/stop/status`: the local target's emulator as a background daemon."""

from __future__ import annotations

from .. import target
from ..console import console
from ..emulator import daemon
from ..errors import WorkshopError
from ..settings import Settings


def _require_local(settings: Settings) -> None:
    if settings.target != "local":
        raise WorkshopError(
            f"The emulator belongs to the local target, but this invocation targets {settings.target!r}. "
            "Run it without INVOKE_WORKSHOP_TARGET=aws (or with target: local)."
        )


def start(settings: Settings) -> None:
    _require_local(settings)
    info = daemon.start(target.emulator_dir(settings), host=settings.emulator.host, port=settings.emulator.port)
    console.print(f"Emulator running at {info.url} (pid {info.pid}).")


def stop(settings: Settings) -> None:
    _require_local(settings)
    if daemon.stop(target.emulator_dir(settings)):
        console.print("Emulator stopped; everything it held is gone (it keeps state in memory).")
    else:
        console.print("The emulator was not running.")


def status(settings: Settings) -> None:
    _require_local(settings)
    info = daemon.status(target.emulator_dir(settings))
    if info is None:
        console.print("The emulator is not running. `invoke setup` or `invoke emulator.start` starts it.")
    else:
        console.print(f"Emulator running at {info.url} (pid {info.pid}, since {info.started_at}).")
