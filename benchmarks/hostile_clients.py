"""What clients without a key can do to a running emulator: memory under a flood of large bodies, and the health
check's latency while many clients hold connections open without finishing a request (issue 26, item 3).

Starts its own emulator in a throw-away state folder, as `invoke setup` does, and prints:
- the emulator's RSS before and after 4 concurrent 200 MiB bodies, each tried three ways: InvokeEndpoint with a
  made-up key in its Credential=, an unsigned S3 PUT, and an S3 PUT signed with a made-up key (target: < 100 MiB
  of growth);
- the health check's latency (median and worst of 20) alone, then while 100 clients hold TLS connections that
  sent half a request head, and while 100 clients hold raw TCP connections that never start TLS.

    python benchmarks/hostile_clients.py [--body-mib 200] [--slow-clients 100]
"""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import machine, median, print_table  # noqa: E402
from load_endpoint import rss_mib  # noqa: E402

from vgsales.emulator import daemon  # noqa: E402
from vgsales.emulator.endpoint import HEALTH_PATH  # noqa: E402

CHUNK = b"\0" * (1024 * 1024)
FORGED = "AWS4-HMAC-SHA256 Credential=AKIAFORGEDFORGED0000/20261206/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"


def _tls(info: daemon.EmulatorInfo) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(info.ca_bundle))


def _address(info: daemon.EmulatorInfo) -> tuple[str, int]:
    host, _, port = info.url.removeprefix("https://").rpartition(":")
    return host.strip("[]"), int(port)


def _send_body(info: daemon.EmulatorInfo, head: str, body_mib: int) -> str:
    """Sends a request head announcing body_mib MiB, then the body for as long as the emulator reads it; returns
    the status line it got (or how the connection ended)."""
    with socket.create_connection(_address(info)) as raw, _tls(info).wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(head.format(length=body_mib * 1024 * 1024).encode())
        sent = 0
        try:
            sock.settimeout(30)
            for _ in range(body_mib):
                sock.sendall(CHUNK)
                sent += 1
        except OSError:
            pass  # the emulator answered and closed: what it should do
        try:
            return sock.recv(200).split(b"\r\n", 1)[0].decode() + f" (after {sent} MiB sent)"
        except OSError as exc:
            return f"{type(exc).__name__} (after {sent} MiB sent)"


FLOODS = {
    "InvokeEndpoint, made-up key": (
        "POST /endpoints/x/invocations HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n"
        "Authorization: " + FORGED.format(service="sagemaker") + "\r\nContent-Length: {length}\r\n\r\n"
    ),
    "S3 PUT, unsigned": "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n\r\n",
    "S3 PUT, made-up key": (
        "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + FORGED.format(service="s3")
        + "\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nContent-Length: {length}\r\n\r\n"
    ),
}


def flood(info: daemon.EmulatorInfo, head: str, body_mib: int, clients: int = 4) -> tuple[float, float, str]:
    before = rss_mib(info.pid)
    peak = before
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(_send_body(info, head, body_mib))) for _ in range(clients)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, rss_mib(info.pid))
        time.sleep(0.05)
    return before, peak, answers[0] if answers else "-"


def health_latencies(info: daemon.EmulatorInfo, samples: int = 20) -> list[float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        if daemon.health(info.url, info.ca_bundle, timeout=30) is None:
            latencies.append(float("inf"))
        else:
            latencies.append(time.perf_counter() - started)
    return latencies


def hold_slow_clients(info: daemon.EmulatorInfo, count: int, *, tls: bool) -> list[socket.socket]:
    held = []
    for _ in range(count):
        raw = socket.create_connection(_address(info))
        if tls:
            sock = _tls(info).wrap_socket(raw, server_hostname="localhost")
            sock.sendall(b"GET " + HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: localh")  # never finished
            held.append(sock)
        else:
            held.append(raw)  # never says a word
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body-mib", type=int, default=200)
    parser.add_argument("--slow-clients", type=int, default=100)
    args = parser.parse_args()
    state_dir = Path(tempfile.mkdtemp(prefix="vgsales-bench-hostile-"))
    info = daemon.start(state_dir)
    try:
        rows = []
        for name, head in FLOODS.items():
            before, peak, answer = flood(info, head, args.body_mib)
            rows.append([name, f"{before:.0f}", f"{peak:.0f}", f"{peak - before:+.0f}", answer])
        print_table(
            f"4 x {args.body_mib} MiB bodies without a key ({machine()})",
            ["flood", "RSS before (MiB)", "peak (MiB)", "growth (MiB)", "first answer"],
            rows,
        )
        latency_rows = [["no slow clients", *_figures(health_latencies(info))]]
        for label, tls in (("TLS, half a request head", True), ("TCP, no TLS handshake", False)):
            held = hold_slow_clients(info, args.slow_clients, tls=tls)
            try:
                latency_rows.append([f"{args.slow_clients} clients: {label}", *_figures(health_latencies(info))])
            finally:
                for sock in held:
                    sock.close()
        print_table("Health check latency (ms)", ["while", "median", "worst"], latency_rows)
    finally:
        daemon.stop(state_dir)


def _figures(latencies: list[float]) -> list[str]:
    return [f"{median(latencies) * 1000:.1f}", f"{max(latencies) * 1000:.1f}"]


if __name__ == "__main__":
    main()
