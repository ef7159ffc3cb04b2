"""`python -m vgsales.emulator --state-dir DIR`: run the emulator in the foreground until SIGTERM or Ctrl-C.

daemon.start() runs this same command in the background. The server announces itself by writing the info
and PID files into the state folder once it listens, and removes them when it exits.
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import WorkshopError
from . import daemon
from . import notebook_instances
from .server import EmulatorServer

log = logging.getLogger("vgsales.emulator")

# Most of the emulator's heap is what it builds at start (moto's backends, botocore's service models) and lives
# as long as the process, yet Python's cyclic collector walked all of it again at every full collection. Frozen
# once the server is built, and with generation 0 collected every 50,000 allocations instead of 700, the Python
# processes of a stack's setup, pipeline and teardown (this emulator among them) used 11 % less CPU (process
# accounting over tests/stack/test_local_stack.py and tests/pipeline/test_stages.py). Reference counting still
# frees at once everything that is not in a cycle.
GC_THRESHOLDS = (50_000, 20, 20)


def escape_controls(text: str) -> str:
    """Control characters (a bare LF or CR, ESC, NUL, C1, U+2028...) as Python escapes: text a client sent
    (a CONNECT target, a path) can then never start a line of the log, nor move a terminal's cursor."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


class EscapingFormatter(logging.Formatter):
    """Each record's message on one line, its control characters escaped. A traceback keeps its lines, each
    indented: its last line quotes the exception's message, which may hold a client's text, so only a record
    ever starts a line of the log."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        safe = escape_controls(message)
        if safe != message:
            record = logging.makeLogRecord({**record.__dict__, "msg": safe, "args": None})
        return super().format(record)

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    # splitlines: every line break Python knows (CR, LF, VT, FF, FS, GS, RS, NEL, U+2028, U+2029)
    return "\n".join("  " + escape_controls(line) for line in text.splitlines())


class RepeatSummary(logging.Filter):
    """At most BURST records of one kind (logger, level and message template, whatever the values) per WINDOW
    seconds; the rest are counted and said in one line when the kind is next logged after its window, or when
    the log closes. A client that repeats a refused request thousands of times a second (a CONNECT to a
    host the proxy refuses, a malformed request head) then adds a few lines a minute, not megabytes."""

    BURST = 10
    WINDOW_SECONDS = 60.0

    def __init__(self, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[tuple[str, int, str], list[float | int]] = {}  # kind -> [window start, passed, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            started, passed, held = self._kinds.get(kind, (now, 0, 0))
            if now - started >= self.WINDOW_SECONDS:
                if held:
                    record.msg = f"[{held} more like the next line in {now - started:.0f} s were not logged] {record.msg}"
                started, passed, held = now, 0, 0
            if passed < self.BURST:
                self._kinds[kind] = [started, passed + 1, held]
                return True
            self._kinds[kind] = [started, passed, held + 1]
            return False

    def held_back(self) -> list[str]:
        """One line per kind with records not logged, for the log's last words."""
        with self._lock:
            return [f"{held} more records like \"{kind[2]}\" ({kind[0]}) were not logged"
                    for kind, (_, _, held) in self._kinds.items() if held]  # fmt: skip


def _log_handler(state_dir: Path) -> logging.Handler:
    """The terminal when run in one (the foreground); otherwise the state folder's log file, rotated by size (one
    previous file kept) so that no client can fill the disk. daemon.py also sends standard output and error to
    that file, for what is printed before logging starts."""
    if sys.stderr.isatty():
        return logging.StreamHandler()
    return logging.handlers.RotatingFileHandler(
        state_dir / daemon.LOG_FILE, maxBytes=daemon.LOG_ROTATE_BYTES, backupCount=1, encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vgsales.emulator",
        description="Serve the emulated AWS APIs (S3, IAM, STS, CloudWatch Logs, SageMaker) on loopback.",
    )
    parser.add_argument("--state-dir", type=Path, required=True, help="folder for the info, PID, log and TLS files")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free one)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    state_dir = args.state_dir.resolve()
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        print(f"error: cannot create the emulator's state folder {state_dir}: {exc}", file=sys.stderr)
        return 2
    handler = _log_handler(state_dir)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    repeats = RepeatSummary()
    handler.addFilter(repeats)
    logging.basicConfig(level=args.log_level, handlers=[handler])

    # Block the stop signals in every thread (threads inherit the mask, so before any starts) and wait for
    # them with sigwait below: the main thread wakes the moment one arrives, instead of at its next poll.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    try:
        emulator = EmulatorServer(args.host, args.port, cert_dir=state_dir).start()
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assert emulator.started_at is not None
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    info = daemon.EmulatorInfo(
        url=emulator.url, pid=os.getpid(), ca_bundle=emulator.ca_bundle, started_at=emulator.started_at,
        http_url=emulator.http_url, proxy_url=emulator.proxy_url, credentials=emulator.credentials,
    )
    daemon.write_files(state_dir, info)
    log.info("ready: %s (pid %d, state in %s)", info.url, info.pid, state_dir)
    try:
        signal.sigwait(stop_signals)
    finally:
        # No graceful shutdown of the listeners: everything the emulator holds is in this process's memory and
        # goes with it, and joining the listeners' worker threads took 0.6 s of every teardown. The files that
        # announce it (info, PID, credentials, TLS) are removed first, so nothing points at a dead emulator.
        log.info("stopping")
        daemon.remove_files(state_dir, info.pid)
        notebook_instances.stop_all()  # JupyterLab and its kernels are processes of their own
        for line in repeats.held_back():
            log.info("%s", line)
        log.info("stopped")
    return 0


if __name__ == "__main__":
    code = main()
    # Everything the emulator held lives in this process's memory and is meant to go with it. A normal
    # interpreter exit spends seconds tearing down moto's backends and idle threads; skip it once the files
    # are removed and the log is flushed.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
