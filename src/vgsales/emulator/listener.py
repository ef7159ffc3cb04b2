"""One HTTP or HTTPS listener on loopback that serves a WSGI application and that no slow or idle client can stall.

The emulator used to run on cheroot, whose accept loop performs each TLS handshake itself and whose worker threads
each read a request head to the end: a single TCP connection that sent nothing stopped every new connection for
the 60 s socket timeout, and forty that sent half a request head took every worker (issue 26). Here an asyncio
server (uvicorn, with h11's parser) owns the connections: a handshake, an idle keep-alive connection or a
request head that trickles in costs a socket and a few KiB, never a thread. A WSGI worker thread (a2wsgi) is taken
only by a complete request head, and reads the body only if the application asks for it, so a request refused
before its body is read never brings the body into memory.

What bounds a hostile client on the machine (every peer on loopback has the same address, so "per peer" means per
local user, read from the kernel's socket table where it can be):
- a request head must arrive whole within HEAD_TIMEOUT_SECONDS of its first byte, however slowly it trickles, and
  be at most HEAD_LIMIT_BYTES (h11 answers 400 beyond);
- a connection that says nothing, new or kept alive after a response, is closed after KEEP_ALIVE_SECONDS; a TLS
  handshake must end within asyncio's 60 s;
- each local user holds at most CONNECTIONS_PER_PEER connections (counted once TLS is up); the next is closed at
  once.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import uvicorn
from a2wsgi.wsgi import build_environ
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..loopback import require_loopback
from .shapes import Environ, WsgiApp

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128
# WSGI worker threads: they serve complete requests only (a connection without one takes none), so this bounds
# concurrent requests: a 16-client load test, the SDK's log polling, Terraform's parallelism.
WORKER_THREADS = 32
HEAD_LIMIT_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 20.0
# Longer than the clients' own idle pools keep a connection (botocore's and Terraform's Go SDK reuse them within
# seconds), so a busy client is not made to reconnect; short enough that abandoned sockets go.
KEEP_ALIVE_SECONDS = 60
CONNECTIONS_PER_PEER = 512


class Listener:
    """Serves ``app`` on ``host:port`` (0: a free port) in a thread with its own event loop, with TLS when a
    certificate and key are given."""

    def __init__(
        self,
        app: WsgiApp,
        host: str,
        port: int,
        *,
        certificate: tuple[Path, Path] | None = None,
        name: str,
        admit: Admit | None = None,
    ) -> None:
        require_loopback(host)
        self._bridge = _WsgiBridge(app, admit, name)
        self._socket = _bind(host, port)  # an OSError here (a port in use) is the caller's to explain
        peers = _Peers()
        config = uvicorn.Config(
            self._bridge,
            http=functools.partial(_Protocol, peers=peers),  # type: ignore[arg-type]
            lifespan="off",
            # Not uvloop, even when installed: its TLS transport, once closed, reads on until the client's
            # close_notify, so a refused 200 MiB body was read whole (benchmarks/hostile_clients.py: +125 MiB).
            loop="asyncio",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # no proxy stands in front of it: X-Forwarded-For is whatever a client wrote
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            h11_max_incomplete_event_size=HEAD_LIMIT_BYTES,
            ssl_certfile=str(certificate[0]) if certificate else None,
            ssl_keyfile=str(certificate[1]) if certificate else None,
        )
        config.load()
        # uvicorn's own INFO lines (server process started, shutting down) say nothing the emulator's log does not.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        if config.ssl is not None:
            config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> Listener:
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.01)
        if not self._server.started:
            raise RuntimeError(f"the emulator's listener did not start: {self._failure!r}")
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # noqa: BLE001 - reported by start(), which is waiting for it
            self._failure = exc

    def stop(self) -> None:
        # No graceful wait: every request the emulator serves acts on memory that goes with it, and a client
        # holding a connection (a body it never finished sending) would hold the stop for the whole grace period.
        self._server.should_exit = self._server.force_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()
        self._bridge.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # A port left in TIME_WAIT by a previous start can be taken again at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


class _Peers:
    """Connections held by each local user. On Linux the owner of a loopback connection's other end is in the
    kernel's socket table (/proc/net/tcp, the `uid` column, as identd reads it); elsewhere every peer counts as one."""

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()

    def admit(self, transport: asyncio.BaseTransport) -> str | None:
        """The peer's name if it may open this connection; None when it already holds its share. Runs on the
        listener's event loop only, so the counter needs no lock."""
        peer = _peer_of(transport)
        if self._held[peer] >= CONNECTIONS_PER_PEER:
            return None
        self._held[peer] += 1
        return peer

    def release(self, peer: str) -> None:
        self._held[peer] -= 1
        if self._held[peer] <= 0:
            del self._held[peer]


def _peer_of(transport: asyncio.BaseTransport) -> str:
    remote = transport.get_extra_info("peername")
    local = transport.get_extra_info("sockname")
    if not remote or not local:
        return "unknown"
    uid = peer_uid(local, remote)
    return f"uid {uid}" if uid is not None else str(remote[0])


def peer_uid(local: tuple, remote: tuple) -> int | None:  # type: ignore[type-arg]
    """The user owning the other end of a loopback TCP connection (local and remote as this side sees them), from
    /proc/net/tcp or tcp6, where that end is the row whose local address is our remote one; None when unknown."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        wanted_local = _proc_port(remote[1])
        wanted_remote = _proc_port(local[1])
        for row in rows:
            fields = row.split()
            if len(fields) > 7 and fields[1].endswith(wanted_local) and fields[2].endswith(wanted_remote):
                return int(fields[7])
    return None


def _proc_port(port: int) -> str:
    return f":{port:04X}"


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the head deadline, the per-user bound, and the connection's TLS version for
    the application (the ASGI TLS extension's `tls_version`, which uvicorn does not fill)."""

    def __init__(self, *args: object, peers: _Peers, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # uvicorn logs every request, query string included, whenever its access logger has a handler anywhere
        # up the tree (the root's, in the daemon): a presigned URL's signature would reach emulator.log. server.py
        # logs requests itself, without query strings.
        self.access_log = False
        self._peers = peers
        self._peer: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._head_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._peer = self._peers.admit(transport)
        if self._peer is None:
            log.warning("closed a connection: its user already holds %d connections", CONNECTIONS_PER_PEER)
            transport.abort()
            return
        super().connection_made(transport)
        # uvicorn writes a response's head and body separately; without TCP_NODELAY, Nagle's algorithm holds the
        # body until the client acknowledges the head, which it delays by 40 ms: every request took 44 ms. asyncio
        # sets it only on sockets whose proto is IPPROTO_TCP (base_events._set_nodelay), and an accepted socket
        # reports proto 0.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.app = functools.partial(_with_tls_version, self.app, ssl_object.version())
        # uvicorn times out an idle connection only after a response; a new one that never speaks is timed here.
        self._deadline = self.loop.call_later(KEEP_ALIVE_SECONDS, self._too_late)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._peer is None:
            return  # never admitted: uvicorn knows nothing of it
        self._peers.release(self._peer)
        self._peer = None
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head() and not self._head_started:
            # The first bytes of a request head: the whole head must follow within HEAD_TIMEOUT_SECONDS.
            self._head_started = True
            self._cancel_deadline()
            self._deadline = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self._too_late)
        super().data_received(data)
        if not self._awaiting_head():
            self._head_started = False
            self._cancel_deadline()  # a whole head arrived: the request is the application's now

    def _awaiting_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _too_late(self) -> None:
        self._deadline = None
        if self._awaiting_head() and not self.transport.is_closing():
            log.debug("closed a connection whose request head did not arrive in time")
            self.transport.close()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


async def _with_tls_version(app: Callable, tls_version: str | None, scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
    scope.setdefault("extensions", {})["tls"] = {"tls_version": tls_version}
    await app(scope, receive, send)


# What a request's head alone may get as an answer (server.py passes admission.refusal): the response, and whether
# to read the body to its end, throwing it away, before sending it.
Admit = Callable[[Environ], "tuple[tuple[int, list[tuple[str, str]], bytes], bool] | None"]


class _WsgiBridge:
    """The ASGI application uvicorn calls: it asks `admit` about the request head, reads the body only if the
    request is admitted, then runs the WSGI application in a worker thread and sends what it returned.

    Not a2wsgi's WSGIMiddleware (whose environ builder it uses): that one hops between the event loop and the
    worker thread for every read of the body and every piece of the response, which halved the emulator's
    throughput under load (benchmarks/load_endpoint.py); here each request crosses once each way. Bodies are
    read whole, as moto reads them anyway, and only after admission, which bounds their size.
    """

    def __init__(self, app: WsgiApp, admit: Admit | None, name: str) -> None:
        self._app = app
        self._admit = admit
        self._pool = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix=f"{name}-request")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        environ = build_environ(scope, io.BytesIO())  # type: ignore[arg-type]
        _add_server_keys(environ, scope)
        answer = self._admit(environ) if self._admit is not None else None
        if answer is not None:
            response, drain = answer
            if drain and await _read_body(receive, keep=False) is None:
                return  # the client left
            await _send(send, *response)
            return
        body = await _read_body(receive, keep=True)
        if body is None:
            return
        environ["wsgi.input"] = io.BytesIO(body)
        loop = asyncio.get_running_loop()
        await _send(send, *await loop.run_in_executor(self._pool, _call_wsgi, self._app, environ))


async def _read_body(receive: Callable, keep: bool) -> bytes | None:  # type: ignore[type-arg]
    """The request's body (b"" when not kept), or None if the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if keep:
            chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _call_wsgi(app: WsgiApp, environ: Environ) -> tuple[int, list[tuple[str, str]], bytes]:
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:  # type: ignore[type-arg]
        started[:] = [(status, headers)]
        return lambda data: None  # the legacy write() callable; nothing the emulator serves uses it

    try:
        result = app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    except Exception:  # noqa: BLE001 - a request's failure is its 500, never the listener's
        log.exception("request failed: %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        return 500, [("Content-Type", "text/plain")], b"Internal Server Error"
    status, headers = started[0]
    return int(status.split(" ", 1)[0]), headers, content


async def _send(send: Callable, status: int, headers: list[tuple[str, str]], content: bytes) -> None:  # type: ignore[type-arg]
    raw = [(name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def _add_server_keys(environ: Environ, scope: dict) -> None:  # type: ignore[type-arg]
    """The WSGI keys moto and the emulator read that a2wsgi's environ lacks: RAW_URI, the request target as sent
    (moto matches S3 keys against the undecoded path, as werkzeug's own server gives it), SSL_PROTOCOL (the
    connection's TLS version, for s3:TlsVersion) and wsgi.input_terminated (the body ends where the request does,
    chunked or not, so werkzeug reads a body that has no Content-Length)."""
    target = (scope.get("raw_path") or b"").decode("latin-1") or environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING")
    environ["RAW_URI"] = environ["REQUEST_URI"] = f"{target}?{query}" if query else target
    tls = (scope.get("extensions") or {}).get("tls") or {}
    if tls.get("tls_version"):
        environ["SSL_PROTOCOL"] = tls["tls_version"]
    environ["wsgi.input_terminated"] = True
