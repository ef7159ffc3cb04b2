"""What a local client without the emulator's key can do to it (issue 26): nothing that stalls it, nothing that
makes it read a large body, nothing that floods its log. Each test speaks raw HTTP over TLS, as such a client
would, so that what is observed is when the emulator answers and what it reads."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import time

import pytest

from vgsales.emulator import admission, daemon, listener, server
from vgsales.emulator.__main__ import RepeatSummary, _log_handler

from support.wait import wait_until

HEAD_ONLY_SECONDS = 1.0  # how long a test waits to see that the emulator is still waiting for a body


def _tls_socket(emulator, timeout: float = 10.0) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    raw = socket.create_connection(("127.0.0.1", emulator.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="localhost")


def _answer(sock: ssl.SSLSocket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def _served(emulator) -> bool:
    """True when a new connection gets its health check answered; False when the emulator closed it at once."""
    try:
        with _tls_socket(emulator) as sock:
            sock.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return _answer(sock).startswith("HTTP/1.1 200")
    except (ssl.SSLError, ConnectionError):
        return False


def _signed(key_id: str, service: str) -> str:
    """An Authorization header naming key_id; its signature is wrong, which only moto checks, after the body."""
    return f"Authorization: AWS4-HMAC-SHA256 Credential={key_id}/20261206/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n"


FORGED_KEY = "AKIAFORGEDFORGED0000"


@pytest.mark.parametrize(
    ("head", "status", "code"),
    [
        pytest.param("POST /endpoints/e/invocations HTTP/1.1\r\nHost: localhost\r\n" + _signed(FORGED_KEY, "sagemaker")
                     + "Content-Length: 209715200\r\n\r\n", "400", "UnrecognizedClientException", id="invoke-made-up-key"),
        pytest.param("PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\n" + _signed(FORGED_KEY, "s3")
                     + "Content-Length: 209715200\r\n\r\n", "403", "InvalidAccessKeyId", id="s3-made-up-key"),
        pytest.param("PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: 209715200\r\n\r\n",
                     "403", "AccessDenied", id="s3-unsigned"),
        pytest.param("PUT /bucket/key?X-Amz-Credential=" + FORGED_KEY + "%2F20261206%2Fus-east-1%2Fs3%2Faws4_request"
                     " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 209715200\r\n\r\n",
                     "403", "InvalidAccessKeyId", id="s3-presigned-made-up-key"),
        pytest.param("PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "411", "MissingContentLength", id="s3-chunked"),
    ],
)  # fmt: skip
def test_a_request_without_an_issued_key_is_refused_before_its_body_is_read(emulator, head, status, code):
    """The head alone gets the answer, and the connection closes, so the 200 MiB announced are never read."""
    with _tls_socket(emulator) as sock:
        sock.sendall(head.encode())
        answer = _answer(sock)
        assert answer.split(" ", 2)[1] == status, answer
        assert "connection: close" in answer.lower()
        body = sock.recv(65536)
        assert code.encode() in body
        assert not _accepts_mib(sock, 64), "the emulator went on reading the body it refused"


def test_a_streamed_upload_is_taken_when_it_says_its_size(aws_env):
    """botocore sends a body it cannot measure (a pipe, a socket's file object) as aws-chunked over HTTP chunking,
    with no Content-Length. S3 requires X-Amz-Decoded-Content-Length then ("For all requests, you must include the
    x-amz-decoded-content-length header", S3 API reference, sigv4-streaming), which botocore sends when the caller
    gives ContentLength (boto/botocore#3652); without it, S3's 411 MissingContentLength."""
    import io
    import uuid

    import boto3
    from botocore.exceptions import ClientError

    class Unmeasurable(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # noqa: ANN001
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = b"1 1:0.5\n" * 1000
    s3 = boto3.client("s3")
    bucket = f"vgsales-stream-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="sized", Body=Unmeasurable(data), ContentLength=len(data))
    assert s3.get_object(Bucket=bucket, Key="sized")["Body"].read() == data
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="unsized", Body=Unmeasurable(data))
    assert refused.value.response["Error"]["Code"] == "MissingContentLength"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 411


def _accepts_mib(sock: ssl.SSLSocket, mib: int) -> bool:
    """Whether the other side takes `mib` MiB more: False when the connection breaks first (a closed connection
    takes what fits in the socket buffers, a few MiB, then fails)."""
    chunk = b"\0" * (1024 * 1024)
    try:
        for _ in range(mib):
            sock.sendall(chunk)
    except OSError:
        return False
    return True


def test_a_key_the_emulator_issued_gets_past_the_head(emulator):
    """Near miss: the same S3 PUT head, but with the issued key's ID: the emulator now waits for the body."""
    key_id = emulator.credentials.access_key_id
    with _tls_socket(emulator, timeout=HEAD_ONLY_SECONDS) as sock:
        sock.sendall(("PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\n" + _signed(key_id, "s3") + "Content-Length: 10\r\n\r\n").encode())
        with pytest.raises(TimeoutError):
            sock.recv(65536)


@pytest.mark.parametrize(
    ("path", "service", "method", "limit", "code"),
    [
        ("/endpoints/e/invocations", "sagemaker", "POST", admission.INVOCATION_BODY_BYTES, "ValidationError"),
        ("/bucket/key", "s3", "PUT", admission.S3_PUT_BODY_BYTES, "EntityTooLarge"),
        ("/", "sagemaker", "POST", admission.MAX_OTHER_BODY_BYTES, "RequestEntityTooLarge"),
    ],
)
def test_a_body_over_its_operations_limit_is_refused_by_its_length(emulator, path, service, method, limit, code):
    """One byte over: refused. A body the emulator can drain (up to 64 MiB, an InvokeEndpoint a little too large) is
    read and thrown away, so the client sees the answer; a larger one is refused from the head and the connection
    closed. Exactly the limit: the emulator waits for the body (AWS takes it)."""
    key_id = emulator.credentials.access_key_id
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n" + _signed(key_id, service) + "Content-Length: {}\r\n\r\n"
    drained = limit + 1 <= admission.MAX_DRAIN_BYTES
    with _tls_socket(emulator) as sock:
        sock.sendall(head.format(limit + 1).encode())
        if drained:
            sock.sendall(b"x" * (limit + 1))
        answer = _answer(sock)
        assert answer.split(" ", 2)[1] in ("400", "413"), answer
        assert ("connection: close" in answer.lower()) is not drained, "a drained connection stays open"
        assert code.encode() in sock.recv(65536)
    with _tls_socket(emulator, timeout=HEAD_ONLY_SECONDS) as sock:
        sock.sendall(head.format(limit).encode())
        with pytest.raises(TimeoutError):
            sock.recv(65536)


def test_silent_and_half_finished_connections_stall_no_one(emulator):
    """A TCP connection that never starts TLS used to stop every new connection for 60 s (cheroot made each TLS
    handshake in its accept loop), and connections that sent half a request head each held a worker thread.
    With 100 of each open, a new client is served at once."""
    held = []
    try:
        for _ in range(100):
            held.append(socket.create_connection(("127.0.0.1", emulator.port)))
        for _ in range(100):
            sock = _tls_socket(emulator)
            sock.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: loc")
            held.append(sock)
        assert daemon.health(emulator.url, emulator.ca_bundle, timeout=5) is not None
    finally:
        for sock in held:
            sock.close()


def test_a_request_head_must_arrive_in_time_but_an_idle_kept_alive_connection_may_wait(emulator, monkeypatch):
    monkeypatch.setattr(listener, "HEAD_TIMEOUT_SECONDS", 0.5)
    with _tls_socket(emulator) as slow, _tls_socket(emulator) as idle:
        idle.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _answer(idle).startswith("HTTP/1.1 200")
        idle.recv(65536)  # the health document
        slow.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: loc")
        slow.settimeout(10)
        assert slow.recv(65536) == b"", "the half-sent head was cut off"
        # Near miss: the idle connection (no byte of a new head since its response) outlives the head deadline. Time
        # must pass to show that nothing happens, so this sleep stays.
        time.sleep(listener.HEAD_TIMEOUT_SECONDS)
        idle.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _answer(idle).startswith("HTTP/1.1 200")


def _trickled_until_closed(sock: socket.socket, head: bytes) -> bool:
    """Sends the head a byte every 0.1 s; True when the other side closed the connection before the last byte."""
    sock.setblocking(False)  # a peek must not wait for the other side
    for byte in head:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return True
        time.sleep(0.1)
        try:
            if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                return True
        except BlockingIOError:
            continue  # still open
        except OSError:
            return True
    return False


def test_a_head_sent_a_byte_at_a_time_does_not_extend_its_deadline(emulator, monkeypatch):
    """The deadline runs from the head's first byte: a client trickling one byte every 0.1 s is cut off after
    0.5 s, not kept forever (the slow-loris attack)."""
    monkeypatch.setattr(listener, "HEAD_TIMEOUT_SECONDS", 0.5)
    head = b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"x" * 100
    host, port = emulator.http_url.removeprefix("http://").rsplit(":", 1)  # plain HTTP: the same listener code
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        assert _trickled_until_closed(sock, head), "cut off before the whole head was trickled"


def test_each_local_user_holds_a_bounded_number_of_connections(emulator, monkeypatch):
    monkeypatch.setattr(listener, "CONNECTIONS_PER_PEER", 5)
    # Connections left by other tests may still be counted: the bound is about new ones, so count what is open.
    held = []
    try:
        while len(held) < 10:
            sock = _tls_socket(emulator)
            sock.sendall(b"GET " + server.HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
            if not _answer(sock).startswith("HTTP/1.1 200"):
                sock.close()
                break
            sock.recv(65536)
            held.append(sock)
        assert len(held) <= 5, "more connections than the bound were served"
        held.pop().close()
        # One freed: one more is admitted, as soon as the emulator has seen the close.
        wait_until(lambda: _served(emulator), timeout=10, message="a new connection served after one was closed")
    finally:
        for sock in held:
            sock.close()


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="the socket table is read from Linux's /proc")
def test_the_peer_of_a_loopback_connection_is_its_user():
    with socket.create_server(("127.0.0.1", 0)) as listening:
        client = socket.create_connection(listening.getsockname())
        accepted, _ = listening.accept()
        with client, accepted:
            assert listener.peer_uid(accepted.getsockname(), accepted.getpeername()) == os.getuid()
            # Near miss: the listening side's own row is not the peer's (ports swapped: no such connection).
            assert listener.peer_uid(accepted.getpeername(), ("127.0.0.1", 1)) is None


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("vgsales.emulator.proxy", logging.WARNING, __file__, 1, message, args, None)


def test_repeated_log_records_are_summarised():
    now = [0.0]
    summary = RepeatSummary(clock=lambda: now[0])
    passed = [summary.filter(_record("proxy refused CONNECT %s", f"host{i}:80")) for i in range(1000)]
    assert passed.count(True) == RepeatSummary.BURST and passed[: RepeatSummary.BURST] == [True] * RepeatSummary.BURST
    # Near miss: another kind of record is not held back by the first one's flood.
    assert summary.filter(_record("proxy tunnel ended: %s", "x"))
    assert summary.held_back() == [
        f'{1000 - RepeatSummary.BURST} more records like "proxy refused CONNECT %s" (vgsales.emulator.proxy) were not logged'
    ]
    now[0] = RepeatSummary.WINDOW_SECONDS - 0.01  # still the same window
    assert not summary.filter(_record("proxy refused CONNECT %s", "late:80"))
    now[0] = RepeatSummary.WINDOW_SECONDS  # a new window: the next one passes, saying how many were not logged
    record = _record("proxy refused CONNECT %s", "next:80")
    assert summary.filter(record)
    assert record.getMessage().startswith(f"[{1000 - RepeatSummary.BURST + 1} more like the next line in 60 s were not logged]")
    assert record.getMessage().endswith("proxy refused CONNECT next:80")


def test_the_log_file_rotates_by_size(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon, "LOG_ROTATE_BYTES", 10_000)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    handler = _log_handler(tmp_path)
    logger = logging.getLogger("test-rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(1000):
            logger.warning("line %d %s", i, "x" * 100)
    finally:
        logger.removeHandler(handler)
        handler.close()
    log_file = tmp_path / daemon.LOG_FILE
    assert log_file.stat().st_size <= 10_000
    assert (tmp_path / (daemon.LOG_FILE + ".1")).stat().st_size <= 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == [daemon.LOG_FILE, daemon.LOG_FILE + ".1"], "one old file kept"
    assert "line 999" in log_file.read_text()


def _proxy_socket(emulator) -> socket.socket:
    host, port = emulator.proxy_url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def _tunnelled(emulator) -> bool:
    """True when a new connection to the proxy gets a tunnel; False when it is refused (503, closed)."""
    try:
        with _proxy_socket(emulator) as sock:
            target = b"sts.us-east-1.amazonaws.com:443"
            sock.sendall(b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n\r\n")
            return sock.recv(200).startswith(b"HTTP/1.1 200")
    except ConnectionError:
        return False


def test_the_proxy_gives_each_local_user_a_bounded_share_of_its_tunnels(emulator, monkeypatch):
    from vgsales.emulator import proxy

    monkeypatch.setattr(proxy, "TUNNELS_PER_USER", 3)
    held = [_proxy_socket(emulator) for _ in range(3)]  # idle: they never send a CONNECT
    try:
        with _proxy_socket(emulator) as refused:
            assert refused.recv(200).startswith(b"HTTP/1.1 503")
        held.pop().close()
        # Near miss: one share freed, one tunnel more, as soon as the proxy has seen the close.
        wait_until(lambda: _tunnelled(emulator), timeout=10, message="a new tunnel admitted after one was closed")
    finally:
        for sock in held:
            sock.close()


def test_the_proxy_cuts_off_a_connect_head_sent_a_byte_at_a_time(emulator, monkeypatch):
    from vgsales.emulator import proxy

    monkeypatch.setattr(proxy, "HEAD_TIMEOUT_SECONDS", 0.5)
    head = b"CONNECT sts.us-east-1.amazonaws.com:443 HTTP/1.1\r\nX-Padding: " + b"x" * 100
    with _proxy_socket(emulator) as sock:
        assert _trickled_until_closed(sock, head), "cut off before the whole head was trickled"


# With "tls", each connection completes its handshake (without verifying: nobody may not read the CA file), as
# the API counts a connection from then on; the proxy counts it from its accept. Both close a connection beyond
# the share at once (the proxy after a 503): the script says "holding" once it has seen `refused` of them closed,
# so the server has taken every one of its connections before this user's are tried.
HOLD_CONNECTIONS = """
import select, socket, ssl, sys
port, count, tls, refused = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "tls", int(sys.argv[4])
context = ssl._create_unverified_context()
held = []
for _ in range(count):
    sock = socket.create_connection(("127.0.0.1", port))
    held.append(context.wrap_socket(sock) if tls else sock)
    held[-1].setblocking(False)
listening, closed = list(held), 0
while closed < refused:
    ready, _, _ = select.select(listening, [], [], 60)
    if not ready:
        sys.exit(f"{closed} of {count} connections were closed in 60 s, not {refused}")
    for sock in ready:
        try:
            data = sock.recv(4096)
        except (ssl.SSLWantReadError, BlockingIOError):
            continue  # a TLS 1.3 session ticket: the connection is open
        except OSError:
            data = b""
        if not data or data.startswith(b"HTTP/1.1 503"):
            listening.remove(sock)
            closed += 1
print("holding", flush=True)
sys.stdin.read()
"""
# The system's interpreter: the user nobody may not enter this venv's (under /root on CI); the script needs
# nothing but the standard library.
SYSTEM_PYTHON = "/usr/bin/python3"


def _hold_as_nobody(port: int, count: int, tls: bool, refused: int):  # -> subprocess.Popen
    """A process of the user nobody holding `count` connections to the port, `refused` of them closed by the
    server, until its standard input closes."""
    import subprocess

    other = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", HOLD_CONNECTIONS, str(port), str(count), "tls" if tls else "tcp", str(refused)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, user=65534, group=65534, text=True, cwd="/",
    )  # fmt: skip
    assert other.stdout.readline() == "holding\n", "the other user's connections are open"
    return other


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON),
    reason=f"needs root and {SYSTEM_PYTHON}, to open connections as another local user (nobody)",
)
@pytest.mark.parametrize("where", ["proxy", "api"])
def test_another_local_user_cannot_take_this_users_connections(emulator, monkeypatch, where):
    """Another account (nobody) holds all it may, and more; this user's clients are still served."""
    from vgsales.emulator import proxy

    monkeypatch.setattr(proxy, "TUNNELS_PER_USER", 3)
    monkeypatch.setattr(listener, "CONNECTIONS_PER_PEER", 3)
    port = int(emulator.proxy_url.rsplit(":", 1)[1]) if where == "proxy" else emulator.port
    other = _hold_as_nobody(port, 10, tls=where == "api", refused=10 - 3)
    try:
        if where == "proxy":
            with _proxy_socket(emulator) as mine:
                mine.sendall(b"CONNECT sts.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
                assert mine.recv(200).startswith(b"HTTP/1.1 200")
        else:
            assert daemon.health(emulator.url, emulator.ca_bundle, timeout=5) is not None
    finally:
        other.stdin.close()
        other.wait(timeout=10)
