"""What the emulator and an instance's JupyterLab (notebook_server.py) agree on, without Jupyter: the emulator
writes a grant file per presigned URL and names itself in JupyterLab's environment; JupyterLab reads both. Kept
apart so that the emulator's start imports none of jupyter_server."""

from __future__ import annotations

import hashlib

EMULATOR_PID_ENV = "VGSALES_EMULATOR_PID"  # the emulator that started this JupyterLab (notebook_instances.py)


def token_digest(token: str) -> str:
    """The grant's file name: the token's SHA-256, so that the folder never holds a usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
