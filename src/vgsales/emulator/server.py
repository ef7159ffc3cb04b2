"""Serve the emulated AWS APIs over HTTPS on loopback, with the emulator's services installed into moto.

One moto application answers S3, IAM, STS, CloudWatch Logs, SageMaker and SageMaker Runtime on a single
port; moto routes each request by the service in its SigV4 signature. It runs on listener.py (an asyncio
server that keeps connections alive and that slow clients cannot stall) rather than moto's werkzeug server:
werkzeug's development server closes the connection after every response, so each request would pay a new TCP
and TLS handshake, and the Go SDK in Terraform intermittently fails reading a response whose connection is
being torn down.
"""

from __future__ import annotations

import atexit
import datetime
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import moto
from flask import Flask
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from .. import loopback
from ..errors import WorkshopError
from ..loopback import require_loopback
from . import access, admission, hosting, notebook_instances, services, tls
from .script_mode import host as script_host
from .endpoint import DEFAULT_REGION, HEALTH_PATH, SERVICE_NAME, Credentials, client_env
from .compat import s3_policy
from .listener import Listener
from .proxy import TunnelProxy
from .shapes import Document, Environ, Json, StartResponse, WsgiApp

log = logging.getLogger(__name__)

# moto's own control API (reset, seed, a JSON dump of every backend with its secrets) answers unsigned
# requests: the emulator never serves it, so nobody else on the machine can read or reset a learner's state.
MOTO_API_PATH = "/moto-api"

# moto reads these when it builds a backend, so they must be set before the first request.
# moto's own configuration (moto/core/config.py, 5.2.5: the mapping `mock_aws(config=...)` updates), set in its
# module rather than through MOTO_* environment variables, so that an in-process emulator changes nothing of
# its host process's environment.
MOTO_CONFIG = {
    # Without it IAM knows no AWS managed policy, and attaching e.g. AmazonSageMakerFullAccess fails.
    "iam": {"load_aws_managed_policies": True},
}

# Read-only calls that make moto build each service's routing and backend at start (EmulatorServer._warm_up).
WARM_UP_CALLS = (
    ("sts", "get_caller_identity"),
    ("iam", "list_roles"),
    ("s3", "list_buckets"),
    ("sagemaker", "list_training_jobs"),
    ("logs", "describe_log_groups"),
)


def configure_moto() -> None:
    from moto.core.config import default_user_config

    for section, values in MOTO_CONFIG.items():
        default_user_config.setdefault(section, {}).update(values)  # type: ignore[misc]


def install() -> None:
    """The emulator's services, into this process's moto (services.py states what and in which order)."""
    services.install()


class EmulatorServer:
    """moto in threads of this process, serving HTTPS on a free loopback port unless one is given.

    cert_dir holds the certificate files; without one they go to a private temporary folder that stop()
    removes.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, cert_dir: Path | None = None) -> None:
        require_loopback(host)
        configure_moto()
        install()
        self._host = host
        self._requested_port = port
        self._cert_dir = cert_dir
        self._own_cert_dir: Path | None = None
        self._certificate: tls.Certificate | None = None
        self._server: Listener | None = None
        self._plain: Listener | None = None
        self._proxy: TunnelProxy | None = None
        self._enforcement = access.Enforcement()
        self._notebook_host: notebook_instances.Host | None = None
        self._script_host: script_host.Host | None = None
        self.credentials: access.Credentials | None = None
        self.started_at: datetime.datetime | None = None

    def start(self) -> EmulatorServer:
        if self._server is not None:
            return self
        cert_dir = self._cert_dir
        if cert_dir is None:
            cert_dir = self._own_cert_dir = Path(tempfile.mkdtemp(prefix="vgsales-emulator-"))
            # The folder holds a private key: remove it even if the process ends without stop().
            atexit.register(shutil.rmtree, cert_dir, True)
        self._certificate = tls.issue(cert_dir)
        try:
            self.credentials = access.issue_admin_credentials()
            self._enforcement.enable()
            self._serve()
        except BaseException:
            self.stop()
            raise
        # Notebook instances live beside the certificate: the state folder, or the private temporary one. Those of
        # an earlier start are gone with its memory, so their folders go too.
        notebook_root = cert_dir / "notebook-instances"
        notebook_instances.end_orphans(notebook_root)
        shutil.rmtree(notebook_root, ignore_errors=True)
        self._notebook_host = notebook_instances.Host(notebook_root, self._identity_env)
        notebook_instances.add_host(self._notebook_host)
        # Script-mode jobs and endpoints (script_mode/host.py) keep their folders there too, for the same reasons.
        script_root = cert_dir / "script-mode"
        script_host.end_orphans(script_root)
        shutil.rmtree(script_root, ignore_errors=True)
        self._script_host = script_host.Host(script_root, self._identity_env)
        script_host.add_host(self._script_host)
        log.info("emulator serving %s (moto %s)", self.url, moto.__version__)
        threading.Thread(target=self._warm_up, name="emulator-warm-up", daemon=True).start()
        return self

    def _warm_up(self) -> None:
        """One read-only call per service, signed with the administrative key, right after start.

        moto builds each service's routing and backend on its first request: 0.2 to 0.7 s each, about 1.5 s in
        all, which the first `terraform apply` would otherwise wait for. Here it overlaps with what the client
        does meanwhile (terraform init). Nothing is created."""
        try:
            import boto3

            env = self.client_env()
            session = boto3.Session(
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name=DEFAULT_REGION,
            )  # fmt: skip
            for service, call in WARM_UP_CALLS:
                client = session.client(service, endpoint_url=self.url, verify=str(self.ca_bundle))
                getattr(client, call)()
        except Exception as exc:  # noqa: BLE001 - only a speed-up: a failure here costs time, nothing else
            log.debug("warm-up skipped: %s", exc)

    def _serve(self) -> None:
        assert self._certificate is not None
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        # InvokeEndpoint skips moto's generic routing: the load benchmark's hot path (see hosting.py).
        app = _Gateway(hosting.serve_invocations(_Dispatcher(create_backend_app)), self._health)
        certificate = (self._certificate.cert_file, self._certificate.key_file)
        self._server = self._listen(app, self._requested_port, certificate, "emulator-https").start()
        # Plain HTTP as well, on a port of its own, as AWS answers it: S3 serves it, and the stack's bucket
        # policy then denies it with 403 AccessDenied (aws:SecureTransport is false there).
        self._plain = self._listen(app, 0, None, "emulator-http").start()
        self._proxy = TunnelProxy(self._host, (self._host, self.port)).start()

    def _listen(self, app: WsgiApp, port: int, certificate: tuple[Path, Path] | None, name: str) -> Listener:
        try:
            return Listener(app, self._host, port, certificate=certificate, name=name, admit=_admit)
        except OSError as exc:
            raise WorkshopError(
                f"The local AWS emulator cannot listen on {self._host}:{port} ({exc}). Another "
                "program may use that port; set workshop.emulator.port to 0 to pick a free one."
            ) from None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return self._server.port

    @property
    def url(self) -> str:
        return loopback.url("https", self._host, self.port)

    @property
    def http_url(self) -> str:
        """Plain HTTP on loopback: what a client that disables TLS reaches."""
        if self._plain is None:
            raise RuntimeError("the emulator is not started")
        return loopback.url("http", self._host, self._plain.port)

    @property
    def proxy_url(self) -> str:
        """The HTTPS proxy that takes AWS hostnames to this emulator (proxy.py)."""
        if self._proxy is None:
            raise RuntimeError("the emulator is not started")
        return self._proxy.url

    @property
    def ca_bundle(self) -> Path:
        if self._certificate is None:
            raise RuntimeError("the emulator is not started")
        return self._certificate.ca_bundle

    def client_env(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        if self.credentials is None:
            raise RuntimeError("the emulator is not started")
        return client_env(self.url, self.ca_bundle, self.credentials, region, proxy_url=self.proxy_url)

    def _identity_env(self, key_id: str, secret: str, session_token: str, region: str) -> dict[str, str]:
        """The environment of a notebook instance's processes: this emulator, as a session of the instance's role."""
        env = client_env(self.url, self.ca_bundle, Credentials(key_id, secret), region, proxy_url=self.proxy_url)
        env["AWS_SESSION_TOKEN"] = session_token
        return env

    def stop(self) -> None:
        if self._notebook_host is not None:  # its instances' processes end before the emulator's ports close
            notebook_instances.remove_host(self._notebook_host)
            self._notebook_host = None
        if self._script_host is not None:  # so do script-mode jobs' and endpoints' processes
            script_host.remove_host(self._script_host)
            self._script_host = None
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            proxy.stop()
        for server in (self._plain, self._server):
            if server is not None:
                server.stop()
        self._server = self._plain = None
        self._enforcement.disable()
        if self.credentials is not None:
            access.revoke(self.credentials)
            self.credentials = None
        if self._certificate is not None:
            tls.remove(self._certificate)
            self._certificate = None
        if self._own_cert_dir is not None:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _health(self) -> Document:
        return {
            "service": SERVICE_NAME,
            "pid": os.getpid(),
            "moto": moto.__version__,
            "started_at": self.started_at.isoformat() if self.started_at else None,
        }


class _Dispatcher(DomainDispatcherApplication):
    """moto's request router, remembering which backend serves which host name.

    moto lists its package folder on every lookup, twice per request: about 40% of the CPU time of a
    simple request. The answer cannot change while the server runs.
    """

    def __init__(self, create_app: Callable[[str], Flask]) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, str | None] = {}

    def get_backend_for_host(self, host: str | None) -> str | None:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class _Gateway:
    """Answers the health check, gives moto the environ it expects, and hands everything else to moto."""

    def __init__(self, app: WsgiApp, health: Callable[[], Document]) -> None:
        self._app = s3_policy.record_transport(app)
        self._health = health

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            body = json.dumps(self._health()).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        path = environ.get("PATH_INFO", "")
        if path == MOTO_API_PATH or path.startswith(MOTO_API_PATH + "/"):
            return _refuse(start_response, "AccessDeniedException", "The emulator does not serve moto's control API.")
        if "SSL_PROTOCOL" in environ:
            environ[s3_policy.TLS_VERSION_ENVIRON_KEY] = environ["SSL_PROTOCOL"]

        def logged_start_response(status: str, headers: list[tuple[str, str]], *args: Json) -> Json:
            # Server errors always, everything at DEBUG; the path only, since query strings can carry
            # presigned-URL signatures, and never a header but the operation's name.
            level = logging.WARNING if status.startswith("5") else logging.DEBUG
            if log.isEnabledFor(level):
                operation = environ.get("HTTP_X_AMZ_TARGET", "")
                log.log(
                    level, "%s %s %s -> %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), operation, status
                )
            return start_response(status, headers, *args)

        return self._app(environ, logged_start_response)


def _admit(environ: Environ) -> tuple[admission.Response, bool] | None:
    """admission.py's answer to a request head, run before its body is read (listener.py)."""
    answer = admission.refusal(environ)
    if answer is None:
        return None
    log.debug("%s %s refused before its body: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), admission.describe(answer))
    return answer.response, answer.drain


def _refuse(start_response: StartResponse, error_type: str, message: str) -> Iterable[bytes]:
    body = json.dumps({"__type": error_type, "message": message}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type), ("Content-Length", str(len(body)))]
    start_response("403 Forbidden", headers)
    return [body]
