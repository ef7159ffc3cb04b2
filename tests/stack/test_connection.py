"""A connection's clients take their endpoint, CA bundle, proxy, retries and credentials from the connection only.

The local target's clients must work whatever the user's shell holds for AWS (a profile that exists only for their
real account, a corporate proxy, a config file), and must not change that shell's environment.
"""

from __future__ import annotations

import os

import pytest
from botocore.config import Config

from vgsales.clients import AwsClients, LoaderSharingSession
from vgsales.connection import Connection, Credentials
from vgsales.context import Context

LOCAL = Connection(
    region="eu-west-1",
    endpoint_url="https://127.0.0.1:4566",
    ca_bundle="/tmp/emulator-ca.pem",
    credentials=Credentials("AKIAEMULATOR", "emulator-secret"),
    max_attempts=2,
)


def test_every_client_takes_the_connections_endpoint_ca_and_retries_unless_the_caller_names_its_own():
    clients = AwsClients(LOCAL)
    s3 = clients.client("s3")
    assert s3.meta.endpoint_url == "https://127.0.0.1:4566" and s3.meta.region_name == "eu-west-1"
    # As sagemaker-core builds its clients: positional region, a config of its own with 10 attempts.
    sagemaker = clients.session.client("sagemaker", "eu-west-1", config=Config(retries={"max_attempts": 10}))
    assert sagemaker.meta.endpoint_url == "https://127.0.0.1:4566"
    assert sagemaker.meta.config.retries["total_max_attempts"] == 2
    assert sagemaker.meta.config.proxies == {}, "no proxy from the environment for the loopback emulator"
    assert clients.session.resource("s3").meta.client.meta.endpoint_url == "https://127.0.0.1:4566"
    named = clients.session.client("s3", endpoint_url="https://other.example")  # the caller's own wins
    assert named.meta.endpoint_url == "https://other.example"
    assert clients.client("s3") is s3, "one client per service"


def test_an_aws_connection_leaves_endpoint_proxy_and_retries_to_botocore():
    clients = AwsClients(Connection(region="ap-northeast-1"))
    s3 = clients.client("s3")
    assert s3.meta.endpoint_url == "https://s3.ap-northeast-1.amazonaws.com"
    assert s3.meta.config.proxies is None


def test_sessions_of_two_connections_share_the_model_loader_and_nothing_else():
    """One parse of AWS's service models per process: every session reads them through one loader, whose search
    paths do not grow with the sessions; the credentials, region and endpoint stay each connection's own."""
    other = Connection(region="ap-northeast-1", credentials=Credentials("AKIAOTHER", "other-secret"))
    first, second = AwsClients(LOCAL), AwsClients(other)
    loader = first.session._session.get_component("data_loader")
    assert second.session._session.get_component("data_loader") is loader
    assert LoaderSharingSession()._session.get_component("data_loader") is loader
    assert len(loader.search_paths) == len(set(loader.search_paths)), loader.search_paths
    a, b = first.client("sts"), second.client("sts")
    assert a._request_signer._credentials.access_key == "AKIAEMULATOR"
    assert b._request_signer._credentials.access_key == "AKIAOTHER"
    assert (a.meta.region_name, b.meta.region_name) == ("eu-west-1", "ap-northeast-1")
    assert (a.meta.endpoint_url, b.meta.endpoint_url) == ("https://127.0.0.1:4566", "https://sts.ap-northeast-1.amazonaws.com")


def test_a_proxy_connection_sends_every_request_through_its_proxy():
    proxied = AwsClients(Connection(region="us-east-1", proxy_url="http://127.0.0.1:3128", ca_bundle="/ca.pem"))
    client = proxied.client("sts")
    assert client.meta.config.proxies == {"https": "http://127.0.0.1:3128"}
    assert client.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_the_subprocess_environment_leaves_nothing_of_the_users_own_route_with_given_credentials():
    user = {
        "PATH": "/usr/bin", "HOME": "/home/learner", "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "real-token",
        "HTTPS_PROXY": "http://proxy.corp.example:3128", "AWS_RETRY_MODE": "adaptive",
    }  # fmt: skip
    environ = LOCAL.subprocess_environment(user)
    assert environ["PATH"] == "/usr/bin" and environ["HOME"] == "/home/learner"
    assert "AWS_PROFILE" not in environ and "AWS_SESSION_TOKEN" not in environ and "HTTPS_PROXY" not in environ
    assert environ["AWS_RETRY_MODE"] == "adaptive", "a near miss: not a way to another account or host"
    assert environ["AWS_ENDPOINT_URL"] == "https://127.0.0.1:4566" and environ["AWS_CA_BUNDLE"] == "/tmp/emulator-ca.pem"
    assert (environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"]) == ("AKIAEMULATOR", "emulator-secret")
    assert environ["AWS_MAX_ATTEMPTS"] == "2" and environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    # The user's own chain for AWS: their profile stays, and nothing names an endpoint.
    own = Connection(region="eu-west-1").subprocess_environment(user)
    assert own["AWS_PROFILE"] == "prod" and own["HTTPS_PROXY"] == "http://proxy.corp.example:3128"
    assert "AWS_ENDPOINT_URL" not in own and "AWS_ACCESS_KEY_ID" not in own


def test_the_secret_never_shows_in_a_repr():
    assert "emulator-secret" not in repr(LOCAL)


def test_local_clients_ignore_the_users_profile_config_files_and_proxy(make_settings, tmp_path, monkeypatch):
    """A shell set up for a real account (a profile this machine's config lacks, a broken config file, a corporate
    proxy that does not exist here) changes nothing for the local target's clients, and they change nothing of it."""
    broken = tmp_path / "aws-config"
    broken.write_text("[profile prod\nthis is not a config file\n")
    monkeypatch.setenv("AWS_PROFILE", "prod-only-on-another-machine")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(broken))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALACCOUNTKEY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-real-secret")
    ctx = Context.of(make_settings(tmp_path / "state"))
    ctx.target.service.start()
    try:
        before = dict(os.environ)
        identity = ctx.aws.client("sts").get_caller_identity()
        assert identity["Arn"].startswith("arn:aws:"), identity
        ctx.aws.client("s3").list_buckets()
        assert dict(os.environ) == before
    finally:
        ctx.target.service.stop()


def test_a_context_connects_when_first_used_and_again_after_reconnect(make_settings, tmp_path):
    ctx = Context.of(make_settings(tmp_path))
    with pytest.raises(Exception, match="The local AWS emulator is not running"):
        ctx.aws  # noqa: B018 - the property connects
    ctx.target.service.start()
    try:
        first = ctx.aws
        assert ctx.aws is first
        ctx.target.service.stop()
        ctx.target.service.start()  # a new port and a new key
        ctx.reconnect()
        assert ctx.aws is not first
        assert ctx.aws.connection.endpoint_url == ctx.target.service.running().url
        ctx.aws.client("s3").list_buckets()
    finally:
        ctx.target.service.stop()
