"""Processes of the container, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_process.py starts
them: in /opt/ml/code, with the container's environment (_env.environ() here, os.environ there), and a non-zero exit
status (a signal's too) raised as error_class(return_code, cmd)."""

from __future__ import annotations

import subprocess
import sys

from sagemaker_containers import _env


def create(cmd, error_class, cwd=None, capture_error=False, **kwargs):
    """Start ``cmd``; an error starting it is raised as error_class(e)."""
    try:
        stderr = subprocess.PIPE if capture_error else None
        return subprocess.Popen(cmd, env=_env.environ(), cwd=cwd or _env.code_dir, stderr=stderr, **kwargs)
    except Exception as e:  # six.reraise(error_class, error_class(e), sys.exc_info()[2]) in the real one
        raise error_class(e).with_traceback(sys.exc_info()[2])


def check_error(cmd, error_class, capture_error=False, **kwargs):
    # type: (List[str], type, bool, Mapping[str, object]) -> subprocess.Popen
    """Run ``cmd`` to its end; a non-zero exit status raises error_class (with its stderr when captured)."""
    process = create(cmd, error_class, capture_error=capture_error, **kwargs)

    if capture_error:
        _, stderr = process.communicate()
        return_code = process.poll()
    else:
        stderr = None
        return_code = process.wait()

    if return_code:
        raise error_class(return_code=return_code, cmd=" ".join(cmd), output=stderr)
    return process


def python_executable():
    """The path of this Python (the job's environment's)."""
    if not sys.executable:
        raise RuntimeError("Failed to retrieve the real path for the Python executable binary")
    return sys.executable
