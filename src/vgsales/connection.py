"""How AWS clients reach a target, as plain data: the endpoint, CA bundle, proxy, credentials and region.

clients.py builds boto3 clients from a `Connection` with all of it explicit, never through `os.environ`, so two
connections (two targets, two stacks, two emulators) work side by side in one process and in two threads. A
subprocess that is an AWS client (Terraform) gets `subprocess_environment()` instead.

The aws target's connection names nothing: its clients find the user's own credentials, profile and
configuration as any AWS client does. The local target's names everything, and its clients read none of the
user's AWS configuration (profile, config and credentials files): a profile in the user's shell must neither
mix with the emulator's key nor fail the task because it exists only on AWS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Connection:
    region: str
    # None: AWS's own hostnames, found by botocore for the region.
    endpoint_url: str | None = None
    # A CA bundle to trust instead of the system's (the emulator's throw-away CA).
    ca_bundle: str | None = None
    # An HTTPS proxy every request goes through; with an endpoint URL, no proxy at all (not even the user's own:
    # a corporate proxy must never see a request for the loopback emulator).
    proxy_url: str | None = None
    # None: the user's own credential chain (environment, profile, SSO, instance role).
    credentials: Credentials | None = None
    # Attempts per request; None leaves botocore's (and the user's configured) retry behaviour.
    max_attempts: int | None = None

    @property
    def isolated(self) -> bool:
        """Whether the clients use nothing of the user's AWS configuration (they are given all they need)."""
        return self.credentials is not None

    def environment(self) -> dict[str, str]:
        """The variables that point a subprocess that is an AWS client (Terraform, the AWS CLI) the same way."""
        variables = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint_url:
            variables["AWS_ENDPOINT_URL"] = self.endpoint_url
        if self.ca_bundle:
            variables["AWS_CA_BUNDLE"] = self.ca_bundle
        if self.proxy_url:
            variables.update(HTTPS_PROXY=self.proxy_url, https_proxy=self.proxy_url)
        if self.credentials is not None:
            variables.update(
                AWS_ACCESS_KEY_ID=self.credentials.access_key_id,
                AWS_SECRET_ACCESS_KEY=self.credentials.secret_access_key,
                # No client given its credentials should wait for an EC2 metadata service a laptop does not have.
                AWS_EC2_METADATA_DISABLED="true",
                # Nor read the user's files: without these, Terraform's provider still reads ~/.aws/config, where
                # a profile's endpoint_url or region would override what this connection says.
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            )
            if self.credentials.session_token:
                variables["AWS_SESSION_TOKEN"] = self.credentials.session_token
        if self.max_attempts is not None:
            variables["AWS_MAX_ATTEMPTS"] = str(self.max_attempts)
        return variables

    def subprocess_environment(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` (the user's own environment) pointed at this connection: with given credentials, nothing of the
        user's profile or session token is left to mix with them."""
        environ = dict(base)
        if self.isolated:
            for name in LEFT_OUT_WHEN_ISOLATED:
                environ.pop(name, None)
        return {**environ, **self.environment()}


# What an isolated connection's subprocess never inherits from the user's shell.
LEFT_OUT_WHEN_ISOLATED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
    # A NO_PROXY naming amazonaws.com would send the rehearsal's Terraform past the emulator's proxy, to AWS.
    "NO_PROXY", "no_proxy",
)
