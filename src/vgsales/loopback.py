"""The loopback rule, shared by the settings check and the emulator that enforces it.

The local emulator must never be reachable from another machine, and clients must never send emulator
traffic off the machine, so both the bind address and every endpoint URL are held to loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import WorkshopError


# Set beside HTTPS_PROXY wherever that names the emulator's proxy (emulator/endpoint.client_env: `invoke emulator.env`,
# a local notebook instance). That proxy takes AWS hostnames only and refuses the rest (emulator/proxy.py), so code
# that fetches from anywhere else (the dataset, dataset.py) goes around it, as it would without the emulator.
EMULATOR_PROXY_ENV = "VGSALES_EMULATOR_PROXY_URL"  # not *_PROXY: urllib would read it as a proxy itself


class NotLoopbackError(WorkshopError, ValueError):
    """A bind address off loopback. A ValueError too, for callers that validate settings."""


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def is_loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


def url(scheme: str, host: str, port: int) -> str:
    """The URL of a loopback service, with an IPv6 host in brackets."""
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def require_loopback(host: str) -> None:
    if not is_loopback(host):
        raise NotLoopbackError(
            f"The local AWS emulator listens on loopback only (127.0.0.0/8, ::1 or localhost), not on {host!r}: "
            "another machine must never reach it. Set workshop.emulator.host to 127.0.0.1."
        )
