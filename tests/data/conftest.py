"""Fixtures for the data tests: a loopback web server (the generated dataset is in tests/conftest.py).

The generated dataset mimics what the preprocessing cares about: blank cells that dropna() removes, 'tbd'
user scores, a few categories per column, and hits (Global_Sales > 1) that tend to have higher critic
scores, so a model trained on it learns something. Tests run with --import-mode=importlib, so helpers are
handed to them as fixtures rather than imported.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/csv"
    silent: bool = False  # answers nothing until the server stops, so any client timeout is sure to expire
    headers: tuple[tuple[str, str], ...] = ()


class FileServer:
    """Serves fixed responses on 127.0.0.1 and counts the requests each path received."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: Counter[str] = Counter()
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests[self.path] += 1
                route = server.routes.get(self.path, Route(b"not found", status=404, content_type="text/plain"))
                if route.silent:
                    server._stopping.wait()
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers:
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up mid-body: what a download that refuses an oversized file does

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown() (and so each test's teardown) fast.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def add(self, path: str, body: bytes, **options) -> str:
        """Serve ``body`` at ``path``; returns its URL."""
        self.routes[path] = Route(body, **options)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer().start()
    yield server
    server.stop()
