"""The Python environment a script runs in: one of the job's (or endpoint's) own, over what the image provides.

The XGBoost framework image gives a script Python with xgboost, numpy, pandas, scipy and scikit-learn, plus the
container's own packages (sagemaker_containers, sagemaker_xgboost_container). Locally a job's environment is a venv
in the job's folder that reads, after its own site-packages:
- runtime/, the container's helper modules as this project writes them, on script processes' path only;
- this machine's XGBoost and its scientific stack: the emulator's own site-packages, added as a plain path (not a
  site folder), so that its .pth files do not count and this project's editable package is not importable there.

The code's requirements.txt is installed into the venv, never into the project's environment, as the container
installs it before it runs the script (sagemaker-containers _modules.install: `pip install -r requirements.txt`).
pip reaches the user's package index with their own pip settings, never through the emulator's proxy; what is
already there (numpy, say) is satisfied without the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import notebook_image
from . import host

RUNTIME = Path(__file__).with_name("runtime")
REQUIREMENTS = "requirements.txt"
PIP_TIMEOUT_SECONDS = 600.0
POLL_SECONDS = 0.2  # how often a running pip is asked whether its job was stopped


class SetupFailure(Exception):
    """The code's environment could not be made; the message says what could not be installed."""


class SetupStopped(Exception):
    """The job was stopped while its requirements were being installed."""


@dataclass(frozen=True)
class ScriptEnvironment:
    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    @property
    def home(self) -> Path:
        """The processes' HOME, beside the venv: a container's home is its own, and a script's dotfiles (a cache,
        ~/.aws) stay out of the user's."""
        return self.folder.parent / "home"

    @property
    def temporary(self) -> Path:
        """The processes' TMPDIR, beside the venv: a container's /tmp is its own, and what a killed script leaves
        there (get_dmatrix's links, say) goes with the job's folder."""
        return self.folder.parent / "tmp"


def create(folder: Path) -> ScriptEnvironment:
    """A venv of the job's own in ``folder`` (a fraction of a second: it copies nothing)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, capture_output=True)
    environment = ScriptEnvironment(folder)
    environment.temporary.mkdir(mode=0o700, exist_ok=True)
    environment.home.mkdir(mode=0o700, exist_ok=True)
    purelib = subprocess.run(
        [str(environment.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    image = sysconfig.get_paths()["purelib"]
    Path(purelib, "vgsales-framework-image.pth").write_text(f"{RUNTIME}\n{image}\n", encoding="utf-8")
    return environment


def install_requirements(
    environment: ScriptEnvironment,
    code_dir: Path,
    log: Callable[[str], None],
    script_host: host.Host | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """pip install -r requirements.txt into the environment, when the code has one. pip runs as a process of the
    host's (so that the emulator's stop ends it), and ``should_stop`` is asked while it runs: a stopped job does not
    wait for pip. Raises SetupFailure with pip's reason, or SetupStopped."""
    requirements = code_dir / REQUIREMENTS
    if not requirements.is_file():
        return
    log(f"Installing the code's {REQUIREMENTS} into an environment of its own.")
    command = [sys.executable, "-m", "pip", "--python", str(environment.python), "install", "--disable-pip-version-check",
               "--no-input", "--progress-bar", "off", "-r", str(requirements)]  # fmt: skip
    env = {**pip_env(), "PIP_NO_INPUT": "1"}
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "stdin": subprocess.DEVNULL, "text": True}
    process = (host.start(script_host, command, env, cwd=code_dir, **pipes) if script_host is not None
               else subprocess.Popen(command, env=env, cwd=code_dir, start_new_session=True, **pipes))  # type: ignore[call-overload]
    deadline = time.monotonic() + PIP_TIMEOUT_SECONDS
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if should_stop():
                    raise SetupStopped() from None
                if time.monotonic() > deadline:
                    raise SetupFailure(f"InstallModuleError: pip install -r {REQUIREMENTS} did not finish within "
                                       f"{PIP_TIMEOUT_SECONDS:.0f} s") from None
    finally:
        host.end(process, script_host)
    for line in (stdout + stderr).splitlines():
        if line.strip():
            log(line)
    if process.returncode != 0:
        said = [line for line in stderr.splitlines() if line.startswith("ERROR")] or stderr.splitlines()
        raise SetupFailure(
            f"InstallModuleError: pip install -r {REQUIREMENTS} failed (exit {process.returncode}): "
            f"{' '.join(said[-2:]).strip() or 'no message'}. The requirements are installed from your package index "
            "with your pip settings; check that each can be installed there."
        )


def pip_env() -> dict[str, str]:
    """What the job's pip runs with: this machine's environment without the emulator's proxy and AWS keys."""
    return {key: value for key, value in notebook_image.pip_env().items() if not key.startswith("AWS_")}


def base_env(environment: ScriptEnvironment) -> dict[str, str]:
    """What every script process gets besides its job's own variables: its venv first on PATH, a language, a home.
    Nothing else of the emulator's environment: no AWS keys, no proxy, no project paths."""
    return {
        "PATH": os.pathsep.join([str(environment.python.parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(environment.home),
        "TMPDIR": str(environment.temporary),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
