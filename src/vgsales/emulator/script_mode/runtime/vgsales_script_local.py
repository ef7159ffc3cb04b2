"""What differs on this machine from a container of the SageMaker XGBoost framework image, in one place.

- Every host of a job runs on this machine, so a host name of the job (the hosts of resourceconfig.json, SM_HOSTS:
  algo-1, algo-2, ...) resolves to 127.0.0.1, where the container's resolves through the training cluster's DNS.
  Any other name resolves as the container's does, retried for up to 15 minutes as sagemaker-containers
  v2.8.6.post2 entry_point._dns_lookup and sagemaker-xgboost-container v3.0-5 distributed._dns_lookup retry it
  (retrying: stop_max_delay 15 min, wait_exponential_multiplier 100 ms, wait_exponential_max 30 s).
- What the image reads and this machine cannot (mlio's recordio-protobuf and Pipe mode; Parquet without pyarrow)
  raises NotSupportedLocally, which names it: never a wrong answer.
"""

from __future__ import annotations

import json
import os
import socket
import time

LOOPBACK = "127.0.0.1"
BASE_PATH_ENV = "SAGEMAKER_BASE_DIR"
HOSTS_ENV = "SM_HOSTS"
_STOP_MAX_DELAY_MS = 1000 * 60 * 15
_WAIT_EXPONENTIAL_MULTIPLIER_MS = 100
_WAIT_EXPONENTIAL_MAX_MS = 30000


class NotSupportedLocally(NotImplementedError):
    """The container can do this and this machine cannot; the message says what, and what to do instead."""


def job_hosts() -> set[str]:
    """The hosts of this job: resourceconfig.json's (under SAGEMAKER_BASE_DIR) and SM_HOSTS, whichever is there."""
    hosts: set[str] = set()
    config = os.path.join(os.environ.get(BASE_PATH_ENV, "/opt/ml"), "input", "config", "resourceconfig.json")
    try:
        with open(config) as file:
            hosts.update(json.load(file).get("hosts") or [])
    except (OSError, ValueError, AttributeError):
        pass
    try:
        hosts.update(json.loads(os.environ.get(HOSTS_ENV) or "[]"))
    except (ValueError, TypeError):
        pass
    return hosts


def lookup(host: str) -> str:
    """socket.gethostbyname for a host of the job (127.0.0.1) or any other name (retried as the container does)."""
    if host in job_hosts():
        return LOOPBACK
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            return socket.gethostbyname(host)
        except Exception:  # retrying retries on every exception, and raises the last one when it stops
            if (time.monotonic() - started) * 1000 >= _STOP_MAX_DELAY_MS:
                raise
            time.sleep(min(_WAIT_EXPONENTIAL_MULTIPLIER_MS * 2**attempt, _WAIT_EXPONENTIAL_MAX_MS) / 1000)
            attempt += 1
