"""An HTTPS proxy on loopback that takes AWS hostnames to the emulator, and nothing anywhere else.

Some clients build endpoints that AWS_ENDPOINT_URL never reaches: the SageMaker SDK v2 and v3 create their STS
client with an explicit `https://sts.<region>.amazonaws.com` (get_caller_identity_arn), so `default_bucket()`
and `get_execution_role()` would try the real AWS. With HTTPS_PROXY pointing here, such a client asks this
proxy to CONNECT to `sts.us-east-1.amazonaws.com:443`; the proxy opens a tunnel to the emulator's own TLS port
instead. The client then speaks TLS end to end with the emulator, whose certificate names the AWS hostnames
(tls.py) and is signed by the emulator's per-start CA that AWS_CA_BUNDLE trusts, and moto routes the request
by its Host header, as it routes `<bucket>.s3.<region>.amazonaws.com` or `api.sagemaker.<region>...`.

What it never does: resolve a name, or connect anywhere but the emulator's port. A CONNECT to any host that is
not an AWS service hostname, or to a port other than 443, and every request that is not CONNECT, gets a 403 or
405 with a sentence saying why. (moto ships a proxy mode of its own, but the CA key inside its wheel is public,
so anyone could mint certificates it signs; this proxy needs no CA of its own at all.)
"""

from __future__ import annotations

import logging
import re
import select
import socket
import threading
import time
from collections import Counter
from contextlib import suppress

from .. import loopback
from ..loopback import require_loopback
from .listener import peer_uid

log = logging.getLogger(__name__)

# AWS service hostnames: <labels>.amazonaws.com (and .com.cn), and the newer dual-stack <labels>.api.aws.
AWS_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:amazonaws\.com(?:\.cn)?|api\.aws)")
HEAD_LIMIT_BYTES = 16 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
IDLE_TIMEOUT_SECONDS = 300.0
MAX_TUNNELS = 256
# Every client on loopback has the same address, so the share is per local user (listener.peer_uid): another
# account's idle sockets can then take at most half the tunnels, never the learner's own.
TUNNELS_PER_USER = MAX_TUNNELS // 2
CHUNK_BYTES = 64 * 1024
HOSTS_LOGGED = 256


# Said with every refusal, for a client that met the proxy by accident: HTTPS_PROXY from `invoke emulator.env` is in
# the shell, and pip, curl or git tried the internet through it.
WITHOUT_THE_PROXY = (
    "This is the local AWS emulator's proxy (HTTPS_PROXY, from invoke emulator.env): it takes AWS service "
    "hostnames (*.amazonaws.com) to the emulator, and nothing is forwarded off this machine. Run this command "
    "without it: env -u HTTPS_PROXY -u https_proxy <command>"
)


def refusal(host_port: str) -> str | None:
    """Why a CONNECT target is refused, or None when it is an AWS hostname on 443 (tunnelled to the emulator)."""
    host, _, port = host_port.rpartition(":")
    host = host.strip("[]").lower().rstrip(".")
    if not host or port != "443":
        return f"{host_port!r} is not host:443, and only HTTPS to AWS hostnames is tunnelled."
    if not AWS_HOSTNAME.fullmatch(host):
        return f"{host!r} is not an AWS hostname."
    return None


class TunnelProxy:
    """Listens on a loopback port; tunnels each accepted CONNECT to ``upstream``, the emulator's TLS port."""

    def __init__(self, host: str, upstream: tuple[str, int], port: int = 0) -> None:
        require_loopback(host)
        require_loopback(upstream[0])
        self._upstream = upstream
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(128)
        self._host = host
        self._tunnels = threading.BoundedSemaphore(MAX_TUNNELS)
        self._per_user: Counter[int | None] = Counter()
        self._hosts_seen: set[str] = set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="emulator-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return loopback.url("http", self._host, self.port)

    def start(self) -> TunnelProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                user = peer_uid(client.getsockname(), client.getpeername())
            except OSError:  # the client has already gone
                client.close()
                continue
            with self._lock:
                admitted = self._per_user[user] < TUNNELS_PER_USER and self._tunnels.acquire(blocking=False)
                if admitted:
                    self._per_user[user] += 1
            if not admitted:
                _respond(client, 503, "Service Unavailable", "Too many open tunnels through the emulator's proxy.")
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client, user), name="emulator-tunnel", daemon=True).start()

    def _note_host(self, target: str) -> None:
        """Log the first tunnel to each AWS hostname: the log then says which of AWS's hostnames the clients
        built (a rehearsal's Terraform provider, an SDK's STS client). At most HOSTS_LOGGED of them are
        remembered, so a client inventing hostnames cannot grow the set without bound."""
        with self._lock:
            if target in self._hosts_seen or len(self._hosts_seen) >= HOSTS_LOGGED:
                return
            self._hosts_seen.add(target)
        log.info("proxy: first tunnel to %s", target)

    def _serve(self, client: socket.socket, user: int | None) -> None:
        upstream = None
        try:
            self._track(client)
            head = _read_head(client)
            if head is None:
                return
            method, _, rest = head.partition(" ")
            target = rest.partition(" ")[0]
            if method.upper() != "CONNECT":
                _respond(client, 405, "Method Not Allowed",
                         "The local emulator's proxy only tunnels HTTPS (CONNECT) to AWS hostnames.")  # fmt: skip
                return
            reason = refusal(target)
            if reason is not None:
                log.warning("proxy refused CONNECT %s", target)
                # Clients print the status line, not the body ("Tunnel connection failed: 403 <reason phrase>" in
                # pip, requests and Python's http.client), so the reason phrase itself says why and what to do.
                explained = f"{reason} {WITHOUT_THE_PROXY}"
                _respond(client, 403, f"Forbidden: {explained}", explained)
                return
            upstream = socket.create_connection(self._upstream, timeout=HEAD_TIMEOUT_SECONDS)
            self._track(upstream)
            self._note_host(target)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(client, upstream, self._stopping)
        except OSError as exc:
            log.debug("proxy tunnel ended: %s", exc)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    self._untrack(sock)
                    sock.close()
            with self._lock:
                self._per_user[user] -= 1
            self._tunnels.release()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)


def _read_head(client: socket.socket) -> str | None:
    """The request head, which must arrive whole within HEAD_TIMEOUT_SECONDS of the connection (a client sending a
    byte at a time gets no more time than one sending none): socket.timeout ends the tunnel otherwise."""
    deadline = time.monotonic() + HEAD_TIMEOUT_SECONDS
    data = b""
    while b"\r\n\r\n" not in data:
        client.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = client.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > HEAD_LIMIT_BYTES:
            _respond(client, 431, "Request Header Fields Too Large", "The proxy request head is too large.")
            return None
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def _respond(client: socket.socket, status: int, phrase: str, message: str) -> None:
    # A reason phrase is one line of visible ASCII (RFC 9112 section 4); the names in it came from the client.
    phrase = "".join(char if " " <= char <= "~" else "?" for char in phrase)
    body = (message + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with suppress(OSError):
        client.sendall(head.encode() + body)


def _pipe(a: socket.socket, b: socket.socket, stopping: threading.Event) -> None:
    """Copy bytes both ways until either side closes, or nothing moves for IDLE_TIMEOUT_SECONDS."""
    peers = {a: b, b: a}
    for sock in peers:
        sock.setblocking(True)
        sock.settimeout(None)
    while not stopping.is_set():
        readable, _, broken = select.select(list(peers), [], list(peers), IDLE_TIMEOUT_SECONDS)
        if broken or not readable:
            return
        for sock in readable:
            data = sock.recv(CHUNK_BYTES)
            if not data:
                return
            peers[sock].sendall(data)
