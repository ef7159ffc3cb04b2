"""An endpoint or a transform job whose model names an inference script: the container's model server, executed.

The XGBoost framework image serves a model with SAGEMAKER_PROGRAM through the user's module
(aws/sagemaker-xgboost-container v3.0-5, serving.py: main() imports `serving_env.module_name` and wraps its
model_fn, input_fn, predict_fn, output_fn or transform_fn in sagemaker-containers' Transformer). Before that,
sagemaker-containers v2.8.6.post2 (_server.start -> _modules.import_module -> _files.download_and_extract) puts the
code in /opt/ml/code (SAGEMAKER_BASE_DIR/code) from SAGEMAKER_SUBMIT_DIRECTORY:
- an s3:// URI: a sourcedir.tar.gz (the SDK's `tar_and_upload_dir`), downloaded with the container's credentials,
  which are the model's execution role's;
- a folder: copied, which is how the SDK's repack works (sagemaker/utils.py repack_model puts the code under `code/`
  in model.tar.gz and model.py `_script_mode_env_vars` sets SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code);
- unset: /opt/ml/code itself, which then holds nothing to import.
and installs the code's requirements.txt (_modules.install: `pip install . -r requirements.txt`). Here the code
folder is the process's working directory (so the module imports as from the installed package), and the
requirements go into the endpoint's or job's own environment (environment.py).

Locally each endpoint (each transform job) gets a folder under the host's root standing for /opt/ml (named after the
endpoint or job, kept to [A-Za-z0-9-], with a random suffix: moto checks no name, and no name chooses a folder), a venv
of its own, a session of the model's execution role, and one model-server process (runtime/vgsales_script_serve.py),
which answers requests one at a time over two pipes. Its output goes to the endpoint's (job's) log stream. A
failure is reported with the container's paths (/opt/ml/...), as the image reports it.

How a dead or silent model server looks from outside is nginx's and gunicorn's doing in the image
(sagemaker-containers etc/nginx.conf.template, _server.start): a worker that dies mid-request leaves nginx with a
closed upstream, so the request gets nginx's 502 page ("Received server error (502) from primary with message
"<html>...502 Bad Gateway...", aws/sagemaker-tensorflow-serving-container#222), and gunicorn's arbiter boots a new
worker, which imports the module and calls model_fn again. A worker silent for SAGEMAKER_MODEL_SERVER_TIMEOUT
(default 60 s) is killed and nginx answers 504 after the same proxy_read_timeout; SageMaker itself gives up on an
endpoint's request after 60 s (ModelError, "Received server error (0) ... Your invocation timed out ...",
aws/amazon-sagemaker-examples#799) and on a transform job's after ModelClientConfig.InvocationsTimeoutInSeconds.
Here the process is ended at either timeout and, like a dead one, started again (with a log line) when the next
request comes: never silently, and no answer is ever made up for the script. SageMaker's timeout counts from the
request's arrival: the time it waits behind earlier requests, and for a process started again to load the model, is
part of it. A process still loading when a request's time is up goes on loading for the next request, within the
endpoint's ready timeout (ContainerStartupHealthCheckTimeoutInSeconds, 8 minutes by default).

Ending an endpoint or a job (close) ends its process at once when no request is in flight; otherwise after that
request, or, when it does not end within the given wait, at once, and the request gets ServerClosed. Whatever process
a request started meanwhile is ended before the request returns, so that nothing serves after its role session is
revoked and its folder removed.
"""

from __future__ import annotations

import io
import json
import logging
import os
import select
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import backends
from ..role_access import AccessDenied, RoleUnavailable
from ..training import ENVIRONMENT_KEY
from . import environment, host

log = logging.getLogger(__name__)

SERVE_MODULE = "vgsales_script_serve"  # runtime/vgsales_script_serve.py, on the script environment's path
FDS_ENV = "VGSALES_SERVE_FDS"
CODE_IN_MODEL = "/opt/ml/model/code"  # where the SDK's repack puts the code
OPT_ML = "/opt/ml/"
# SageMaker's developer guide ("How your container should respond to health check (ping) requests"): a container
# has 8 minutes after startup to pass the ping health check; a variant's ContainerStartupHealthCheckTimeoutInSeconds
# replaces it (60 to 3600).
READY_TIMEOUT_SECONDS = 480.0
MODEL_SERVER_TIMEOUT_SECONDS = 60  # SAGEMAKER_MODEL_SERVER_TIMEOUT's default (sagemaker-containers _env.ServingEnv)
ENDPOINT_INVOCATION_TIMEOUT_SECONDS = 60.0  # SageMaker's for a real-time endpoint's container
CLOSE_GRACE_SECONDS = 2.0  # for the process to leave after the end of its input
_POLL_SECONDS = 0.25  # how often a wait looks whether the process is still there
# CreateModel's container Environment (botocore's EnvironmentKey and EnvironmentValue) and CreateTransformJob's
# (TransformEnvironmentKey, TransformEnvironmentValue).
ENVIRONMENT_KEY_MAX = 1024
MODEL_ENVIRONMENT_VALUE_MAX = 1024
TRANSFORM_ENVIRONMENT_VALUE_MAX = 10240
_CHUNK = 1 << 16
# nginx's own error pages, as the image's nginx (Ubuntu 20.04, docker/3.0-5/base) writes them.
_NGINX = "nginx/1.18.0 (Ubuntu)"
NGINX_502 = (
    f"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    f"<hr><center>{_NGINX}</center>\r\n</body>\r\n</html>\r\n"
)
NGINX_504 = (
    f"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1>"
    f"</center>\r\n<hr><center>{_NGINX}</center>\r\n</body>\r\n</html>\r\n"
)


class SetupFailure(Exception):
    """The model server never became ready; the message says why (the endpoint's or job's failure reason)."""


class ServerClosed(Exception):
    """The endpoint or job let go of this model server (deleted, updated away, ended) while a request waited."""


class InvocationTimeout(Exception):
    """SageMaker stopped waiting for the container's answer (not the container's own 504)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:.0f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Answer:
    """What the container answered: the script's status, content type and body (or nginx's, see the docstring)."""

    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class ScriptSource:
    """What a model's container names for script mode."""

    program: str  # SAGEMAKER_PROGRAM
    submit_directory: str  # SAGEMAKER_SUBMIT_DIRECTORY, "" when unset
    environment: dict[str, str]  # the container's Environment

    @classmethod
    def of(cls, container: Mapping[str, object]) -> ScriptSource:
        given: Mapping[str, object] = container.get("Environment") or {}  # type: ignore[assignment]
        environment = {str(key): str(value) for key, value in given.items()}
        program, submit = environment.get("SAGEMAKER_PROGRAM", ""), environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        return cls(program, submit, environment)


# --- the folder: /opt/ml, the model and the code -------------------------------------------------------------


def _extract(archive: bytes, destination: Path, what: str) -> None:
    """Extract a tar.gz into destination; members that would land outside it (or are links out, devices) refuse it."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            tar.extractall(destination, filter="data")
    except tarfile.FilterError as refused:
        raise SetupFailure(f"{what} holds a member that would be written outside its folder ({refused}); "
                           "it was not extracted.") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SetupFailure(f"{what} is not a valid tar.gz archive ({exc}).") from None


def _code(model: ScriptSource, base: Path, aws: backends.ServiceAccess, stream: backends.LogStream) -> Path:
    """The code folder, filled as sagemaker-containers' download_and_extract fills /opt/ml/code."""
    code_dir = base / "code"
    code_dir.mkdir(parents=True, exist_ok=True)
    source = model.submit_directory
    if not source:
        return code_dir  # module_dir defaults to /opt/ml/code, which is empty: the import then fails, as there
    if source.startswith("s3://"):
        try:
            archive = aws.get_object(source)
        except (AccessDenied, backends.S3ObjectMissing, ValueError) as exc:
            # What boto3's download_file raises in the container: HeadObject first, 403 when the role may not read
            # the object (or may not list the bucket to learn it is missing), 404 when it is missing.
            missing = isinstance(exc, backends.S3ObjectMissing)
            said = f"({'404' if missing else '403'}) when calling the HeadObject operation: " + (
                "Not Found" if missing else "Forbidden")
            stream.write([f"botocore.exceptions.ClientError: An error occurred {said}"])
            raise SetupFailure(
                f"The model server could not download SAGEMAKER_SUBMIT_DIRECTORY {source}: An error occurred {said}. "
                "The model's execution role needs s3:GetObject on it."
            ) from None
        _extract(archive, code_dir, f"SAGEMAKER_SUBMIT_DIRECTORY {source}")
        return code_dir
    local = (base / source[len(OPT_ML):]).resolve() if source.startswith(OPT_ML) else None
    if local is not None and local.is_relative_to(base.resolve()):  # the container's own folders, nothing else
        if local == code_dir.resolve():
            return code_dir
        if local.is_dir():
            shutil.copytree(local, code_dir, dirs_exist_ok=True, symlinks=True)
            return code_dir
        if local.is_file():
            _extract(local.read_bytes(), code_dir, f"SAGEMAKER_SUBMIT_DIRECTORY {source}")
            return code_dir
    stream.write([f"FileNotFoundError: [Errno 2] No such file or directory: '{source}'"])
    hint = (" The model's archive has no code/ folder: the SDK's repack (network isolation) puts the script there."
            if source.rstrip("/") == CODE_IN_MODEL else "")
    raise SetupFailure(
        f"The model server found no code at SAGEMAKER_SUBMIT_DIRECTORY {source}: [Errno 2] No such file or "
        f"directory.{hint} "
        f"It must be the s3:// URI of a sourcedir.tar.gz or {CODE_IN_MODEL} (the code inside model.tar.gz)."
    )


# --- the pipes ---------------------------------------------------------------------------------------------------


class _Gone(Exception):
    """The process closed its end, or said something that is not the protocol."""


class _Silent(Exception):
    """The deadline passed without an answer."""


class _Channel:
    """The request pipe and the answer pipe of one process (runtime/vgsales_script_serve.py's protocol: a JSON line,
    then exactly `length` raw bytes). Non-blocking, with deadlines, watching the process meanwhile."""

    def __init__(self, request_fd: int, answer_fd: int, process: subprocess.Popen) -> None:
        os.set_blocking(request_fd, False)
        os.set_blocking(answer_fd, False)
        self._request_fd, self._answer_fd, self._process = request_fd, answer_fd, process
        self._buffer = bytearray()
        self.closed = False

    def send(self, header: Mapping[str, object], body: bytes, deadline: float) -> None:
        data = memoryview(json.dumps(header).encode() + b"\n" + body)
        while data:
            self._wait(self._request_fd, deadline, writing=True)
            try:
                data = data[os.write(self._request_fd, data[:_CHUNK]):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise _Gone() from None

    def receive(self, deadline: float) -> tuple[dict[str, object], bytes]:
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        try:
            header = json.loads(line)
            length = int(header["length"])
        except (ValueError, TypeError, KeyError):
            raise _Gone() from None
        while len(self._buffer) < length:
            self._fill(deadline)
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return header, body

    def _fill(self, deadline: float) -> None:
        self._wait(self._answer_fd, deadline, writing=False)
        try:
            chunk = os.read(self._answer_fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError:
            raise _Gone() from None
        if not chunk:
            raise _Gone()
        self._buffer += chunk

    def _wait(self, fd: int, deadline: float, writing: bool) -> None:
        while True:
            remaining = deadline - time.monotonic()
            wait = max(0.0, min(remaining, _POLL_SECONDS))  # past the deadline, one look at what is already there
            ready = select.select([], [fd], [], wait) if writing else select.select([fd], [], [], wait)
            if ready[1 if writing else 0]:
                return
            if remaining <= 0:
                raise _Silent()
            # Gone, though a child it forked may hold the pipe open (no end of file would come then).
            if self._process.poll() is not None:
                raise _Gone()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self._request_fd, self._answer_fd):
            try:
                os.close(fd)
            except OSError:
                pass


# --- the model server -------------------------------------------------------------------------------------------


class ModelServer:
    """One endpoint's (one transform job's) model-server process, answering one request at a time.

    Made by launch(); close() ends the process, revokes the role session and removes the folder."""

    def __init__(
        self,
        *,
        script_host: host.Host,
        folder: Path,
        python: Path,
        code_dir: Path,
        env: dict[str, str],
        stream: backends.LogStream,
        session: backends.RoleSession,
        ready_timeout: float,
        model_server_timeout: float,
    ) -> None:
        self._host = script_host
        self.folder = folder
        self._python = python
        self._code_dir = code_dir
        self._env = env
        self._stream = stream
        self._session = session
        self._ready_timeout = ready_timeout
        self._model_server_timeout = model_server_timeout
        self._lock = threading.Lock()  # one request at a time, as one worker serves one request at a time
        self._closed = False  # close() was called: no request starts anything any more
        self._abandoned = False  # close() ended the process without waiting for the request in flight
        self._process: subprocess.Popen | None = None
        self._channel: _Channel | None = None
        self._output: threading.Thread | None = None
        self._ready_by: float | None = None  # while the process loads the model: when it must have said ready

    # --- requests ------------------------------------------------------------------------------------------
    def invoke(self, body: bytes, content_type: str | None, accept: str | None, timeout: float) -> Answer:
        """Send one request; the container's answer (the script's, or nginx's when the process died or was silent
        for SAGEMAKER_MODEL_SERVER_TIMEOUT). Raises InvocationTimeout when SageMaker's own ``timeout`` passes first
        (waiting for earlier requests and for a restarted process to load count), ServerClosed when the server was
        let go meanwhile."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(timeout, 0.0)):
            if self._closed:
                raise ServerClosed()
            self._stream.write([f"The request got no answer within {timeout:.0f} s: the model server was busy with "
                                "earlier requests all that time."])
            raise InvocationTimeout(timeout)
        try:
            answer = self._invoke(body, content_type, accept, timeout, deadline)
        finally:
            if self._closed:
                # close() may have looked for the process before this request started one: it ends here, with the lock.
                self._stop_process()
            self._lock.release()
        if self._abandoned:  # its folder and its role session went while it answered
            raise ServerClosed()
        return answer

    def _invoke(self, body: bytes, content_type: str | None, accept: str | None, timeout: float,
                deadline: float) -> Answer:  # fmt: skip
        if self._closed:
            raise ServerClosed()
        try:
            if self._process is None or self._process.poll() is not None:
                self._restart()  # the last request ended it, or it died between requests
            if self._ready_by is not None:
                self._await_ready(deadline)  # started for this request, or for an earlier one that gave up waiting
        except _Silent:
            if self._closed:
                raise ServerClosed() from None
            self._stream.write([f"The request got no answer within {timeout:.0f} s: the model server was still "
                                "loading the model, which it goes on doing for the next request."])
            raise InvocationTimeout(timeout) from None
        except SetupFailure as failure:
            if self._closed:
                raise ServerClosed() from None
            self._stream.write([f"The model server did not start again: {failure}"])
            return Answer(502, "text/html", NGINX_502.encode())
        if self._closed:
            raise ServerClosed()
        channel = self._channel
        assert channel is not None
        container_deadline = time.monotonic() + self._model_server_timeout  # gunicorn's clock starts with the request
        container_timeout = container_deadline < deadline
        try:
            request_deadline = min(deadline, container_deadline)
            channel.send({"content_type": content_type, "accept": accept, "length": len(body)}, body, request_deadline)
            header, payload = channel.receive(request_deadline)
        except _Silent:
            self._stop_process()
            if self._closed:
                raise ServerClosed() from None
            if container_timeout:
                silent = f"{self._model_server_timeout:.0f} s"
                self._stream.write([f"The model server was silent for SAGEMAKER_MODEL_SERVER_TIMEOUT ({silent})"
                                    " and was ended (gunicorn: WORKER TIMEOUT); the next request starts it again."])
                return Answer(504, "text/html", NGINX_504.encode())
            self._stream.write([f"The request got no answer within {timeout:.0f} s and the model server was ended; "
                                "the next request starts it again."])
            raise InvocationTimeout(timeout) from None
        except _Gone:
            code = self._stop_process()
            if self._closed:
                raise ServerClosed() from None
            self._stream.write([f"The model server exited (code {code}) while it answered a request: the request "
                                "gets nginx's 502, and the next request starts the server again."])
            return Answer(502, "text/html", NGINX_502.encode())
        status = header.get("status")
        # sagemaker-containers' Response.default_mimetype when a script gives none (_worker.py).
        content_type = str(header.get("content_type") or "application/json")
        return Answer(int(status) if isinstance(status, int) else 500, content_type, payload)

    # --- the process ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the process and wait until it says ready (module imported, model_fn called); SetupFailure if not,
        ServerClosed if the server was let go meanwhile."""
        with self._lock:
            try:
                if self._closed:
                    raise ServerClosed()
                self._spawn()
                if self._closed:  # close() may have looked for the process before it was there
                    raise ServerClosed()
                self._await_ready(float("inf"))
            except SetupFailure:
                if self._closed:
                    raise ServerClosed() from None
                raise
            finally:
                if self._closed:
                    self._stop_process()

    def _restart(self) -> None:
        self._stop_process()
        self._stream.write(["Starting the model server again (gunicorn boots a new worker after one is lost)."])
        self._spawn()

    def _spawn(self) -> None:
        """Start the process; it loads the model until it says ready (_await_ready). SetupFailure if it cannot start."""
        request_read, request_write = os.pipe()
        answer_read, answer_write = os.pipe()
        env = {**self._env, FDS_ENV: f"{request_read},{answer_write}"}
        started = False
        try:
            process = host.start(self._host, [self._python, "-m", SERVE_MODULE], env, self._code_dir,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 pass_fds=(request_read, answer_write))  # fmt: skip
            started = True
        except (OSError, ValueError) as exc:  # ValueError: an environment Popen cannot pass (a "=" or NUL in it)
            raise SetupFailure(f"The model server could not be started: {exc}.") from None
        finally:
            os.close(request_read)
            os.close(answer_write)
            if not started:
                os.close(request_write)
                os.close(answer_read)
        self._process = process
        self._channel = _Channel(request_write, answer_read, process)
        self._ready_by = time.monotonic() + self._ready_timeout
        self._output = threading.Thread(target=self._forward, args=(process.stdout,), daemon=True,
                                        name=f"script-log-{process.pid}")  # fmt: skip
        self._output.start()

    def _await_ready(self, deadline: float) -> None:
        """Wait for the loading process to say ready, until ``deadline`` or its ready timeout, whichever comes first.
        SetupFailure when it failed or its ready timeout passed (it is ended then); _Silent when ``deadline`` passed
        first (it goes on loading)."""
        channel, ready_by = self._channel, self._ready_by
        assert channel is not None and ready_by is not None
        try:
            header, _ = channel.receive(min(deadline, ready_by))
        except _Silent:
            if deadline < ready_by:
                raise
            self._stop_process()
            raise SetupFailure(f"The model server did not load the model within {self._ready_timeout:.0f} s.") from None
        except _Gone:
            code = self._stop_process()
            raise SetupFailure(f"The model server exited (code {code}) before it loaded the model.") from None
        self._ready_by = None
        if header.get("ready") is not True:
            self._stop_process(graceful=True)  # it exits 1 by itself
            said = str(header.get("error") or "The model server could not load the model")
            # The container's own paths, as the image reports them: /opt/ml/..., not this machine's folder.
            said = said.replace(str(self._code_dir.parent), OPT_ML.rstrip("/"))
            raise SetupFailure(said.rstrip(".") + ".")

    def _forward(self, output: BinaryIO) -> None:
        """The process's output to the log stream, line by line, as the container's goes to CloudWatch."""
        for raw in iter(output.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                self._stream.write([line])
        output.close()

    def _stop_process(self, graceful: bool = False) -> int | None:
        """End the process (its group) and let go of its pipes; its output is in the log once this returns.
        Graceful: the end of its input first, and CLOSE_GRACE_SECONDS to leave by itself."""
        process, channel, output = self._process, self._channel, self._output
        self._process = self._channel = self._output = self._ready_by = None
        if channel is not None:
            channel.close()
        if process is None:
            return None
        try:
            process.wait(CLOSE_GRACE_SECONDS if graceful else 0.05)
        except subprocess.TimeoutExpired:
            pass
        host.end(process, self._host)  # and whatever it left in its group
        if output is not None:
            output.join(CLOSE_GRACE_SECONDS)
        return process.returncode

    def close(self, wait: float = CLOSE_GRACE_SECONDS) -> None:
        """End the server: after the request in flight, if it ends within ``wait`` seconds; else at once (that
        request then gets ServerClosed). Calling it again does nothing more."""
        self._closed = True
        if self._lock.acquire(timeout=max(wait, 0.001)):
            try:
                self._stop_process(graceful=True)
            finally:
                self._lock.release()
        else:
            # The request in flight sees its process go, and ends whatever process is there before it lets go of
            # the lock (invoke): the one read here, or one it started after.
            self._abandoned = True
            process = self._process
            if process is not None:
                host.end(process, self._host)
        self._session.revoke()
        shutil.rmtree(self.folder, ignore_errors=True)


def _check_environment(given: Mapping[str, str], what: str, value_max: int) -> None:
    """Refuse what SageMaker's API refuses in a container's Environment, and what no process environment can hold."""
    for key, value in given.items():
        if not ENVIRONMENT_KEY.fullmatch(key) or len(key) > ENVIRONMENT_KEY_MAX:
            raise SetupFailure(
                f"{what} has the key {key[:100]!r}, which is not an environment variable name: SageMaker accepts keys "
                f"matching {ENVIRONMENT_KEY.pattern} of at most {ENVIRONMENT_KEY_MAX} characters. Rename it."
            )
        if len(value) > value_max or "\0" in value:
            raise SetupFailure(
                f"{what} sets {key} to a value that no container can get: SageMaker accepts values of at most "
                f"{value_max} characters, and an environment cannot hold a NUL character. Shorten or fix it."
            )


def launch(
    *,
    kind: str,
    name: str,
    container: Mapping[str, object],
    model_archive: bytes | None,
    model_url: str | None,
    role_arn: str | None,
    region: str,
    aws: backends.ServiceAccess,
    stream: backends.LogStream,
    extra_env: Mapping[str, str] | None = None,
    extra_env_value_max: int = TRANSFORM_ENVIRONMENT_VALUE_MAX,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
    made: Callable[[ModelServer], None] | None = None,
) -> ModelServer:
    """Set up the model's script and start its model server; SetupFailure (with the reason) if it cannot serve.

    ``aws`` acts as the model's execution role (it fetches a sourcedir.tar.gz); ``model_archive`` is the model's
    model.tar.gz, already downloaded by the caller (each caller words that failure its own way). ``extra_env`` is
    the job's own Environment (a transform job's, values of at most ``extra_env_value_max`` characters) and the
    variables SageMaker adds. ``made`` is given the server before its process starts, so that its owner can close
    it meanwhile: launch then raises ServerClosed."""
    model = ScriptSource.of(container)
    try:
        script_host = host.current_host()
    except RuntimeError:
        raise SetupFailure("Script mode runs in the emulator's server only (no script host is registered).") from None
    try:
        _check_environment(model.environment, "The model's container Environment", MODEL_ENVIRONMENT_VALUE_MAX)
        _check_environment(extra_env or {}, "The job's Environment", extra_env_value_max)
    except SetupFailure as failure:
        stream.write([str(failure)])
        raise
    folder = host.job_folder(script_host, kind, name)
    base = folder / "opt" / "ml"  # stands for /opt/ml: SAGEMAKER_BASE_DIR
    session: backends.RoleSession | None = None
    try:
        model_dir = base / "model"
        model_dir.mkdir(parents=True)
        if model_archive is not None:
            _extract(model_archive, model_dir, f"The model data {model_url}")
        code_dir = _code(model, base, aws, stream)
        venv = environment.create(folder / "venv")
        try:
            environment.install_requirements(venv, code_dir, lambda line: stream.write([line]), script_host)
        except environment.SetupFailure as failure:
            raise SetupFailure(str(failure)) from None
        try:
            session = aws.role_session(role_arn or "", host.ROLE_SESSION_NAME, host.ROLE_SESSION_SECONDS,
                                       host.fresh_secret)  # fmt: skip
        except RoleUnavailable as missing:  # the role is gone (role_session's own words for moto's not-found)
            raise SetupFailure(str(missing)) from None
        env = {
            **environment.base_env(venv),
            **model.environment,
            "SAGEMAKER_PROGRAM": model.program,
            "SAGEMAKER_SUBMIT_DIRECTORY": str(code_dir),
            "SAGEMAKER_BASE_DIR": str(base),
            "SM_MODEL_DIR": str(model_dir),
            **(extra_env or {}),
            # The emulator's endpoint, CA bundle and proxy with the role session: never real AWS, so they win.
            **script_host.client_env(session.access_key_id, session.secret_access_key, session.session_token, region),
        }
        env.setdefault("OMP_NUM_THREADS", "1")  # serving.py set_default_serving_env_if_unspecified
        server = ModelServer(
            script_host=script_host, folder=folder, python=venv.python, code_dir=code_dir, env=env, stream=stream,
            session=session, ready_timeout=ready_timeout, model_server_timeout=_model_server_timeout(model.environment),
        )  # fmt: skip
        if made is not None:
            made(server)
        server.start()
        return server
    except BaseException as failure:
        if isinstance(failure, SetupFailure):
            stream.write([str(failure)])  # the reason, beside what the process itself wrote
        if session is not None:
            session.revoke()
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _model_server_timeout(environment_: Mapping[str, str]) -> float:
    try:
        return float(int(environment_.get("SAGEMAKER_MODEL_SERVER_TIMEOUT") or MODEL_SERVER_TIMEOUT_SECONDS))
    except ValueError:
        return float(MODEL_SERVER_TIMEOUT_SECONDS)


def ready_timeout_of(variant: Mapping[str, object]) -> float:
    """A production variant's ContainerStartupHealthCheckTimeoutInSeconds, or SageMaker's 8 minutes."""
    given = variant.get("ContainerStartupHealthCheckTimeoutInSeconds")
    return float(given) if isinstance(given, (int, float)) and given > 0 else READY_TIMEOUT_SECONDS
