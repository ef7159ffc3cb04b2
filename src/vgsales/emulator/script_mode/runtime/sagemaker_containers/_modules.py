"""The user's module, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_modules.py runs and imports it.

Local difference: prepare() and install() are not done. The container writes a setup.py (with setup.cfg and
MANIFEST.in) into /opt/ml/code when there is none and runs `pip install . -r requirements.txt` there; here the
emulator has installed requirements.txt into the job's own environment, and the module is found in /opt/ml/code
itself (the script's working directory, and first on the path of an imported module). A setup.py's own
install_requires are therefore not installed.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

from sagemaker_containers import _env, _errors, _files, _logging, _process

logger = _logging.get_logger()

DEFAULT_MODULE_NAME = "default_user_module_name"


def exists(name):  # type: (str) -> bool
    """True if the module can be imported."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    else:
        return True


def has_requirements(path):  # type: (str) -> bool
    return os.path.exists(os.path.join(path, "requirements.txt"))


def s3_download(url, dst):  # type: (str, str) -> None
    """Download a file from S3 (an alias of files.s3_download)."""
    _files.s3_download(url, dst)


def run(module_name, args=None, env_vars=None, wait=True, capture_error=False):
    # type: (str, list, dict, bool, bool) -> subprocess.Popen
    """Run ``python -m module_name args`` in /opt/ml/code; a non-zero exit raises ExecuteUserScriptError."""
    args = args or []
    env_vars = env_vars or {}

    cmd = [_process.python_executable(), "-m", module_name] + args

    _logging.log_script_invocation(cmd, env_vars)

    if wait:
        return _process.check_error(cmd, _errors.ExecuteUserScriptError, capture_error=capture_error)

    else:
        return _process.create(cmd, _errors.ExecuteUserScriptError, capture_error=capture_error)


def import_module(uri, name=DEFAULT_MODULE_NAME, cache=None):  # type: (str, str, bool) -> module
    """The user's module from /opt/ml/code (filled from ``uri`` when empty); ImportModuleError if it fails."""
    _warning_cache_deprecation(cache)
    _files.download_and_extract(uri, _env.code_dir)

    if _env.code_dir not in sys.path:  # where pip install would have put it, in the container
        sys.path.insert(0, _env.code_dir)
    try:
        module = importlib.import_module(name)
        importlib.reload(module)

        return module
    except Exception as e:  # six.reraise(_errors.ImportModuleError, ...) in the real one
        raise _errors.ImportModuleError(e).with_traceback(sys.exc_info()[2])


def run_module(uri, args, env_vars=None, name=DEFAULT_MODULE_NAME, cache=None, wait=True, capture_error=False):
    # type: (str, list, dict, str, bool, bool, bool) -> subprocess.Popen
    """Run the user's module (its code in /opt/ml/code, filled from ``uri`` when empty) with ``args``, and
    ``env_vars`` added to the container's environment."""
    _warning_cache_deprecation(cache)
    env_vars = env_vars or {}
    env_vars = env_vars.copy()

    _files.download_and_extract(uri, _env.code_dir)

    _env.write_env_vars(env_vars)

    return run(name, args, env_vars, wait, capture_error)


def _warning_cache_deprecation(cache):
    if cache is not None:
        msg = "the cache parameter is unnecessary anymore. Cache is always set to True"
        warnings.warn(msg, DeprecationWarning)
