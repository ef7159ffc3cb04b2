"""Replace attributes of moto's classes once, keeping the originals reachable for tests."""

from __future__ import annotations

from typing import Any

_MARK = "__vgsales_original__"


def patch(owner: Any, name: str, replacement: Any) -> None:
    """Set owner.name to replacement unless it is already our replacement (install() may run twice)."""
    current = getattr(owner, name, None)
    if current is not None and hasattr(current, _MARK):
        return
    setattr(replacement, _MARK, current)
    setattr(owner, name, replacement)


def original(owner: Any, name: str) -> Any:
    """moto's own attribute before we patched it (None if moto had none), or the attribute if unpatched."""
    current = getattr(owner, name, None)
    return getattr(current, _MARK, current)


def is_patched(owner: Any, name: str) -> bool:
    return hasattr(getattr(owner, name, None), _MARK)


def replaced(replacement: Any) -> Any:
    """Inside a replacement: the attribute it replaced, to call moto's own behaviour."""
    return getattr(replacement, _MARK)
