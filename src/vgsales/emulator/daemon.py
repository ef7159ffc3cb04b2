"""Run the emulator as a background process that separate invoke commands share.

The emulator keeps all AWS state in memory, so `invoke setup`, `invoke train` and `invoke teardown`, each a
process of its own, must talk to one long-lived server. Its state folder holds:

- emulator.json  url, pid, CA bundle and start time, written by the server once it listens
- emulator.pid   the server's process id
- credentials.json  the administrative key of this start (mode 0600; access.py): the only key the emulator
                 accepts besides the role sessions it issues
- emulator.log   the server's log (never credentials: the server gets none and logs no query strings)
- ca.pem, server.pem, server.key   its TLS certificate (the key is mode 0600)

The server writes and removes the first two itself (see __main__.py), so a foreground server is found the
same way. A running emulator counts only if its process is alive AND its health check answers with that
process id: a PID file left by a crash, or a PID reused by another program, is stale and is cleaned up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkshopError
from .. import loopback
from . import endpoint
from .endpoint import Credentials
from .shapes import Document

INFO_FILE = "emulator.json"
PID_FILE = "emulator.pid"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "emulator.log"
LOCK_FILE = ".emulator.lock"
CERT_FILES = ("ca.pem", "server.pem", "server.key")

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 3.0
LOG_ROTATE_BYTES = 10 * 1024 * 1024

# Handles of emulators this process spawned: polling them reaps the child when it exits, so a stopped
# emulator never lingers as a zombie that still looks alive.
_spawned: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class EmulatorInfo:
    url: str
    pid: int
    ca_bundle: Path
    started_at: datetime.datetime
    http_url: str = ""  # plain HTTP on loopback
    proxy_url: str = ""  # the HTTPS proxy for AWS hostnames
    credentials: Credentials | None = None  # kept in CREDENTIALS_FILE, never in INFO_FILE

    def client_env(self, region: str = endpoint.DEFAULT_REGION) -> dict[str, str]:
        """The environment variables that point boto3, the SageMaker SDK and Terraform at this emulator."""
        if self.credentials is None:
            raise WorkshopError(
                "The local AWS emulator's administrative key is missing from its state folder, so no client can "
                "sign requests for it. Restart it: `invoke emulator.stop` and `invoke setup`."
            )
        return endpoint.client_env(self.url, self.ca_bundle, self.credentials, region, proxy_url=self.proxy_url or None)

    def to_json(self) -> Document:
        return {
            "url": self.url,
            "http_url": self.http_url,
            "proxy_url": self.proxy_url,
            "pid": self.pid,
            "ca_bundle": str(self.ca_bundle),
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Document) -> EmulatorInfo:
        return cls(
            url=str(data["url"]),
            pid=int(data["pid"]),
            ca_bundle=Path(data["ca_bundle"]),
            started_at=datetime.datetime.fromisoformat(data["started_at"]),
            http_url=str(data.get("http_url", "")),
            proxy_url=str(data.get("proxy_url", "")),
        )


def start(
    state_dir: Path, host: str = "127.0.0.1", port: int = 0, *, timeout: float = START_TIMEOUT_SECONDS
) -> EmulatorInfo:
    """Start a background emulator for state_dir, or return the healthy one already running there."""
    return begin(state_dir, host, port, timeout=timeout).wait()


class PendingStart:
    """An emulator being started: the process is launched, wait() returns once it answers its health check.

    Holds the state folder's start/stop lock until then, so no other command can take the half-started
    emulator for a dead one."""

    def __init__(self, state_dir: Path, lock: contextlib.ExitStack, ready: EmulatorInfo | None,
                 process: subprocess.Popen[bytes] | None, timeout: float) -> None:  # fmt: skip
        self.state_dir = state_dir
        self.was_running = ready is not None
        self._lock = lock
        self._ready = ready
        self._process = process
        self._deadline = time.monotonic() + timeout
        self._timeout = timeout

    def wait(self) -> EmulatorInfo:
        try:
            if self._ready is None:
                assert self._process is not None
                self._ready = _await_health(self.state_dir, self._process, self._deadline, self._timeout)
            return self._ready
        finally:
            self._lock.close()


def begin(
    state_dir: Path, host: str = "127.0.0.1", port: int = 0, *, timeout: float = START_TIMEOUT_SECONDS,
    environment: Mapping[str, str] | None = None,
) -> PendingStart:
    """Launch a background emulator for state_dir (or find the healthy one there) without waiting for it.

    ``environment`` is what the server process starts from (default: this process's); it gets no AWS
    credentials from it either way."""
    loopback.require_loopback(host)
    state_dir = Path(state_dir).resolve()
    lock = contextlib.ExitStack()
    lock.enter_context(_locked(state_dir))
    try:
        running = _healthy(state_dir)
        if running is not None:
            return PendingStart(state_dir, lock, running, None, timeout)
        _retire(state_dir, STOP_TIMEOUT_SECONDS)  # one that hangs, or the files of one that is gone
        return PendingStart(state_dir, lock, None, _launch(state_dir, host, port, environment), timeout)
    except BaseException:
        lock.close()
        raise


def stop(state_dir: Path, *, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """Stop the emulator of state_dir: SIGTERM, then SIGKILL after timeout. True if one was running."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.is_dir():
        return False
    with _locked(state_dir):
        return _retire(state_dir, timeout)


def status(state_dir: Path) -> EmulatorInfo | None:
    """The running emulator of state_dir, or None (after removing the files of one that is gone)."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.is_dir():
        return None
    info = _healthy(state_dir)
    if info is None and ((state_dir / PID_FILE).exists() or (state_dir / INFO_FILE).exists()):
        # Clean only when no start or stop holds the lock: a starting server may not answer yet.
        with _locked(state_dir, wait=False) as acquired:
            if acquired and _healthy(state_dir) is None and _running_pid(state_dir) is None:
                _clean(state_dir)  # a live but unresponsive emulator keeps its files, so stop() can end it
    return info


def recorded(state_dir: Path) -> EmulatorInfo | None:
    """The emulator this folder records, if its process is alive: what a client needs to connect, read without
    asking the server. status() asks, within HEALTH_TIMEOUT_SECONDS, and an emulator busy training on a loaded
    machine may answer later than that while it is no less there; a client's own request then waits for it."""
    state_dir = Path(state_dir).resolve()
    info = _read_info(state_dir)
    if info is None or _running_pid(state_dir) != info.pid:
        return None
    return info


def processes_under(root: Path) -> list[int]:
    """Live emulator processes whose state folder lies under ``root``, from their command lines (Linux /proc;
    none found elsewhere). Test runs use it to prove that no emulator outlived them."""
    root_text = str(Path(root).resolve())
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            words = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "vgsales.emulator" not in words or "--state-dir" not in words[:-1]:
            continue
        state_dir = words[words.index("--state-dir") + 1]
        if (state_dir == root_text or state_dir.startswith(root_text + os.sep)) and _is_alive(int(proc.name)):
            found.append(int(proc.name))
    return sorted(found)


def log_file(state_dir: Path) -> Path:
    return Path(state_dir).resolve() / LOG_FILE


def health(url: str, ca_bundle: Path, timeout: float | None = None) -> Document | None:
    """The emulator's health document, or None if nothing (or something else) answers at url."""
    timeout = HEALTH_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        context = ssl.create_default_context(cafile=str(ca_bundle))
        host, _, port = url.removeprefix("https://").rpartition(":")
        connection = http.client.HTTPSConnection(host.strip("[]"), int(port), timeout=timeout, context=context)
        try:
            connection.request("GET", endpoint.HEALTH_PATH)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            return None
        document = json.loads(body)
    except (OSError, ValueError, ssl.SSLError, http.client.HTTPException):
        return None
    if not isinstance(document, dict) or document.get("service") != endpoint.SERVICE_NAME:
        return None
    return document


def write_files(state_dir: Path, info: EmulatorInfo) -> None:
    """Called by the server process once it listens; the info file last, since it announces the server."""
    if info.credentials is not None:
        _write_atomic(state_dir / CREDENTIALS_FILE, json.dumps(info.credentials.to_json()) + "\n", mode=0o600)
    _write_atomic(state_dir / INFO_FILE, json.dumps(info.to_json(), indent=2) + "\n")
    _write_atomic(state_dir / PID_FILE, f"{info.pid}\n")


def remove_files(state_dir: Path, pid: int) -> None:
    """Called by the server process on exit; leaves the files alone if another server has replaced it."""
    if _read_pid(state_dir) == pid:
        _clean(state_dir)


def _retire(state_dir: Path, timeout: float) -> bool:
    """End this folder's emulator process if there is one, and remove its files; True if a process ran."""
    pid = _running_pid(state_dir)
    if pid is not None:
        _terminate(pid, timeout)
    _clean(state_dir)
    return pid is not None


def _running_pid(state_dir: Path) -> int | None:
    """The PID file's process, if it is alive and still this folder's emulator (PIDs get reused)."""
    pid = _read_pid(state_dir)
    if pid is not None and _is_alive(pid) and _is_our_emulator(state_dir, pid):
        return pid
    return None


def _healthy(state_dir: Path) -> EmulatorInfo | None:
    info = _read_info(state_dir)
    if info is None or not _is_alive(info.pid):
        return None
    document = health(info.url, info.ca_bundle)
    if document is None or document.get("pid") != info.pid:
        return None
    return info


def _launch(state_dir: Path, host: str, port: int, environment: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    log_path = state_dir / LOG_FILE
    if log_path.exists() and log_path.stat().st_size > LOG_ROTATE_BYTES:
        log_path.replace(log_path.with_suffix(".log.1"))
    command = [
        sys.executable, "-m", "vgsales.emulator",
        "--state-dir", str(state_dir), "--host", host, "--port", str(port),
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        log.write(f"--- {_now().isoformat()} starting the emulator on {host}:{port}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_server_environment(os.environ if environment is None else environment),
            cwd=state_dir,
            start_new_session=True,  # survives the invoke command that started it, and its Ctrl-C
        )
    _spawned[process.pid] = process
    return process


def _await_health(state_dir: Path, process: subprocess.Popen[bytes], deadline: float, timeout: float) -> EmulatorInfo:
    log_path = state_dir / LOG_FILE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkshopError(
                f"The local AWS emulator exited during start-up (exit code {process.returncode}). Its log "
                f"{log_path} ends with:\n{_tail(log_path)}"
            )
        info = _read_info(state_dir)
        if info is not None and info.pid == process.pid:
            document = health(info.url, info.ca_bundle)
            if document is not None and document.get("pid") == process.pid:
                return info
        time.sleep(0.05)
    _terminate(process.pid, STOP_TIMEOUT_SECONDS)
    _clean(state_dir)
    raise WorkshopError(
        f"The local AWS emulator did not answer its health check within {timeout:.0f} s and was stopped. "
        f"Its log {log_path} ends with:\n{_tail(log_path)}"
    )


def _server_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The server is no AWS client: it gets none of the user's AWS settings. Their credentials can then never reach
    its log, and their profile or config file (one that botocore cannot parse fails moto's start) never matters."""
    return {name: value for name, value in environment.items() if not name.upper().startswith("AWS_")}


def _terminate(pid: int, timeout: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        if _wait_gone(pid, timeout):
            break
    process = _spawned.pop(pid, None)
    if process is not None:
        process.wait(timeout=timeout)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _is_alive(pid: int) -> bool:
    process = _spawned.get(pid)
    if process is not None:
        return process.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's: not ours
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """An emulator started by an earlier command has lost its parent: once it exits, it stays a zombie until
    init reaps it (seconds, on some machines), and signal 0 still reaches a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS), or already reaped
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def _is_our_emulator(state_dir: Path, pid: int) -> bool:
    """Before signalling a PID from a file, make sure it still is this state folder's emulator."""
    info = _read_info(state_dir)
    if info is not None and info.pid == pid:
        document = health(info.url, info.ca_bundle)
        if document is not None and document.get("pid") == pid:
            return True
    # A hung server does not answer; accept it if its command line names this module and this folder.
    command = _command_line(pid)
    return "vgsales.emulator" in command and str(state_dir) in command


def _command_line(pid: int) -> str:
    proc = Path(f"/proc/{pid}/cmdline")
    try:
        if proc.exists():
            return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        result = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5, check=False
        )
        return result.stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _read_info(state_dir: Path) -> EmulatorInfo | None:
    try:
        info = EmulatorInfo.from_json(json.loads((state_dir / INFO_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        credentials = Credentials.from_json(json.loads((state_dir / CREDENTIALS_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return info
    return dataclasses.replace(info, credentials=credentials)


def _read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _clean(state_dir: Path) -> None:
    for name in (INFO_FILE, PID_FILE, CREDENTIALS_FILE, *CERT_FILES):
        (state_dir / name).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(state_dir: Path, wait: bool = True) -> Iterator[bool]:
    """Serialise start and stop per state folder, across processes (two invoke commands at once)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(state_dir / LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    # Created with its final mode, so a secret is never readable by others, not even for a moment.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
