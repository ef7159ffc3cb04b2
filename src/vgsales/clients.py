"""boto3 clients built from a Connection, with its endpoint, CA bundle, proxy, retries and credentials explicit.

Nothing here reads or writes os.environ's AWS variables for an isolated connection (the local target), so two
`AwsClients` of two connections are independent in one process and in two threads. sagemaker-core's resources
take `AwsClients.session`, whose every client is built the same way.
"""

from __future__ import annotations

import inspect
import os
import threading
from typing import Any

import boto3
import boto3.session
import botocore.session
from botocore.config import Config
from botocore.configprovider import ConstantProvider

from .connection import Connection


class AwsClients:
    """The boto3 clients of one connection, each built once. Safe to share between threads: boto3 clients are,
    and the session that builds them is used under a lock."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.session = connected_session(connection)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def region(self) -> str:
        return self.connection.region

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service)
            return self._clients[service]


# One loader of AWS's service models for every session of this process. botocore gives each new session a loader of
# its own, which parses the models' JSON again (sagemaker's is 1.3 MB): 0.05-0.15 s of CPU for a session's first
# client, against 0.01 s with a loader that has read them. A loader holds only what it read from botocore's and
# boto3's data folders (and AWS_DATA_PATH's, as the process had it when the first session was made), nothing of a
# session's credentials, region or endpoint, so sessions of different connections share it safely; its cache is a
# dict filled under the GIL, and two threads that miss at once only read a file twice.
_LOADER_LOCK = threading.Lock()
_shared_loader: Any = None


def share_loader(core: botocore.session.Session) -> botocore.session.Session:
    """core, reading models through the shared loader from now on (the first session's loader becomes it)."""
    global _shared_loader
    with _LOADER_LOCK:
        if _shared_loader is None:
            _shared_loader = core.get_component("data_loader")
    core.register_component("data_loader", _shared_loader)
    return core


class LoaderSharingSession(boto3.session.Session):
    """A boto3 session on the shared loader, otherwise exactly `boto3.Session(...)`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("botocore_session", share_loader(botocore.session.Session()))
        super().__init__(**kwargs)

    def _setup_loader(self) -> None:
        # boto3 1.x's Session._setup_loader appends boto3's data folder to the loader's search paths at every
        # session; on a shared loader that list would grow by one entry per session.
        self._loader = self._session.get_component("data_loader")
        folder = os.path.join(os.path.dirname(boto3.session.__file__), "data")
        if folder not in self._loader.search_paths:
            self._loader.search_paths.append(folder)


class ConnectedSession(LoaderSharingSession):
    """A boto3 session whose every client and resource takes the connection's endpoint, CA bundle, proxy and
    retries unless the caller names its own. sagemaker-core builds its clients with
    `session.client("sagemaker", region, config=...)` and gets the connection's endpoint that way."""

    def __init__(self, defaults: dict[str, Any], config: Config | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connection_defaults = defaults
        self._connection_config = config

    def _with_connection(self, method, args: tuple, kwargs: dict) -> dict[str, Any]:
        bound = inspect.signature(method).bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("self")
        for name, value in self._connection_defaults.items():
            if arguments.get(name) is None:
                arguments[name] = value
        if self._connection_config is not None:
            given = arguments.get("config")
            # The caller's config (sagemaker-core's retries) first and the connection's over it: the proxy and the
            # number of attempts are the connection's to decide.
            arguments["config"] = given.merge(self._connection_config) if given else self._connection_config
        return arguments

    def client(self, *args: Any, **kwargs: Any) -> Any:
        return super().client(**self._with_connection(boto3.session.Session.client, args, kwargs))

    def resource(self, *args: Any, **kwargs: Any) -> Any:
        return super().resource(**self._with_connection(boto3.session.Session.resource, args, kwargs))


def connected_session(connection: Connection) -> ConnectedSession:
    core = botocore.session.Session()
    if connection.isolated:
        # Nothing of the user's AWS configuration: no profile (AWS_PROFILE naming one that exists only for AWS
        # would fail every call), no config or credentials file.
        store = core.get_component("config_store")
        for name, value in (("profile", None), ("config_file", os.devnull), ("credentials_file", os.devnull)):
            store.set_config_provider(name, ConstantProvider(value))
    share_loader(core)  # after the configuration above: a loader built now reads no file of the user's
    defaults: dict[str, Any] = {}
    if connection.endpoint_url:
        defaults["endpoint_url"] = connection.endpoint_url
    if connection.ca_bundle:
        defaults["verify"] = connection.ca_bundle
    extra: dict[str, Any] = {}
    if connection.proxy_url:
        extra["proxies"] = {"https": connection.proxy_url}
    elif connection.endpoint_url:
        # An empty mapping, not None: botocore then takes no proxy from the environment, so a corporate proxy
        # never sees a request for the loopback emulator.
        extra["proxies"] = {}
    if connection.max_attempts is not None:
        # total_max_attempts counts the first attempt, as AWS_MAX_ATTEMPTS does (botocore's max_attempts does not).
        extra["retries"] = {"total_max_attempts": connection.max_attempts, "mode": "standard"}
    credentials = connection.credentials
    return ConnectedSession(
        defaults,
        Config(**extra) if extra else None,
        botocore_session=core,
        region_name=connection.region,
        aws_access_key_id=credentials.access_key_id if credentials else None,
        aws_secret_access_key=credentials.secret_access_key if credentials else None,
        aws_session_token=credentials.session_token if credentials else None,
    )
