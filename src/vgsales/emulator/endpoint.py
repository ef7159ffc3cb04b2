"""What a client needs to reach a running emulator: its health check, and the environment that points AWS clients
at it. Light on purpose (no moto): `invoke status` and the daemon's checks import only this.
"""

from __future__ import annotations

from ..loopback import EMULATOR_PROXY_ENV
from .shapes import ReadDocument

from dataclasses import dataclass
from pathlib import Path


# Answered by the emulator itself, not by moto; bucket names cannot contain "_", so S3 never needs it.
HEALTH_PATH = "/_vgsales/health"
SERVICE_NAME = "vgsales-emulator"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Credentials:
    """An access key the emulator issued (access.py)."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never print the secret, not even in a traceback
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>)"

    def to_json(self) -> dict[str, str]:
        return {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}

    @classmethod
    def from_json(cls, data: ReadDocument) -> Credentials:
        return cls(str(data["access_key_id"]), str(data["secret_access_key"]))


# Clients reach the emulator's own ports directly; only AWS hostnames go through its proxy.
NO_PROXY = "127.0.0.1,localhost,::1"


def client_env(
    url: str,
    ca_bundle: Path | str,
    credentials: Credentials,
    region: str = DEFAULT_REGION,
    proxy_url: str | None = None,
) -> dict[str, str]:
    """What a client (boto3, the SageMaker SDK, Terraform, the AWS CLI) needs in its environment to use an emulator.

    The credentials are the emulator's administrative key of this start (access.py): it refuses any other.
    The CA bundle is the emulator's own throw-away CA, so clients trust it without touching the system store.
    With a proxy, a client that builds an AWS hostname itself (the SageMaker SDKs' STS client) reaches the
    emulator too.
    """
    proxy = {"HTTPS_PROXY": proxy_url, "https_proxy": proxy_url, "NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY,
             EMULATOR_PROXY_ENV: proxy_url}
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_CA_BUNDLE": str(ca_bundle),
        **(proxy if proxy_url else {}),
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # No client should wait for an EC2 metadata service that a laptop does not have.
        "AWS_EC2_METADATA_DISABLED": "true",
        # The emulator does not throttle; retrying only delays the message when it is gone (10 SDK attempts
        # took about 19 s to report a dead emulator).
        "AWS_MAX_ATTEMPTS": "2",
    }
