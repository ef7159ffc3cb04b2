"""What the local notebook instance's conda_python3 is built over (vgsales.emulator.notebook_image), and how an
instance's pip reaches the package index: past the emulator's proxy, with the user's pip settings.

Near misses: a partial build (no completion mark) next to a complete one; a failing pip; the user's own proxy
beside the emulator's; an index on file:// (nothing to let past a proxy) beside one on https."""

from __future__ import annotations

import pytest

from vgsales import loopback
from vgsales.emulator import notebook_image


@pytest.fixture
def pins(tmp_path, monkeypatch):
    """A pins file of the test's own: offline (--no-index), so that a build takes seconds and reaches no index."""
    path = tmp_path / "pins.txt"
    monkeypatch.setattr(notebook_image, "PINS", path)
    return path


def test_an_image_is_built_once_and_a_partial_build_again(pins, tmp_path):
    pins.write_text("--no-index\n")
    cache = tmp_path / "cache"
    site = notebook_image.ensure(cache)
    folder = cache / notebook_image.digest()
    assert site.is_dir() and site.is_relative_to(folder) and (folder / notebook_image.COMPLETE).is_file()
    (site / "left-by-the-first-build").touch()
    assert notebook_image.ensure(cache) == site and (site / "left-by-the-first-build").exists()  # reused

    (folder / notebook_image.COMPLETE).unlink()  # a build that was interrupted before its end
    assert notebook_image.ensure(cache) == site
    assert not (site / "left-by-the-first-build").exists(), "a partial build was taken for a complete one"

    pins.write_text("--no-index\n# another pin\n")
    assert notebook_image.ensure(cache) != site, "a changed pins file reused the old image"


def test_a_failed_build_says_what_pip_could_not_install_and_leaves_nothing(pins, tmp_path):
    pins.write_text("--no-index\nvgsales-no-such-package==1.0\n")
    cache = tmp_path / "cache"
    with pytest.raises(notebook_image.ImageUnavailable) as raised:
        notebook_image.ensure(cache)
    message = str(raised.value)
    assert "conda_python3" in message and "vgsales-no-such-package==1.0" in message and "\n" not in message
    assert not (cache / notebook_image.digest()).exists()


def test_pip_goes_around_the_emulators_proxy_only(monkeypatch):
    emulator_proxy = "http://127.0.0.1:4567"
    monkeypatch.setenv(loopback.EMULATOR_PROXY_ENV, emulator_proxy)
    monkeypatch.setenv("HTTPS_PROXY", emulator_proxy)
    monkeypatch.setenv("https_proxy", emulator_proxy)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")  # the user's own: pip keeps it
    env = notebook_image.pip_env()
    assert "HTTPS_PROXY" not in env and "https_proxy" not in env and loopback.EMULATOR_PROXY_ENV not in env
    assert env["HTTP_PROXY"] == "http://proxy.corp.example:3128"


def test_an_instance_reaches_the_users_index_hosts_with_the_users_pip_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)  # a user who names no pip.conf of their own
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.corp.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///srv/wheels http://mirror.example:8080/simple")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "60")
    monkeypatch.setenv("HOME", str(tmp_path))
    notebook_image.index_hosts.cache_clear()
    try:
        hosts = notebook_image.index_hosts()
    finally:
        notebook_image.index_hosts.cache_clear()
    assert {"pypi.org", "files.pythonhosted.org", "pypi.corp.example", "mirror.example"} <= set(hosts)
    assert "" not in hosts and "srv" not in hosts and None not in hosts
    env = notebook_image.instance_pip_env()
    assert env["PIP_INDEX_URL"] == "https://pypi.corp.example/simple" and env["PIP_DEFAULT_TIMEOUT"] == "60"
    assert "PIP_CONFIG_FILE" not in env  # no pip.conf in this home
    (tmp_path / ".config" / "pip").mkdir(parents=True)
    (tmp_path / ".config" / "pip" / "pip.conf").write_text("[global]\n")
    assert notebook_image.instance_pip_env()["PIP_CONFIG_FILE"] == str(tmp_path / ".config" / "pip" / "pip.conf")


def test_an_instances_pip_trusts_the_ca_bundle_the_users_pip_trusts(monkeypatch):
    """pip's own order: PIP_CERT, then REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE (its vendored requests). A near miss:
    AWS_CA_BUNDLE is botocore's, never pip's. The bundle reaches the instance as PIP_CERT only."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CA_BUNDLE", "/certs/aws.pem")
    assert not {"PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR"} & set(notebook_image.instance_pip_env())
    monkeypatch.setenv("CURL_CA_BUNDLE", "/certs/curl.pem")
    assert notebook_image.instance_pip_env()["PIP_CERT"] == "/certs/curl.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/certs/requests.pem")
    assert notebook_image.instance_pip_env()["PIP_CERT"] == "/certs/requests.pem"
    monkeypatch.setenv("PIP_CERT", "/certs/pip.pem")
    env = notebook_image.instance_pip_env()
    assert env["PIP_CERT"] == "/certs/pip.pem"
    assert not {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE"} & set(env)
    # pip 24.2 and newer verify through the system store (truststore), which OpenSSL finds by these two.
    monkeypatch.setenv("SSL_CERT_FILE", "/certs/system.pem")
    monkeypatch.setenv("SSL_CERT_DIR", "/certs/system")
    env = notebook_image.instance_pip_env()
    assert (env["SSL_CERT_FILE"], env["SSL_CERT_DIR"]) == ("/certs/system.pem", "/certs/system")


def test_setup_builds_the_image_as_a_step_of_its_own_and_says_what_to_do_without_an_index(monkeypatch):
    """The local target's hook (targets/local.py), which setup runs before Terraform creates the instance."""
    from vgsales.errors import WorkshopError
    from vgsales.targets import local

    built: list[bool] = []
    monkeypatch.setattr(notebook_image, "is_built", lambda: True)
    monkeypatch.setattr(notebook_image, "ensure", lambda: built.append(True))
    assert local.prepare_notebook_instances() is False and built == []  # reused, nothing run

    monkeypatch.setattr(notebook_image, "is_built", lambda: False)
    assert local.prepare_notebook_instances() is True and built == [True]

    def unreachable():
        raise notebook_image.ImageUnavailable("pip said: ERROR: No matching distribution found for sagemaker==2.257.7.")

    monkeypatch.setattr(notebook_image, "ensure", unreachable)
    with pytest.raises(WorkshopError) as raised:
        local.prepare_notebook_instances()
    assert "sagemaker==2.257.7" in str(raised.value) and "terraform.create_notebook_instance to false" in str(raised.value)
