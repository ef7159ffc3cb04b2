"""The container's logging, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_logging.py sets it up."""

from __future__ import annotations

import json
import logging

import sagemaker_containers


def get_logger():
    """The logger named 'sagemaker-containers'."""
    return logging.getLogger("sagemaker-containers")


def configure_logger(level, log_format="%(asctime)s %(name)-12s %(levelname)-8s %(message)s"):
    # type: (int, str) -> None
    """logging.basicConfig at ``level``; boto3 and s3transfer at INFO, botocore at WARN."""
    logging.basicConfig(format=log_format, level=level)

    if level >= logging.INFO:
        logging.getLogger("boto3").setLevel(logging.INFO)
        logging.getLogger("s3transfer").setLevel(logging.INFO)
        logging.getLogger("botocore").setLevel(logging.WARNING)


def log_script_invocation(cmd, env_vars, logger=None):
    """Log the training environment, the variables given to the script and its command line."""
    logger = logger or get_logger()

    prefix = "\n".join(["%s=%s" % (key, value) for key, value in env_vars.items()])
    env = sagemaker_containers.training_env()
    message = """Invoking user script

Training Env:

%s

Environment variables:

%s

Invoking script with the following command:

%s

""" % (
        json.dumps(dict(env), indent=4),
        prefix,
        " ".join(cmd),
    )
    logger.info(message)
