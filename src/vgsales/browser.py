"""Opening a URL that carries a secret (a presigned URL, the console's token) in the user's default browser.

Not with the URL on the browser's command line, where any user of the machine can read it (`ps`): the browser is
given a file that only this user can read and that sends it on, as Jupyter does (jupyter_server's serverapp.py,
`launch_browser`, "open.html"). The file is rewritten at each open; the URL in it signs in once, or only while its
server runs.
"""

from __future__ import annotations

import html
import os
import webbrowser
from pathlib import Path

REDIRECT = """<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={url}"><title>Opening…</title></head>
<body><p>Opening <a href="{url}">the page</a>…</p></body></html>
"""


def open_privately(url: str, name: str) -> bool:
    """Open ``url`` in the default browser through a private redirect file named ``name``; False without a
    browser."""
    try:
        if webbrowser.get() is None:
            return False
    except webbrowser.Error:
        return False
    path = redirect_file(url, name)
    try:
        return webbrowser.open(path.as_uri())
    except webbrowser.Error:
        return False


def redirect_file(url: str, name: str) -> Path:
    """The redirect file, in a folder of this user's only (0700), itself 0600."""
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "vgsales" / "open"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{name}.html"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(REDIRECT.format(url=html.escape(url, quote=True)))
    path.chmod(0o600)  # a file left by an earlier open keeps its mode through O_TRUNC
    return path
