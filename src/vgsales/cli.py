"""How invoke meets the package: settings from invoke's config tree, and user errors as clean exits.

tasks.py stays thin wiring; what it needs from invoke beyond @task lives here.
"""

from __future__ import annotations

import functools
from pathlib import Path

import invoke.env
from botocore.exceptions import ConnectionError as AwsConnectionError
from invoke import Exit

from .errors import WorkshopError
from .settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[2]  # where tasks.py and invoke.yaml live
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _strict_environment_values(original_path_set):
    """invoke casts an INVOKE_WORKSHOP_* value to its default's type: for a boolean, any text but "0" or ""
    is true (so CONFIRM=false meant true, and USE_SPOT=false turned spot on), and a word where a number belongs
    ends in a traceback. Here booleans read true/false/yes/no/on/off/1/0, and a value that fits neither is one
    clear message. invoke reads the environment after loading this file, so the rule applies to every task."""

    @functools.wraps(original_path_set)
    def path_set(self, key_path, value):
        old = self._path_get(key_path)
        if not key_path or key_path[0] != "workshop" or not isinstance(old, (bool, int, float)):
            return original_path_set(self, key_path, value)
        text = value.strip().lower()
        try:
            if isinstance(old, bool):
                if text not in _TRUE + _FALSE:
                    raise ValueError
                typed = text in _TRUE
            else:
                typed = type(old)(text)
        except ValueError:
            expected = "true or false" if isinstance(old, bool) else "a whole number" if isinstance(old, int) else "a number"
            variable = f"{self._prefix or ''}{self._to_env_var(key_path)}"
            raise Exit(
                f"Error: Invalid setting {'.'.join(key_path)}: expected {expected}, got {value!r} from the environment "
                f"variable {variable}. Nothing was created. Fix or unset {variable}.",
                code=1,
            ) from None
        target = self.data
        for key in key_path[:-1]:
            target = target.setdefault(key, {})
        target[key_path[-1]] = typed

    path_set.strict = True
    return path_set


def install_strict_environment() -> None:
    """Apply the rule above to invoke's environment loader; idempotent (tasks.py may be loaded twice)."""
    if not getattr(invoke.env.Environment._path_set, "strict", False):
        invoke.env.Environment._path_set = _strict_environment_values(invoke.env.Environment._path_set)


def settings_of(c) -> Settings:
    return Settings.from_config(c.config.workshop, project_dir=PROJECT_DIR)


def user_errors(body):
    """Turn a WorkshopError into invoke's Exit: one clear message and exit code 1, never a traceback."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        try:
            return body(c, *args, **kwargs)
        except WorkshopError as exc:
            raise Exit(f"Error: {exc}", code=1) from None
        except AwsConnectionError as exc:  # the target went away mid-task, e.g. the emulator was killed
            from vgsales.infra import stack

            raise Exit(f"Error: {stack.connection_lost(settings_of(c), exc)}", code=1) from None
        except KeyboardInterrupt:
            raise Exit(
                "Interrupted. Whatever was created so far is recorded on the target; run the task again to "
                "continue, or `invoke teardown` to remove everything.",
                code=130,
            ) from None

    return wrapper
