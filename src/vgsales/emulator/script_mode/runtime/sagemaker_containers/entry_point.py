"""The entry point's host-name wait, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/entry_point.py
has it (scripts call _wait_hostname_resolution before distributed training). Locally a host of the job resolves to
127.0.0.1 at once (vgsales_script_local). Not here: run() and install(), which the XGBoost image does not use in
script mode (its training module runs _modules.run_module)."""

from __future__ import annotations

from vgsales_script_local import lookup

from sagemaker_containers import _env


def _dns_lookup(host):
    """socket.gethostbyname, retried for up to 15 minutes (a host of the job: 127.0.0.1)."""
    return lookup(host)


def _wait_hostname_resolution():
    """Wait until every host of the training cluster resolves."""
    for host in _env.TrainingEnv().hosts:
        _dns_lookup(host)
