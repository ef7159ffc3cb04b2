"""The local endpoint under load: 16 concurrent clients x 2,000 requests of 100 real test rows each.

    python benchmarks/load_endpoint.py [--clients 16] [--requests 2000] [--rows 100] [--state-dir DIR]
                                       [--via direct|proxy]

Brings up a local stack in a temporary state folder (setup, data, train, deploy), or reuses the one in
--state-dir if its endpoint serves, then has each client (a process of its own, with its own boto3 client, so
that the clients do not share one interpreter lock) send its requests one after another: text/x-libsvm bodies
of 100 consecutive rows of the held-out test split, as `invoke evaluate` sends them. Reports errors, throughput,
latency percentiles, and the emulator's resident memory before, during (at each quarter, and the peak) and
after the load, read from /proc, and how much it grew over the second half of the load (a leak keeps growing
there; warm-up has levelled off by then). `--via proxy` sends every request to
runtime.sagemaker.<region>.amazonaws.com through the emulator's HTTPS proxy instead of to its URL. Tears down
what it brought up. Loopback only; the load stops at --timeout.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import console, machine, percentile, print_table, settings  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux) or ps."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import subprocess

    return (
        int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout)
        / 1024
    )


class RssSampler:
    """The emulator's RSS twice a second while the load runs: a leak grows to the end, warm-up levels off."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(0.5):
            self.samples.append((time.monotonic() - started, rss_mib(self.pid)))

    @property
    def peak(self) -> float:
        return max((rss for _, rss in self.samples), default=0.0)

    def second_half_growth(self) -> float:
        """RSS at the end minus the lowest RSS seen after the half-way point: growth that warm-up cannot explain."""
        if not self.samples:
            return 0.0
        end = self.samples[-1][0]
        second_half = [rss for seconds, rss in self.samples if seconds >= end / 2]
        return second_half[-1] - min(second_half)

    def at(self, fraction: float) -> float:
        """The RSS sampled at this fraction of the run."""
        if not self.samples:
            return 0.0
        end = self.samples[-1][0]
        return min(self.samples, key=lambda sample: abs(sample[0] - fraction * end))[1]

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def client(job: tuple[dict[str, str], str, list[bytes], int, int, float]) -> tuple[list[float], list[str]]:
    """One client: `count` requests in a row; returns latencies in ms and error descriptions."""
    env, endpoint, payloads, count, first, deadline = job
    os.environ.update(env)
    if "AWS_ENDPOINT_URL" not in env:  # --via proxy
        os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3

    runtime = boto3.client("sagemaker-runtime", region_name=env["AWS_REGION"])
    latencies, errors = [], []
    for index in range(count):
        if time.monotonic() > deadline:
            errors.append(f"timed out after {index} of {count} requests")
            break
        body = payloads[(first + index) % len(payloads)]
        started = time.perf_counter()
        try:
            response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/x-libsvm", Body=body)
            scores = response["Body"].read().split(b",")
        except Exception as exc:  # every failure counts, whatever its kind
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        rows = body.count(b"\n") + 1
        if len(scores) != rows:
            errors.append(f"{len(scores)} scores for {rows} rows")
    return latencies, errors


def payloads_of(test_split: Path, rows: int) -> list[bytes]:
    """Every window of `rows` consecutive test rows, wrapping around the end of the split."""
    lines = test_split.read_text().splitlines()
    return ["\n".join((lines * 2)[start : start + rows]).encode() for start in range(0, len(lines), rows)]


def bring_up(ctx) -> None:
    from vgsales.infra import stack
    from vgsales.pipeline import data, deploy, train

    stack.setup(ctx)
    data.run(ctx)
    train.run(ctx)
    deploy.run(ctx)


def serving(ctx) -> bool:
    from vgsales.records import DataRecord, EndpointRecord

    if not ctx.state.has(EndpointRecord) or not ctx.state.has(DataRecord):
        return False
    try:
        name = ctx.state.read(EndpointRecord).endpoint_name
        status = ctx.aws.client("sagemaker").describe_endpoint(EndpointName=name)
        return status["EndpointStatus"] == "InService"
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per client (default 2000)")
    parser.add_argument("--rows", type=int, default=100, help="test rows per request (default 100)")
    parser.add_argument("--state-dir", type=Path, help="reuse the local stack of this state folder if it serves")
    parser.add_argument("--timeout", type=float, default=900, help="stop the load after this many seconds")
    parser.add_argument("--via", choices=("direct", "proxy"), default="direct",
                        help="direct: to the emulator's URL; proxy: to the AWS hostname, through the emulator's proxy")
    args = parser.parse_args()

    from vgsales.context import Context
    from vgsales.emulator import daemon
    from vgsales.infra import stack
    from vgsales.records import DataRecord, EndpointRecord
    from vgsales.targets import local as local_target

    temporary = args.state_dir is None
    state_dir = Path(tempfile.mkdtemp(prefix="vgsales-load-")) if temporary else args.state_dir.resolve()
    chosen = settings(state_dir)
    ctx = Context.of(chosen)
    reused = not temporary and serving(ctx)
    try:
        if not reused:
            with console.status("Bringing up a local stack: setup, data, train, deploy"):
                started = time.monotonic()
                bring_up(ctx)
            console.print(f"Stack up in {time.monotonic() - started:.1f} s ({state_dir})")
        state = ctx.state
        endpoint = state.read(EndpointRecord).endpoint_name
        payloads = payloads_of(Path(state.read(DataRecord).test_split), args.rows)
        emulator = daemon.status(local_target.emulator_dir(chosen))
        # Each client is a process of its own that reads the emulator's client environment (its URL, CA, key,
        # region and HTTPS proxy), as any AWS client in a shell pointed at it does.
        env = emulator.client_env(chosen.region)
        if args.via == "proxy":  # the client then builds runtime.sagemaker.<region>.amazonaws.com itself
            env = {name: value for name, value in env.items() if name != "AWS_ENDPOINT_URL"}

        warm_up = client((env, endpoint, payloads, 50, 0, time.monotonic() + 60))
        if warm_up[1]:
            raise SystemExit(f"the endpoint does not serve: {warm_up[1][0]}")
        rss_before = rss_mib(emulator.pid)
        deadline = time.monotonic() + args.timeout
        jobs = [(env, endpoint, payloads, args.requests, index * 7, deadline) for index in range(args.clients)]
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        console.print(f"{args.clients} clients x {args.requests:,} requests of {args.rows} rows against {endpoint} …")
        with RssSampler(emulator.pid) as sampler, context.Pool(args.clients) as pool:
            started = time.perf_counter()
            results = pool.map(client, jobs, chunksize=1)
            seconds = time.perf_counter() - started
        rss_after = rss_mib(emulator.pid)
    finally:
        if not reused:
            with console.status("Tearing the stack down"):
                stack.teardown(ctx)
            if temporary:
                shutil.rmtree(state_dir, ignore_errors=True)

    latencies = [ms for result in results for ms in result[0]]
    errors = [error for result in results for error in result[1]]
    requests = len(latencies)
    print_table(
        f"Local endpoint under load ({machine()})",
        ["figure", "value"],
        [
            ["clients x requests x rows", f"{args.clients} x {args.requests:,} x {args.rows} ({args.via})"],
            ["requests served", f"{requests:,}"],
            ["errors", f"{len(errors):,}"],
            ["wall time", f"{seconds:.1f} s"],
            ["throughput", f"{requests / seconds:,.0f} requests/s ({requests * args.rows / seconds:,.0f} rows/s)"],
            ["latency p50", f"{percentile(latencies, 50):.1f} ms"],
            ["latency p99", f"{percentile(latencies, 99):.1f} ms"],
            ["latency max", f"{max(latencies):.1f} ms"],
            ["emulator RSS before", f"{rss_before:.0f} MiB"],
            [
                "emulator RSS at 1/4, 1/2, 3/4 of the load",
                " / ".join(f"{sampler.at(f):.0f}" for f in (0.25, 0.5, 0.75)) + " MiB",
            ],
            ["emulator RSS peak during", f"{max(sampler.peak, rss_after):.0f} MiB"],
            ["emulator RSS after", f"{rss_after:.0f} MiB ({rss_after - rss_before:+.0f} MiB)"],
            ["emulator RSS growth over the second half", f"{sampler.second_half_growth():+.1f} MiB"],
        ],
    )
    for error in sorted(set(errors))[:10]:
        console.print(f"[red]error[/red] {error}")
    if errors or requests != args.clients * args.requests:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
