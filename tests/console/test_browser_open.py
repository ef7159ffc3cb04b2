"""Opening a URL with a secret in the default browser (vgsales.browser): the browser is handed a private file that
sends it on, never the URL itself, which any user of the machine could read on its command line."""

from __future__ import annotations

import stat
import webbrowser
from pathlib import Path

from vgsales import browser

SECRET_URL = 'http://127.0.0.1:4567/?token=s3cret-"<token>'


def test_the_browser_gets_a_private_file_not_the_url(monkeypatch, tmp_path):
    opened: list[str] = []
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(webbrowser, "get", lambda: object())
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    assert browser.open_privately(SECRET_URL, "console")
    (argument,) = opened
    assert argument.startswith("file://") and "s3cret" not in argument
    path = Path(argument.removeprefix("file://"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    content = path.read_text()
    assert "s3cret-&quot;&lt;token&gt;" in content and SECRET_URL not in content  # escaped into the page


def test_a_file_left_readable_by_others_is_made_private_again(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    left = browser.redirect_file("http://127.0.0.1:1/", "notebook")
    left.chmod(0o644)
    again = browser.redirect_file("http://127.0.0.1:2/", "notebook")
    assert again == left and stat.S_IMODE(again.stat().st_mode) == 0o600 and "127.0.0.1:2/" in again.read_text()


def test_without_a_browser_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))

    def none():
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", none)
    assert not browser.open_privately(SECRET_URL, "console")
    assert not (tmp_path / "vgsales").exists()
