"""What AWS preinstalls in a notebook instance's conda_python3, for the local notebook instance.

On AWS, conda_python3 holds the SageMaker Python SDK v2 beside boto3, pandas, matplotlib and ipykernel, and
notebooks written for SageMaker (AWS's own samples, the original workshop notebook) import them unchanged. This
project's environment cannot stand in for it: its sagemaker-core 2.x (SDK v3) and SDK v2 both install
`sagemaker/__init__.py`. So the local instance's conda_python3 is built over an environment of its own, made once
per machine from notebook_image.txt with pip (from the user's configured package index, never through the
emulator's proxy) and kept in the user's cache folder under the digest of what it was built from. Each instance's
conda_python3 is a venv over it (notebook_instances._make_env), so what a learner installs stays in the instance.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .. import loopback

PINS = Path(__file__).with_name("notebook_image.txt")
COMPLETE = "complete"  # written last: a folder without it is a build that did not finish
PIP_TIMEOUT_SECONDS = 900
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
_INDEX_SETTINGS = ("index-url", "extra-index-url", "find-links")
_OPENSSL_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR")


class ImageUnavailable(Exception):
    """The image could not be built: the message says what pip could not install."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vgsales" / "notebook-image"


def digest() -> str:
    """What the image is built from: the pins and the interpreter (a venv is tied to its Python)."""
    source = f"{sys.version} {os.path.realpath(sys.executable)}\n{PINS.read_text(encoding='utf-8')}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def is_built(cache_dir: Path | None = None) -> bool:
    """Whether this machine has the image already (a complete build for the current pins and interpreter)."""
    return ((cache_dir or default_cache_dir()) / digest() / COMPLETE).is_file()


def ensure(cache_dir: Path | None = None) -> Path:
    """The image's site-packages folder, built first if this machine has none (minutes, once; pip's cache helps).

    Builds from several emulators or test workers wait for one another on a lock file and then share the result.
    """
    base = cache_dir or default_cache_dir()
    folder = base / digest()
    if (folder / COMPLETE).is_file():
        return _purelib(folder)
    base.mkdir(parents=True, exist_ok=True)
    with (base / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / COMPLETE).is_file():
            _build(folder)
    return _purelib(folder)


def _build(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    command = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-r", str(PINS)]  # fmt: skip
    try:
        result = subprocess.run(command, env=pip_env(), capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImageUnavailable(_reason(f"pip did not finish within {PIP_TIMEOUT_SECONDS // 60} minutes")) from None
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        said = [line for line in result.stderr.splitlines() if line.startswith("ERROR")] or result.stderr.splitlines()
        raise ImageUnavailable(_reason(f"pip said: {' '.join(said[-2:]).strip() or 'nothing'}"))
    (folder / COMPLETE).write_text(PINS.read_text(encoding="utf-8"), encoding="utf-8")


def _reason(detail: str) -> str:
    return (
        "The local notebook instance could not prepare conda_python3 (the SageMaker Python SDK v2 and the packages "
        f"AWS preinstalls there, {PINS.name}): {detail}. They are installed once per machine from your package "
        "index (pip's own configuration); once it is reachable, start the instance again."
    )


def pip_env() -> dict[str, str]:
    """This process's environment without the emulator's own proxy, which takes AWS hostnames only: pip reaches the
    package index as the user's shell would (the emulator never forwards a request off the machine)."""
    env = dict(os.environ)
    emulator_proxy = env.pop(loopback.EMULATOR_PROXY_ENV, None)
    if emulator_proxy:
        for name in _PROXY_VARIABLES:
            if env.get(name) == emulator_proxy:
                del env[name]
    return env


def instance_pip_env() -> dict[str, str]:
    """What a notebook instance's pip needs to reach the user's package index, as an instance with direct internet
    access reaches PyPI: the user's pip settings (PIP_* variables, their pip.conf, which the instance's own home
    would hide, and the CA bundle their pip trusts), and the index's hosts in NO_PROXY, past the emulator's proxy that
    the instance's AWS clients use."""
    env = {name: value for name, value in os.environ.items() if name.startswith("PIP_")}
    user_config = Path.home() / ".config" / "pip" / "pip.conf"
    if "PIP_CONFIG_FILE" not in env and user_config.is_file():
        env["PIP_CONFIG_FILE"] = str(user_config)
    # The CA bundle the user's pip verifies the index with. Without PIP_CERT, pip's vendored requests takes
    # REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE (pip/_vendor/requests/sessions.py, merge_environment_settings); pip
    # 24.2 and newer also read the system store through truststore, where SSL_CERT_FILE and SSL_CERT_DIR point
    # OpenSSL. Behind a proxy that re-signs TLS with its own CA, an instance without them fails on-create's install
    # with CERTIFICATE_VERIFY_FAILED ("from versions: none") while the user's own pip works. The bundle reaches the
    # instance as PIP_CERT, pip's own setting, so that requests in the learner's code keeps its defaults.
    bundle = env.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        env["PIP_CERT"] = bundle
    env.update({name: os.environ[name] for name in _OPENSSL_TRUST if name in os.environ})
    return env


@functools.cache
def index_hosts() -> tuple[str, ...]:
    """The hosts pip fetches packages from: PyPI's, and those of the index URLs in the user's pip settings."""
    urls = [url for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
            for url in os.environ.get(name, "").split()]  # fmt: skip
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], env=pip_env(), capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    for line in listed.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.rsplit(".", 1)[-1] in _INDEX_SETTINGS:
            urls += value.strip().strip("'\"").split()
    hosts = {urlsplit(url).hostname for url in urls if urlsplit(url).scheme in ("http", "https")}
    return tuple(sorted({*PYPI_HOSTS, *(host for host in hosts if host)}))


def _purelib(folder: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return folder / "lib" / version / "site-packages"


if __name__ == "__main__":  # `python -m vgsales.emulator.notebook_image`: build ahead (CI does, before its tests)
    print(ensure())
