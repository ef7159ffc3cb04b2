"""Tools that are not AWS clients (pip building the notebook bundle, the emulator's own server) run in the user's
own environment: never with the target's endpoint, CA bundle, credentials or the emulator's proxy, which the
user's shell may hold (`eval "$(invoke emulator.env)"`). The library itself never puts them in the process's
environment (tests/layout checks that no library code writes os.environ).

The bundle test reproduces the fresh-laptop failure: pip talks to one HTTPS index and nothing else (no local
mirror to fall back on), and the emulator's proxy, which refuses every host that is not AWS's, is in the caller's
environment. The index listens on 127.0.0.2, which the emulator's NO_PROXY (127.0.0.1, localhost, ::1) does not
cover, just as it does not cover pypi.org.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import os
import re
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vgsales import targets
from vgsales.emulator import endpoint, notebook_image, notebook_instances, tls
from vgsales.emulator.proxy import TunnelProxy
from vgsales.infra import bundle
from vgsales.targets.local import Emulator

INDEX_HOST = "127.0.0.2"  # loopback, but outside the emulator's NO_PROXY


@pytest.fixture(scope="module")
def emulator_proxy():
    """The emulator's real proxy (it refuses every host that is not AWS's); its upstream is never reached here."""
    proxy = TunnelProxy("127.0.0.1", upstream=("127.0.0.1", 9)).start()
    yield proxy
    proxy.stop()


def emulator_shell(proxy_url: str) -> dict[str, str]:
    """What `eval "$(invoke emulator.env)"` leaves in a shell, with this proxy."""
    credentials = endpoint.Credentials("AKIAEMULATOR00000001", "emulator-secret-never-for-pip")
    return targets.marked(
        endpoint.client_env("https://127.0.0.1:1", "/nonexistent/emulator-ca.pem", credentials, proxy_url=proxy_url)
    )


@pytest.fixture(scope="module")
def package_index(tmp_path_factory):
    """An HTTPS package index (PEP 503) on 127.0.0.2 that serves setuptools, as PyPI would; (url, CA file)."""
    root = tmp_path_factory.mktemp("index")
    project = root / "simple" / "setuptools"
    project.mkdir(parents=True)
    needed = bundle._required_setuptools(bundle.PROJECT_DIR)
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "--dest", str(project), f"setuptools>={needed}"],
        capture_output=True, text=True, env=targets.own_environment(), check=False,
    )  # fmt: skip
    if fetched.returncode != 0:
        reason = f"pip cannot fetch setuptools>={needed} to serve it: {fetched.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must reach a package index: {reason}")
        pytest.skip(reason)
    (wheel,) = project.glob("setuptools-*.whl")
    (project / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n')
    certificate = tls.issue(root / "tls", names=(INDEX_HOST,))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer((INDEX_HOST, 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://{INDEX_HOST}:{server.server_address[1]}/simple/", certificate.ca_bundle, server
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        _QuietHandler.requests.append(self.path)


def _only_this_index(monkeypatch, url: str, ca: Path) -> None:
    """pip as on a laptop with no local mirror: one index, no config files, no find-links, no constraints."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", url)
    # Trusted rather than verified against `ca`: pip's truststore context does not take a custom CA in its build
    # subprocess (pip 26.3). The connection is still HTTPS, which is what HTTPS_PROXY applies to.
    monkeypatch.setenv("PIP_TRUSTED_HOST", url.split("/")[2])
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "20")


def test_the_bundles_pip_reaches_its_index_with_the_emulators_proxy_in_the_shell(
    package_index, emulator_proxy, monkeypatch, tmp_path
):
    url, ca, _server = package_index
    _only_this_index(monkeypatch, url, ca)
    shell = emulator_shell(emulator_proxy.url)
    for name, value in shell.items():  # the user's shell after eval "$(invoke emulator.env)"
        monkeypatch.setenv(name, value)
    # The wheel is built in pip's isolated build environment, which needs setuptools from the index.
    monkeypatch.setattr(bundle, "_installed_setuptools_suffices", lambda project_dir: False)
    seen: list[dict[str, str]] = []
    run = subprocess.run

    def spy(command, **kwargs):
        seen.append(dict(kwargs["env"]))
        return run(command, **kwargs)

    monkeypatch.setattr(bundle.subprocess, "run", spy)
    _QuietHandler.requests.clear()
    assert bundle.build_bundle(tmp_path / "bundle", cache_dir=tmp_path / "fresh-cache") is True

    (pip_env,) = seen
    assert not set(shell) & set(pip_env), "pip got the emulator's environment"
    assert pip_env["PIP_INDEX_URL"] == url, "the user's own pip settings stay"
    assert any(path.startswith("/simple/setuptools") for path in _QuietHandler.requests), "pip used the index"


def test_a_notebook_instances_pip_trusts_the_ca_bundle_the_users_pip_trusts(
    package_index, emulator_proxy, monkeypatch, tmp_path
):
    """A laptop behind a proxy that re-signs TLS with its own CA: the user's pip trusts it through
    REQUESTS_CA_BUNDLE, and on-create's install in the local notebook instance must too. The instance's pip is the
    image's (what a local conda_python3 runs; pip 23.2 on Python 3.11, whose certifi bundle lacks the CA), in the
    environment the instance's scripts get, with the emulator's proxy in it: without the bundle it says
    CERTIFICATE_VERIFY_FAILED and "from versions: none"."""
    url, ca, _server = package_index
    for name in list(os.environ):
        if name.startswith("PIP_") or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))  # the user's shell: their pip works
    monkeypatch.setenv("AWS_CA_BUNDLE", "/nonexistent/users-aws-ca.pem")  # botocore's, which pip never reads

    def identity_env(key_id: str, secret: str, token: str, region: str) -> dict[str, str]:
        env = endpoint.client_env("https://127.0.0.1:1", "/nonexistent/emulator-ca.pem",
                                  endpoint.Credentials(key_id, secret), region, proxy_url=emulator_proxy.url)  # fmt: skip
        return {**env, "AWS_SESSION_TOKEN": token}

    host = notebook_instances.Host(tmp_path / "instances", identity_env)
    instance = notebook_instances.Instance(host, "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/ca", "ca")
    launch = notebook_instances.Launch(
        arn=instance.arn, name=instance.name, region="us-east-1", credentials=("ASIAROLE", "secret", "token"),
        on_create=None, on_start=None, lifecycle_arn=None, first_start=True, log_stream=lambda name: None,
    )  # fmt: skip
    notebook_image.index_hosts.cache_clear()
    try:
        env = instance.environment(launch)
    finally:
        notebook_image.index_hosts.cache_clear()
    assert "REQUESTS_CA_BUNDLE" not in env, "the learner's own requests code keeps its defaults"
    image_python = notebook_image.ensure().parents[2] / "bin" / "python"
    _QuietHandler.requests.clear()
    result = subprocess.run(
        [str(image_python), "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(tmp_path / "got"),
         "setuptools"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-600:]
    assert list((tmp_path / "got").glob("setuptools-*.whl")), "pip downloaded nothing"
    assert any(path.startswith("/simple/setuptools") for path in _QuietHandler.requests), "pip used the index"


def test_a_users_own_proxy_and_ca_bundle_stay_for_tools(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.corp.example/simple/")
    monkeypatch.delenv(targets.TARGET_VARIABLES, raising=False)
    own = targets.own_environment()
    assert own["HTTPS_PROXY"] == "http://proxy.corp.example:3128"
    assert own["AWS_CA_BUNDLE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert own["PIP_INDEX_URL"] == "https://pypi.corp.example/simple/"
    assert own == dict(os.environ), "with no target variables in the shell, nothing is taken out"


def test_only_the_variables_a_target_named_are_taken_out(monkeypatch, emulator_proxy):
    """A near miss: a variable of the same family that the emulator's environment did not set stays."""
    shell = emulator_shell(emulator_proxy.url)
    for name, value in shell.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")  # not set by the emulator's environment
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    own = targets.own_environment()
    assert own["HTTP_PROXY"] == "http://proxy.corp.example:3128"
    assert own["AWS_RETRY_MODE"] == "standard"
    assert not set(shell) & set(own)
    assert set(shell[targets.TARGET_VARIABLES].split(",")) == set(shell)


def test_the_proxy_says_why_and_what_to_do_in_the_status_line_clients_print(emulator_proxy):
    """pip, requests and http.client print 'Tunnel connection failed: 403 <reason phrase>' and nothing of the body."""
    connection = http.client.HTTPSConnection("127.0.0.1", emulator_proxy.port, timeout=10)
    connection.set_tunnel("pypi.org", 443)
    with pytest.raises(OSError) as refused:
        connection.request("GET", "/simple/")
    message = str(refused.value)
    assert message.startswith("Tunnel connection failed: 403 Forbidden: 'pypi.org' is not an AWS hostname.")
    assert "invoke emulator.env" in message and "env -u HTTPS_PROXY -u https_proxy <command>" in message


def test_pip_prints_the_proxys_reason(emulator_proxy, tmp_path):
    """The words a user sees, from pip itself (one attempt, so it fails at once)."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    environ.update(PIP_CONFIG_FILE=os.devnull, HTTPS_PROXY=emulator_proxy.url, https_proxy=emulator_proxy.url)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--retries", "1", "--timeout", "10", "--no-deps", "--dest",
         str(tmp_path), "--index-url", "https://pypi.org/simple/", "six"],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "403 Forbidden: 'pypi.org' is not an AWS hostname." in result.stdout + result.stderr
    assert "env -u HTTPS_PROXY -u https_proxy" in result.stdout + result.stderr


def test_the_emulators_server_starts_from_the_users_own_environment(monkeypatch, make_settings, tmp_path, emulator_proxy):
    """The server is no AWS client either: a previous emulator's proxy in the shell does not follow it."""
    for name, value in emulator_shell(emulator_proxy.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VGSALES_OWN_VARIABLE", "kept")
    service = Emulator(make_settings(tmp_path / ".workshop"))
    info, started = service.start()
    try:
        assert started
        with open(f"/proc/{info.pid}/environ", "rb") as handle:
            names = {entry.split(b"=", 1)[0].decode() for entry in handle.read().split(b"\0") if entry}
        assert "VGSALES_OWN_VARIABLE" in names
        assert not names & {"HTTPS_PROXY", "https_proxy", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", targets.TARGET_VARIABLES}
    finally:
        service.stop()


def test_invoke_setup_with_pip_on_one_index_and_the_emulators_proxy_in_the_shell(
    package_index, emulator_proxy, tmp_path, terraform_available
):
    """The fresh-laptop run itself: `invoke setup` in a shell after `eval "$(invoke emulator.env)"`, with pip
    configured for one index and no mirror to fall back on, and no bundle cached yet."""
    if bundle._installed_setuptools_suffices(bundle.PROJECT_DIR):
        reason = "this venv's setuptools satisfies the build, so pip never asks an index (a fresh venv's does not)"
        if os.environ.get("CI"):
            pytest.fail(f"CI's fresh venv must build the wheel in pip's isolated build environment: {reason}")
        pytest.skip(reason)
    url, _ca, _server = package_index
    # What the local notebook instance's conda_python3 is built over is made once per machine (notebook_image.py),
    # from PyPI, which this index does not stand in for: this laptop has it, as CI's install step built it.
    image_cache = tmp_path / "cache" / "vgsales" / "notebook-image"
    image_cache.parent.mkdir(parents=True)
    notebook_image.ensure()
    image_cache.symlink_to(notebook_image.default_cache_dir(), target_is_directory=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PIP_", "INVOKE_WORKSHOP_"))}
    env.update(emulator_shell(emulator_proxy.url))
    env.update(
        PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=url, PIP_TRUSTED_HOST=url.split("/")[2], PIP_RETRIES="0",
        XDG_CACHE_HOME=str(tmp_path / "cache"), INVOKE_WORKSHOP_STATE_DIR=str(tmp_path / ".workshop"),
        INVOKE_WORKSHOP_NAME_PREFIX="vgfresh", COLUMNS="200", TERM="dumb",
    )  # fmt: skip
    _QuietHandler.requests.clear()
    command = [sys.executable, "-m", "invoke"]
    try:
        setup = subprocess.run([*command, "setup"], cwd=bundle.PROJECT_DIR, env=env, capture_output=True, text=True,
                               timeout=300, check=False)  # fmt: skip
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert "✓ Notebook bundle" in setup.stdout and "Tunnel connection failed" not in setup.stdout + setup.stderr
        # conda_python3's image is this machine's already (above): shown as a step, and reused
        assert re.search(r"conda_python3 for notebook instances \(once per machine\).*built before, reused", setup.stdout)
        assert any(path.startswith("/simple/setuptools") for path in _QuietHandler.requests), "pip used the index"
    finally:
        subprocess.run([*command, "teardown"], cwd=bundle.PROJECT_DIR, env=env, capture_output=True, timeout=300,
                       check=False)  # fmt: skip
