"""The background emulator that separate invoke commands share: start, status, stop, and their edge cases."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys

import boto3
import pytest

from vgsales.emulator import daemon
from vgsales.errors import WorkshopError

from support.wait import wait_until

SECRET = "do-not-log-this-secret-key-7f3a"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) still answers kill(0); it is not running.
    status = f"/proc/{pid}/status"
    if os.path.exists(status):
        with open(status) as handle:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in handle)
    return True


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One background emulator for the tests that only look at it; stopped at the end."""
    state_dir = tmp_path_factory.mktemp("emulator")
    previous = os.environ.get("AWS_SECRET_ACCESS_KEY")
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET  # a user's real key in the shell that starts it
    try:
        info = daemon.start(state_dir)
    finally:
        if previous is None:
            os.environ.pop("AWS_SECRET_ACCESS_KEY")
        else:
            os.environ["AWS_SECRET_ACCESS_KEY"] = previous
    yield state_dir, info
    daemon.stop(state_dir)


def test_start_writes_the_pid_info_log_and_tls_files(running):
    state_dir, info = running
    assert info.url.startswith("https://127.0.0.1:")
    assert (state_dir / daemon.PID_FILE).read_text().strip() == str(info.pid)
    recorded = json.loads((state_dir / daemon.INFO_FILE).read_text())
    assert recorded == info.to_json()
    assert info.ca_bundle == state_dir / "ca.pem"
    assert stat.S_IMODE((state_dir / "server.key").stat().st_mode) == 0o600
    assert "ready" in (state_dir / daemon.LOG_FILE).read_text()
    assert info.pid != os.getpid() and alive(info.pid)


def test_status_finds_the_running_emulator(running):
    state_dir, info = running
    assert daemon.status(state_dir) == info
    assert daemon.health(info.url, info.ca_bundle)["pid"] == info.pid


def test_a_second_start_returns_the_running_emulator(running):
    state_dir, info = running
    assert daemon.start(state_dir) == info


def test_client_env_reaches_the_background_emulator(running, monkeypatch):
    _, info = running
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in info.client_env().items():
        monkeypatch.setenv(name, value)
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_the_server_gets_no_credentials_and_logs_none(running):
    state_dir, info = running
    environ_file = f"/proc/{info.pid}/environ"
    if os.path.exists(environ_file):
        with open(environ_file, "rb") as handle:
            assert SECRET.encode() not in handle.read()
    assert SECRET not in (state_dir / daemon.LOG_FILE).read_text()


FORGED = "2026-12-06\tWARNING\tvgsales.emulator:\tforged-by-a-client"  # the target ends at a space


@pytest.mark.parametrize("separator", ["\n", "\r", "\x1b[2K\r"], ids=["LF", "CR", "ESC"])
def test_a_client_cannot_write_a_line_of_the_log(running, separator):
    """A CONNECT target with a bare LF (the proxy reads its head up to CRLF) is logged with the LF escaped,
    not as a forged record of the emulator's own; so is a CR or an escape sequence. Near miss: the refusal is
    still logged, with the target."""
    from urllib.parse import urlsplit

    state_dir, info = running
    proxy = urlsplit(info.proxy_url)
    target = f"evil.example.com:443{separator}{FORGED}"
    with socket.create_connection((proxy.hostname, proxy.port), timeout=10) as client:
        client.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: evil.example.com\r\n\r\n".encode())
        assert client.recv(4096).startswith(b"HTTP/1.1 403")

    def logged() -> str | None:
        log = (state_dir / daemon.LOG_FILE).read_text()
        return log if "evil.example.com" in log else None

    log = wait_until(logged, timeout=10, message="the refused CONNECT in the emulator's log")
    assert "proxy refused CONNECT evil.example.com:443" in log
    lines = log.replace("\r", "\n").splitlines()
    assert not [line for line in lines if line.startswith(FORGED)]
    from vgsales.emulator.__main__ import escape_controls

    assert escape_controls(separator + FORGED) in log


def test_a_traceback_quoting_a_clients_text_starts_no_line_of_the_log():
    """An exception's message can quote a client's text; the formatter indents every traceback line (each
    escaped), so only records start at column 0. Near miss: the record's own first line is not indented."""
    import io
    import logging

    from vgsales.emulator.__main__ import EscapingFormatter, escape_controls

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("vgsales.emulator.test-forgery")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise KeyError(f"bucket\n{FORGED}\r{FORGED}\u2028{FORGED}")
        except KeyError:
            logger.exception("request failed: %s", f"/b/k\n{FORGED}")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("request failed: " + escape_controls(f"/b/k\n{FORGED}")) and not lines[0].startswith(" ")
    assert len(lines) > 2 and all(line.startswith("  ") for line in lines[1:])
    assert not [line for line in lines if line.startswith(FORGED)]


def test_escape_controls_keeps_printable_text():
    from vgsales.emulator.__main__ import escape_controls

    assert escape_controls("GET /b/ü-ключ 200") == "GET /b/ü-ключ 200"
    assert escape_controls("a\nb\x00c\u2028d\te") == "a\\nb\\x00c\\u2028d\\te"


def test_start_stop_status_cycle(tmp_path):
    info = daemon.start(tmp_path)
    assert daemon.status(tmp_path) == info
    assert daemon.stop(tmp_path) is True
    assert not alive(info.pid)
    assert daemon.status(tmp_path) is None
    for name in (daemon.PID_FILE, daemon.INFO_FILE, "ca.pem", "server.pem", "server.key"):
        assert not (tmp_path / name).exists(), name
    # The server shut down on SIGTERM, cleanly, rather than being killed.
    assert "stopping" in (tmp_path / daemon.LOG_FILE).read_text()


def test_stop_when_nothing_runs_is_a_quiet_no(tmp_path):
    assert daemon.stop(tmp_path) is False
    assert daemon.stop(tmp_path / "never-created") is False
    assert daemon.status(tmp_path / "never-created") is None


def test_a_stale_pid_file_is_cleaned_and_a_new_emulator_starts(tmp_path):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    stale = daemon.EmulatorInfo(
        url="https://127.0.0.1:9", pid=finished.pid, ca_bundle=tmp_path / "ca.pem", started_at=daemon._now()
    )
    daemon.write_files(tmp_path, stale)
    assert daemon.status(tmp_path) is None
    assert not (tmp_path / daemon.PID_FILE).exists()
    assert not (tmp_path / daemon.INFO_FILE).exists()
    daemon.write_files(tmp_path, stale)
    info = daemon.start(tmp_path)
    try:
        assert info.pid != finished.pid
        assert daemon.status(tmp_path) == info
    finally:
        daemon.stop(tmp_path)


def test_a_pid_reused_by_another_program_is_never_signalled(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        reused = daemon.EmulatorInfo(
            url="https://127.0.0.1:9", pid=other.pid, ca_bundle=tmp_path / "ca.pem", started_at=daemon._now()
        )
        daemon.write_files(tmp_path, reused)
        assert daemon.status(tmp_path) is None
        daemon.write_files(tmp_path, reused)
        assert daemon.stop(tmp_path) is False
        assert other.poll() is None, "stop() signalled a process that is not the emulator"
        assert not (tmp_path / daemon.PID_FILE).exists()
    finally:
        other.kill()
        other.wait()


def test_a_hung_emulator_keeps_its_files_until_stop_ends_it(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon, "HEALTH_TIMEOUT_SECONDS", 0.5)
    info = daemon.start(tmp_path)
    os.kill(info.pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        assert daemon.status(tmp_path) is None
        assert (tmp_path / daemon.PID_FILE).exists(), "status() forgot a live emulator; stop() could not end it"
        # A client connects to a busy emulator all the same: its request waits for the answer.
        recorded = daemon.recorded(tmp_path)
        assert recorded is not None and (recorded.pid, recorded.url) == (info.pid, info.url)
        assert recorded.credentials == info.credentials
        assert daemon.stop(tmp_path, timeout=1) is True  # SIGTERM waits on a stopped process; SIGKILL does not
        assert not alive(info.pid)
    finally:
        if alive(info.pid):
            os.kill(info.pid, signal.SIGKILL)


def test_a_recorded_emulator_that_is_gone_is_no_connection(tmp_path):
    info = daemon.start(tmp_path)
    os.kill(info.pid, signal.SIGKILL)
    wait_until(lambda: not alive(info.pid), timeout=10, message="the killed emulator to be gone")
    assert (tmp_path / daemon.INFO_FILE).exists(), "the files of the killed emulator are still there"
    assert daemon.recorded(tmp_path) is None
    daemon.stop(tmp_path)


def test_start_refuses_a_non_loopback_host_before_spawning(tmp_path):
    with pytest.raises(WorkshopError, match="loopback only"):
        daemon.start(tmp_path, host="0.0.0.0")
    assert not (tmp_path / daemon.LOG_FILE).exists()


def test_a_busy_port_fails_start_with_the_servers_reason(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        # "exited during start-up", not "did not answer its health check": start saw the server exit and did
        # not wait out its start-up timeout.
        with pytest.raises(WorkshopError, match="exited during start-up") as failed:
            daemon.start(tmp_path, port=port)
    assert "cannot listen" in str(failed.value)
    assert daemon.status(tmp_path) is None


def test_foreground_server_runs_until_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "vgsales.emulator", "--state-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def healthy() -> daemon.EmulatorInfo | None:
        assert process.poll() is None, process.stderr.read().decode()
        return daemon.status(tmp_path)

    try:
        info = wait_until(healthy, timeout=daemon.START_TIMEOUT_SECONDS, message="the foreground server to be healthy")
        assert info.pid == process.pid
        process.terminate()
        assert process.wait(timeout=daemon.STOP_TIMEOUT_SECONDS) == 0
        assert not (tmp_path / daemon.INFO_FILE).exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_exited_but_unreaped_process_counts_as_gone():
    """An emulator started by an earlier command is reaped by init, late; until then it is a zombie."""
    import subprocess
    import sys

    from vgsales.emulator import daemon as daemon_module

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_until(lambda: daemon_module._is_zombie(child.pid), timeout=10, message=f"process {child.pid} to exit")
        assert not daemon_module._is_alive(child.pid)
    finally:
        child.wait()


def test_processes_under_finds_exactly_the_emulators_below_a_folder(tmp_path):
    """What the test run's leak check (tests/conftest.py) relies on: a neighbouring folder's emulator, or one
    whose folder merely starts with the same text, is not counted."""
    inside, beside = tmp_path / "run" / "stack", tmp_path / "run-other"
    info = daemon.start(inside)
    other = daemon.start(beside)
    try:
        assert daemon.processes_under(tmp_path / "run") == [info.pid]
        assert daemon.processes_under(tmp_path) == sorted([info.pid, other.pid])
    finally:
        daemon.stop(inside)
        daemon.stop(beside)
    assert daemon.processes_under(tmp_path) == []
