"""What a local notebook instance's JupyterLab runs in its own process: sign-in by presigned URL only.

notebook_instances.py starts `jupyter lab` with this module's PresignedIdentityProvider. On AWS the console's
Open JupyterLab calls CreatePresignedNotebookInstanceUrl and the browser follows the URL: its authToken is good
for one sign-in within 5 minutes, and the session it opens lasts SessionExpirationDurationInSeconds. Here:

- the emulator (notebook_instances.Instance.presign) writes a grant per URL into the instance's private grants
  folder (mode 0700): a file named after the token's SHA-256, holding when the URL expires and how long its
  session lasts. The token itself is never written anywhere.
- a request with ``?authToken=`` redeems its grant by deleting the file, which only one request can do, so a URL
  signs in once; an expired grant signs in nobody.
- the session is jupyter_server's signed login cookie (IdentityProvider.set_login_cookie), which here carries
  the session's end: after it, the cookie names nobody and Jupyter refuses the request.
- nothing else signs in: not Jupyter's own ``?token=`` (overridden below) nor its login form.

Read with jupyter_server 2.x's jupyter_server/auth/identity.py (IdentityProvider._get_user calls get_user_token,
then get_user_cookie, and sets the login cookie for a token-authenticated user).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.paths import jupyter_path
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from traitlets import Unicode

from .notebook_grants import EMULATOR_PID_ENV, token_digest

PARENT_POLL_SECONDS = 1.0
USERNAME = "ec2-user"  # the notebook instance's user, as Jupyter shows it on AWS
SIGN_IN_AGAIN = (
    "This notebook instance's JupyterLab opens only through a presigned URL, once, within 5 minutes of its "
    "creation, and its session has ended or was never opened. Get a new URL: `invoke notebook` (or the "
    "CreatePresignedNotebookInstanceUrl API)."
)


@dataclass
class SessionUser(User):
    """Jupyter's user, with the end of the session its presigned URL opened (seconds since the epoch)."""

    session_ends: float = 0.0


class PresignedIdentityProvider(IdentityProvider):  # type: ignore[misc]
    grants_dir = Unicode("", config=True, help="the folder of presigned URL grants")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        _end_with_the_emulator()

    def get_user_token(self, handler: JupyterHandler) -> SessionUser | None:
        token = handler.get_argument("authToken", "")
        if not token or not self.grants_dir:
            return None
        grant = Path(self.grants_dir) / token_digest(token)
        try:
            terms = json.loads(grant.read_text(encoding="utf-8"))
            grant.unlink()  # the one redemption: a second request finds no file
        except (OSError, ValueError):
            self.log.warning("A presigned URL was refused: unknown, already used, or unreadable.")
            return None
        now = time.time()
        if now >= float(terms["url_expires"]):
            self.log.warning("A presigned URL was refused: it expired %.0f s ago.", now - float(terms["url_expires"]))
            return None
        return SessionUser(username=USERNAME, session_ends=now + float(terms["session_seconds"]))

    def user_to_cookie(self, user: User) -> str:
        return json.dumps({"username": user.username, "session_ends": getattr(user, "session_ends", 0.0)})

    def user_from_cookie(self, cookie_value: str) -> SessionUser | None:
        found = json.loads(cookie_value)
        if time.time() >= float(found.get("session_ends", 0.0)):
            return None  # the session has ended: Jupyter clears the cookie and refuses the request
        return SessionUser(username=found["username"], session_ends=float(found["session_ends"]))

    def process_login_form(self, handler: JupyterHandler) -> None:
        return None  # no password or token form signs anyone in

    @property
    def auth_enabled(self) -> bool:
        return True


def _end_with_the_emulator() -> None:
    """Shut this JupyterLab down (its kernels with it) once the emulator that started it is gone, however it went:
    a killed emulator cannot stop its instances. The way ipykernel's ParentPollerUnix watches its parent."""
    parent = int(os.environ.get(EMULATOR_PID_ENV, "0") or 0)
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="emulator-watch", daemon=True).start()


class SignInAgainHandler(JupyterHandler):  # type: ignore[misc]
    """Where Jupyter sends a browser without a session (its login_url): a refusal that says what to do."""

    def get(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(SIGN_IN_AGAIN)

    post = get


class InstanceKernelSpecManager(KernelSpecManager):  # type: ignore[misc]
    """Kernels from the instance's own folders only: the user's (what on-start or the learner registers with
    `ipykernel install --user`) and the system's (conda_python3). Not the kernel of the environment JupyterLab runs
    in (this project's venv, ipykernel's "python3"): no instance has it, and it would see the emulator's packages.
    (KernelSpecManager.kernel_dirs is not a setting, so its default is what changes.)"""

    instance_folder = Unicode("", config=True, help="The instance's folder (notebook_instances.Instance.folder).")

    def _kernel_dirs_default(self) -> list[str]:
        root = Path(self.instance_folder).resolve()
        return [folder for folder in jupyter_path("kernels") if Path(folder).resolve().is_relative_to(root)]

