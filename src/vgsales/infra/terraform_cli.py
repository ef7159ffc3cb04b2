"""Point the Terraform CLI at a provider mirror, so that `terraform init` works offline.

A machine without access to registry.terraform.io can install the aws provider from a filesystem mirror
(a folder laid out as ``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``). Terraform learns
about the mirror from a CLI configuration file named by ``TF_CLI_CONFIG_FILE``. A user with internet
access has no mirror and needs none, so nothing here assumes one exists.
"""

from __future__ import annotations

import functools
import json
import os
import socket
from pathlib import Path

from vgsales.errors import WorkshopError

CLI_CONFIG_ENV = "TF_CLI_CONFIG_FILE"
MIRROR_ENV = "VGSALES_TF_PLUGIN_MIRROR"
CLI_CONFIG_NAME = "terraform-cli.tfrc"
# Providers that must come from the mirror; any other provider still comes from the registry.
MIRRORED_PROVIDERS = ("registry.terraform.io/hashicorp/aws",)


def mirror_from_env() -> str | None:
    """The mirror folder named by VGSALES_TF_PLUGIN_MIRROR, or None when it is unset or empty."""
    return os.environ.get(MIRROR_ENV) or None


REGISTRY = ("registry.terraform.io", 443)


@functools.cache
def provider_unavailable_reason() -> str | None:
    """Why `terraform init` could not install hashicorp/aws on this machine (no mirror, and the registry is
    unreachable), or None. A quick TCP check, asked once per process."""
    mirror = mirror_from_env()
    if mirror is not None:
        return None if Path(mirror).expanduser().is_dir() else f"{MIRROR_ENV}={mirror} is not a folder"
    try:
        socket.create_connection(REGISTRY, timeout=3).close()
    except OSError as exc:
        return (
            f"the Terraform registry {REGISTRY[0]} is unreachable ({exc}) and {MIRROR_ENV} names no provider "
            "mirror (see terraform/README.md)"
        )
    return None


def _hcl_string(value: str) -> str:
    # CLI configuration files are HCL 1, whose quoted strings take JSON's escapes.
    return json.dumps(value)


def render_cli_config(mirror: str) -> str:
    """The CLI configuration text that installs MIRRORED_PROVIDERS from ``mirror`` and only from there."""
    excluded = ", ".join(_hcl_string(provider) for provider in MIRRORED_PROVIDERS)
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path = {_hcl_string(mirror)}\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{excluded}]\n"
        "  }\n"
        "}\n"
    )


def cli_config_env(mirror: str | None, config_dir: Path) -> dict[str, str]:
    """Environment variables that make Terraform use ``mirror``; merge them into the environment of terraform.

    With a mirror, writes the CLI configuration into ``config_dir`` and returns its path as
    TF_CLI_CONFIG_FILE. Without one, returns nothing, unless TF_CLI_CONFIG_FILE names a file that does not
    exist (Terraform then warns on every command): that is replaced by an empty configuration.
    """
    if mirror is not None:
        mirror_path = Path(mirror).expanduser()
        if not mirror_path.is_dir():
            raise WorkshopError(
                f"The Terraform provider mirror {mirror!r} is not a folder. Point {MIRROR_ENV} (or the setting "
                "workshop.terraform.plugin_mirror) at a folder laid out as "
                "registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/, or unset it to install the "
                "provider from the Terraform registry."
            )
        return {CLI_CONFIG_ENV: str(_write(config_dir, render_cli_config(str(mirror_path.resolve()))))}
    configured = os.environ.get(CLI_CONFIG_ENV)
    if configured and not Path(configured).expanduser().is_file():
        return {CLI_CONFIG_ENV: str(_write(config_dir, ""))}
    return {}


def _write(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / CLI_CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path
