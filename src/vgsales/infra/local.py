"""`invoke emulator.start/stop/status`: the local target's emulator by hand (setup and teardown do it for you)."""

from __future__ import annotations

from .. import target
from ..cli.console import console
from ..errors import WorkshopError
from ..settings import Settings
from ..target import Service


def _emulator(settings: Settings) -> Service:
    service = target.of(settings).service
    if service.description is None:
        raise WorkshopError(
            f"The emulator belongs to the local target, but this invocation targets {settings.target!r}. "
            "Run it without INVOKE_WORKSHOP_TARGET=aws (or with target: local)."
        )
    return service


def start(settings: Settings) -> None:
    info, _ = _emulator(settings).start()
    console.print(f"Emulator running at {info.url} (pid {info.pid}).")


def stop(settings: Settings) -> None:
    if _emulator(settings).stop():
        console.print("Emulator stopped; everything it held is gone (it keeps state in memory).")
    else:
        console.print("The emulator was not running.")


def status(settings: Settings) -> None:
    info = _emulator(settings).running()
    if info is None:
        console.print("The emulator is not running. `invoke setup` or `invoke emulator.start` starts it.")
    else:
        console.print(f"Emulator running at {info.url} (pid {info.pid}, since {info.started_at}).")
