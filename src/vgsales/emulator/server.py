"""Serve the emulated AWS APIs on loopback, with the project's patches installed."""

from __future__ import annotations

import importlib
import ipaddress

from moto.server import ThreadedMotoServer

# Each module exposes install(), which patches moto in-process. It must be idempotent.
PATCH_MODULES = ("compat", "training", "hosting")


def install_patches() -> None:
    for name in PATCH_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:  # a patch module not written yet
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.install()


def require_loopback(host: str) -> None:
    """The emulator accepts any credentials, so it must never be reachable from another machine."""
    try:
        is_loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        is_loopback = host == "localhost"
    if not is_loopback:
        raise ValueError(f"the emulator listens on loopback only (127.0.0.0/8 or ::1), not on {host!r}")


class EmulatorServer:
    """moto in a thread of this process, on a free loopback port unless one is given."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        require_loopback(host)
        install_patches()
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    def start(self) -> "EmulatorServer":
        self._server.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client_env(self) -> dict[str, str]:
        """What a client (boto3, the SageMaker SDK, Terraform) needs in its environment to use this server.

        The emulator accepts any credentials; these dummy ones only satisfy the clients' signers.
        """
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self._server.stop()
