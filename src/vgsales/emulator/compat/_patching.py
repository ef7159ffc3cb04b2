"""Replace attributes of moto's classes once, keeping the originals reachable for tests.

Only for what moto shares between every service and so offers no class to subclass (access.py's access control).
"""

from __future__ import annotations

from ..shapes import Json

_MARK = "__vgsales_original__"


def patch(owner: object, name: str, replacement: Json) -> None:
    """Set owner.name to replacement unless it is already our replacement (install() may run twice)."""
    current = getattr(owner, name, None)
    if current is not None and hasattr(current, _MARK):
        return
    setattr(replacement, _MARK, current)
    setattr(owner, name, replacement)


def original(owner: object, name: str) -> Json:
    """moto's own attribute before we patched it (None if moto had none), or the attribute if unpatched."""
    current = getattr(owner, name, None)
    return getattr(current, _MARK, current)


def is_patched(owner: object, name: str) -> bool:
    return hasattr(getattr(owner, name, None), _MARK)


def replaced(replacement: Json) -> Json:
    """Inside a replacement: the attribute it replaced, to call moto's own behaviour."""
    return getattr(replacement, _MARK)
