"""Notebook instances run for real: each InService instance is a JupyterLab on loopback, prepared by its lifecycle
configuration and signed into by presigned URL only (notebook_server.py).

compat/sagemaker.py's NotebookBackend keeps the API's records; this module runs what they describe. An instance
lives in a folder of its own under the host's root (mode 0700), which stands in for its filesystem:

    home/              /home/ec2-user; only home/SageMaker (the instance's volume) survives a stop, as on AWS;
                       home/.local/share/jupyter is Jupyter's user data folder, where on-start registers kernels
    system/            rebuilt at every start:
      conda/python3/   the conda_python3 environment (a venv over what AWS preinstalls there, notebook_image.py)
      root/            "/" for what on-start writes outside the home (systemd units, /usr/local/bin, /opt/ml)
      bin/             stand-ins for what only an instance has (systemctl)
      jupyter/         Jupyter's config, data (the conda_python3 kernel spec) and runtime folders, and its log
      grants/          one file per presigned URL not yet used (notebook_server.py)

A start (CreateNotebookInstance, StartNotebookInstance) runs in a thread: Pending while on-create (the first start
only) and on-start run, each as its own process group with AWS's 5-minute limit and its output in CloudWatch Logs
(group /aws/sagemaker/NotebookInstances, streams <instance>/LifecycleConfigOnCreate and .../LifecycleConfigOnStart);
then JupyterLab starts and the instance is InService once it answers. A script that fails or runs too long, or a
server that does not answer, makes it Failed with the reason. Every process started for an instance carries its
mark in its environment, so stopping it ends all of them, including what a script left running in a session of its
own (on-create's background pip install): no process outlives its instance, its emulator, or moto's reset.

Scripts, the terminal and the kernel act as the notebook identity: a session of the instance's execution role
(RoleSessionName SageMaker, as on AWS), issued at each start by the emulator's STS, with the emulator's endpoint,
CA bundle and proxy, so that AWS's clients in them reach the emulator and nothing else.
"""

from __future__ import annotations

import base64
import getpass
import http.client
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from .. import loopback
from . import local_hosts, notebook_grants, notebook_image
from .backends import LogStream

log = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/NotebookInstances"
LIFECYCLE_LIMIT_SECONDS = 300.0  # AWS: "Lifecycle configuration scripts cannot run for longer than 5 minutes."
URL_SECONDS = 300  # a presigned URL signs in within 5 minutes of its creation
DEFAULT_SESSION_SECONDS = 12 * 3600  # SessionExpirationDurationInSeconds when not given
ROLE_SESSION_NAME = "SageMaker"  # the notebook identity's session name on AWS
ROLE_SESSION_SECONDS = 12 * 3600
READY_SECONDS = 90.0  # JupyterLab's start, to its first answer
STOP_GRACE_SECONDS = 5.0
MARK = "VGSALES_NOTEBOOK_INSTANCE"  # in the environment of every process started for an instance
# AWS documents the scripts' PATH as /sbin:bin:/usr/sbin:/usr/bin (NotebookInstanceLifecycleHook); the instance's
# stand-ins, its conda_python3 and this machine's AWS CLI (which AWS preinstalls) come first.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KERNEL_NAME = "conda_python3"
# systemd is PID 1 of a real instance. The local instance has none: on-start's units are written (under system/root)
# but not run, so its idle auto-stop timer never fires locally. The stand-in says so in the script's log.
SYSTEMCTL_STAND_IN = """#!/bin/sh
echo "systemctl $*: the local notebook instance runs no systemd; the unit files are written but not started" >&2
"""


PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


class InstanceFailure(Exception):
    """Why a start failed: the instance's FailureReason."""


@dataclass(frozen=True)
class Host:
    """Where and how this emulator runs notebook instances (set by server.EmulatorServer)."""

    root: Path
    client_env: Callable[[str, str, str, str], dict[str, str]]  # (key id, secret, session token, region) -> env
    lifecycle_limit_seconds: float = LIFECYCLE_LIMIT_SECONDS
    clock: Callable[[], float] = time.time  # stamps presigned URLs (tests move it)


# The hosts of this process's emulators, newest last. Servers in one process share moto's state (the tests start
# several), so each adds its own host and removes only that one, with the instances started under it.
_hosts: local_hosts.Hosts[Host] = local_hosts.Hosts()
_running: dict[str, Instance] = {}  # by instance ARN
_lock = threading.Lock()


def add_host(host: Host) -> None:
    _hosts.add(host)


def remove_host(host: Host) -> None:
    """Stop the instances started under this host, and forget it."""
    _hosts.remove(host)
    with _lock:
        instances = [instance for instance in _running.values() if instance.host is host]
        for instance in instances:
            del _running[instance.arn]
    for instance in instances:
        instance.stop()


def end_orphans(root: Path) -> None:
    """End what an earlier emulator's instances left running under ``root`` (a killed emulator stops nothing: its
    JupyterLabs end themselves, notebook_server.py, but a script's background job may not). Without the folder
    there is nothing to look for, and an emulator's start scans no process table."""
    under_root = str(root) + os.sep
    local_hosts.kill_marked(root, lambda environ: MARK in environ and environ.get("HOME", "").startswith(under_root))


def current_host() -> Host | None:
    """Where a notebook instance starts now: the newest running emulator's host."""
    return _hosts.current()


def stop_all() -> None:
    """Stop every instance's processes (the emulator's exit)."""
    with _lock:
        instances = list(_running.values())
    for instance in instances:
        instance.stop()


@dataclass(frozen=True)
class Launch:
    """What a start needs from the API's records, gathered in the request's thread."""

    arn: str
    name: str
    region: str
    credentials: tuple[str, str, str]  # the role session: access key id, secret, session token
    on_create: str | None  # base64, as the lifecycle configuration holds it
    on_start: str | None
    lifecycle_arn: str | None
    first_start: bool
    log_stream: Callable[[str], LogStream]  # a stream of LOG_GROUP by name


class Instance:
    """One notebook instance's folder and processes."""

    def __init__(self, host: Host, arn: str, name: str) -> None:
        self.host = host
        self.arn = arn
        self.name = name
        self.folder = host.root / _folder_name(arn)
        self.mark = secrets.token_hex(8)
        self.port = 0
        self._server: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()

    # --- folders ----------------------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def volume(self) -> Path:
        return self.home / "SageMaker"

    @property
    def system(self) -> Path:
        return self.folder / "system"

    @property
    def grants(self) -> Path:
        return self.system / "grants"

    @property
    def env_python(self) -> Path:
        return self.system / "conda" / "python3" / "bin" / "python"

    def _rebuild(self) -> None:
        """Everything but the volume, anew: what the root volume of a started instance holds."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)
        if self.system.exists():
            shutil.rmtree(self.system)
        if self.home.exists():
            for entry in self.home.iterdir():
                if entry.name == self.volume.name:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        self.volume.mkdir(parents=True, exist_ok=True)
        for folder in ("root/opt/ml/metadata", "bin", "jupyter/config", "jupyter/data", "jupyter/runtime", "grants"):
            (self.system / folder).mkdir(parents=True, exist_ok=True)
        self.grants.chmod(0o700)
        stand_in = self.system / "bin" / "systemctl"
        stand_in.write_text(SYSTEMCTL_STAND_IN, encoding="utf-8")
        stand_in.chmod(0o755)
        # What an instance finds at /opt/ml/metadata/resource-metadata.json (on-start's idle checker reads it).
        metadata = {"ResourceArn": self.arn, "ResourceName": self.name}
        (self.system / "root/opt/ml/metadata/resource-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        try:
            image = notebook_image.ensure()
        except notebook_image.ImageUnavailable as error:
            raise InstanceFailure(str(error)) from None
        _make_env(self.system / "conda" / "python3", image)
        kernel_dir = self.system / "jupyter" / "data" / "kernels" / KERNEL_NAME
        kernel_dir.mkdir(parents=True)
        kernel = {
            "argv": [str(self.env_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL_NAME,
            "language": "python",
            "metadata": {"debugger": True},
        }
        (kernel_dir / "kernel.json").write_text(json.dumps(kernel, indent=1), encoding="utf-8")
        # JupyterLab's news prompt would fetch a feed from the internet; an instance's JupyterLab shows none.
        labconfig = self.system / "jupyter" / "config" / "labconfig"
        labconfig.mkdir(parents=True)
        (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG), encoding="utf-8")

    def environment(self, launch: Launch) -> dict[str, str]:
        """The notebook identity's environment, shared by the scripts, JupyterLab, its terminals and kernels."""
        key_id, secret, token = launch.credentials
        env = {
            "HOME": str(self.home),
            "USER": getpass.getuser(),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PATH": os.pathsep.join([str(self.system / "bin"), str(self.env_python.parent), _tool_dir(), SYSTEM_PATH]),
            "AWS_REGION": launch.region,
            "AWS_DEFAULT_REGION": launch.region,
            "JUPYTER_CONFIG_DIR": str(self.system / "jupyter" / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.system / "jupyter" / "runtime"),
            # Jupyter's user data folder stays ~/.local/share/jupyter, as on an instance: kernels that on-start or
            # the learner register with `ipykernel install --user` go there. conda_python3's spec is the system's.
            "JUPYTER_PATH": str(self.system / "jupyter" / "data"),
            MARK: self.mark,
            # The lifecycle scripts' sandbox switches (terraform/modules/notebook-instance/scripts): the instance's
            # user is whoever runs the emulator (so on-create's `sudo -u ec2-user` is not needed), its home and
            # "/" are the folders above, and Jupyter listens where this instance's does.
            "VGSALES_NOTEBOOK_USER": getpass.getuser(),
            "VGSALES_NOTEBOOK_HOME": str(self.home),
            "VGSALES_CONDA_PYTHON": str(self.env_python),
            "VGSALES_ROOT": str(self.system / "root"),
            "VGSALES_JUPYTER_URL": f"http://127.0.0.1:{self.port}",
        }
        env.update(self.host.client_env(key_id, secret, token, launch.region))
        # pip reaches the package index directly, as on an instance with direct internet access (on-create's install,
        # the learner's own): the emulator's proxy takes AWS hostnames only and forwards nothing off the machine.
        env.update(notebook_image.instance_pip_env())
        for name in ("NO_PROXY", "no_proxy"):
            env[name] = ",".join(filter(None, [env.get(name, ""), *notebook_image.index_hosts()]))
        return env

    # --- start ------------------------------------------------------------------------------------------
    def begin(self) -> None:
        """A new start: called before its thread runs, so that a stop that comes after it is never undone."""
        self._stopping.clear()

    def _check_not_stopped(self) -> None:
        if self._stopping.is_set():
            raise InstanceFailure("The notebook instance was stopped while it started.")

    def start(self, launch: Launch) -> None:
        """Rebuild, run the lifecycle scripts, start JupyterLab; raises InstanceFailure with the reason."""
        self._check_not_stopped()
        self._rebuild()
        self.port = _free_port()
        env = self.environment(launch)
        hooks = [("OnCreate", launch.on_create)] if launch.first_start else []
        hooks.append(("OnStart", launch.on_start))
        for hook, content in hooks:
            if content:
                self._run_script(hook, content, env, launch)
        self._start_server(env)

    def _run_script(self, hook: str, content: str, env: dict[str, str], launch: Launch) -> None:
        self._check_not_stopped()
        script = self.system / f"lifecycle-{hook}.sh"
        script.write_bytes(base64.b64decode(content))
        script.chmod(0o700)
        stream = launch.log_stream(f"{self.name}/LifecycleConfig{hook}")
        process = subprocess.Popen(
            ["/bin/bash", str(script)], cwd=self.home, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_unblock_signals,
        )  # fmt: skip
        reader = threading.Thread(target=_forward, args=(process, stream), name=f"lifecycle-{self.name}", daemon=True)
        reader.start()
        try:
            code = process.wait(self.host.lifecycle_limit_seconds)
        except subprocess.TimeoutExpired:
            _end_group(process)
            reader.join(STOP_GRACE_SECONDS)
            raise InstanceFailure(
                f"Notebook Instance Lifecycle Config '{launch.lifecycle_arn}' for Notebook Instance '{self.arn}' took "
                f"longer than {self.host.lifecycle_limit_seconds / 60:g} minutes. Please check your CloudWatch logs "
                "for more details if your Notebook Instance has Internet access."
            ) from None
        reader.join(STOP_GRACE_SECONDS)
        self._check_not_stopped()
        if code != 0:
            raise InstanceFailure(
                f"Notebook Instance Lifecycle Config '{launch.lifecycle_arn}' for Notebook Instance '{self.arn}' "
                f"failed with exit code {code} in {hook}. Please check your CloudWatch logs for more details if "
                "your Notebook Instance has Internet access."
            )

    def _start_server(self, env: dict[str, str]) -> None:
        provider = "vgsales.emulator.notebook_server.PresignedIdentityProvider"
        kernels = "vgsales.emulator.notebook_server.InstanceKernelSpecManager"
        command = [
            sys.executable, "-m", "jupyterlab",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.volume}", "--ServerApp.open_browser=False",
            "--ServerApp.default_url=/lab", "--ServerApp.log_level=WARN",
            f"--ServerApp.identity_provider_class={provider}",
            f"--PresignedIdentityProvider.grants_dir={self.grants}",
            # No token of Jupyter's own: it would sign nobody in (notebook_server.py) and only be printed in the log.
            "--PresignedIdentityProvider.token=",
            "--PresignedIdentityProvider.login_handler_class=vgsales.emulator.notebook_server.SignInAgainHandler",
            f"--ServerApp.kernel_spec_manager_class={kernels}", f"--InstanceKernelSpecManager.instance_folder={self.folder}",
            "--KernelSpecManager.ensure_native_kernel=False",
            f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
            # Nothing from the internet: no news feed, no update check, no extension manager's PyPI search.
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]  # fmt: skip
        if os.geteuid() == 0:  # the instance's user is whoever runs the emulator (a CI container's root too)
            command.append("--ServerApp.allow_root=True")
        self._check_not_stopped()
        log_file = (self.system / "jupyter" / "jupyter.log").open("ab")
        try:
            self._server = server = subprocess.Popen(
                command, cwd=self.volume, env={**env, notebook_grants.EMULATOR_PID_ENV: str(os.getpid())},
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_unblock_signals,
            )  # fmt: skip
        finally:
            log_file.close()
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and not self._stopping.is_set():
            if server.poll() is not None:
                break
            if _answers(self.port):
                return
            time.sleep(0.1)
        self._check_not_stopped()
        tail = _tail(self.system / "jupyter" / "jupyter.log")
        raise InstanceFailure(f"JupyterLab did not start on the notebook instance: {tail}")

    # --- use ----------------------------------------------------------------------------------------------
    def presign(self, session_seconds: int | None) -> str:
        """A URL that signs one browser in within URL_SECONDS, for a session of session_seconds."""
        token = secrets.token_urlsafe(32)
        terms = {
            "url_expires": self.host.clock() + URL_SECONDS,
            "session_seconds": session_seconds or DEFAULT_SESSION_SECONDS,
        }
        grant = self.grants / notebook_grants.token_digest(token)
        descriptor = os.open(grant, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(terms, file)
        return f"{loopback.url('http', '127.0.0.1', self.port)}/lab?authToken={token}"

    # --- stop -------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """End JupyterLab, its kernels and terminals, and whatever the scripts left running."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None and server.poll() is None:
            _end_group(server)
        for _ in range(3):  # again, for a child forked while the last pass ran
            left = self.processes()
            if not left:
                break
            for process in left:
                try:
                    process.kill()
                except psutil.Error:
                    pass
            psutil.wait_procs(left, timeout=STOP_GRACE_SECONDS)
        if server is not None:
            server.wait()

    def processes(self) -> list[psutil.Process]:
        """This instance's processes: every one with its mark in its environment, wherever it went."""
        return local_hosts.marked(lambda environ: environ.get(MARK) == self.mark)

    def delete(self) -> None:
        """Stop, and remove its folder, volume included (deleting an instance deletes its volume on AWS)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def register(instance: Instance) -> None:
    with _lock:
        _running[instance.arn] = instance


def unregister(arn: str) -> Instance | None:
    with _lock:
        return _running.pop(arn, None)


def running(arn: str) -> Instance | None:
    with _lock:
        return _running.get(arn)


def _folder_name(arn: str) -> str:
    # arn:aws:sagemaker:<region>:<account>:notebook-instance/<name>: names are unique per account and region.
    _, _, _, region, account, resource = arn.split(":", 5)
    return f"{account}-{region}-{resource.split('/', 1)[1]}"


def _make_env(folder: Path, image: Path) -> None:
    """conda_python3: a venv of its own, over the image (notebook_image.py).

    What a script or the learner pip-installs goes into the venv and comes first; what AWS preinstalls in
    conda_python3 (the SageMaker Python SDK v2, boto3, pandas, matplotlib, ipykernel) comes from the image's
    site-packages, which the venv reads after its own (a .pth line that adds it as a site folder, so that its .pth
    files count too). Creating it copies nothing, so it takes a fraction of a second at every start, and it is gone
    at the next start, as conda_python3's changes are on AWS.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, capture_output=True)
    purelib = subprocess.run(
        [str(folder / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "vgsales-preinstalled.pth").write_text(f"import site; site.addsitedir({str(image)!r})\n", encoding="utf-8")


def _unblock_signals() -> None:
    """In the child, before exec: the emulator's main thread blocks SIGTERM and SIGINT in every thread to wait for
    them (__main__.py), and a child inherits that mask, so without this JupyterLab and the scripts would ignore the
    SIGTERM that stops them."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _tool_dir() -> str:
    """The folder of this environment's commands (the AWS CLI, which AWS preinstalls on an instance)."""
    return str(Path(sys.executable).parent)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    """JupyterLab answers its unauthenticated API root once it serves."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/api")
        return connection.getresponse().status == 200
    except OSError:
        return False


def _forward(process: subprocess.Popen[bytes], stream: LogStream) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        stream.write([raw.decode("utf-8", "replace").rstrip("\n")])


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group, SIGKILL after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]) or "no output"
    except OSError:
        return "no output"
