"""Serving the console: uvicorn on 127.0.0.1 only, the Flask app through a2wsgi, a new random token per run.

uvicorn's access log is off: it would write every request's query string, the token's among them.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time

import uvicorn
from a2wsgi import WSGIMiddleware

from .. import loopback
from ..context import Context
from .app import create_app

HOST = "127.0.0.1"
STARTUP_SECONDS = 30.0


class ConsoleServer:
    """One console for one context; ``url`` signs a browser in (its token), ``serve_forever`` serves until Ctrl-C."""

    def __init__(self, ctx: Context, port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((HOST, port))  # an OSError here says the port is taken, before anything serves
        self._socket.listen(128)  # from now on a browser's connection waits for uvicorn instead of being refused
        self.port = int(self._socket.getsockname()[1])
        self._token = secrets.token_urlsafe(32)
        app = create_app(ctx, self._token, self.port)
        config = uvicorn.Config(WSGIMiddleware(app), access_log=False, log_level="warning", lifespan="off")
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return loopback.url("http", HOST, self.port)

    @property
    def url(self) -> str:
        """The address that signs a browser in: the token once, then a cookie (app.py)."""
        return f"{self.base_url}/?token={self._token}"

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C, which is how the console ends: uvicorn shuts down on the signal (in
        the main thread) and then raises it again (uvicorn 0.29 and later), which ends here as a clean stop."""
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            pass
        finally:
            self._socket.close()

    def start(self) -> ConsoleServer:
        """Serve in a thread of its own (tests, notebooks); ``stop`` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="vgsales-console", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError(f"The console did not start within {STARTUP_SECONDS:g} s")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
