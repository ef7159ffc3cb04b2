"""The container's training entry (`train`), as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_trainer.py
runs it: the framework's module (SAGEMAKER_TRAINING_MODULE, sagemaker_xgboost_container.training:main in the XGBoost
image), then /opt/ml/output/success, or /opt/ml/output/failure and exit status 1 for a ClientError (a failed user
script: ExecuteUserScriptError), or "framework error: ..." and the error's errno for anything else.

Local differences: no _intermediate_output sync (sagemaker_s3_output), and no generic entry-point runner when
SAGEMAKER_TRAINING_MODULE is empty (the XGBoost image always sets it).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from vgsales_script_local import NotSupportedLocally

import sagemaker_containers
from sagemaker_containers import _errors, _files, _logging

logger = _logging.get_logger()

SUCCESS_CODE = 0
DEFAULT_FAILURE_CODE = 1


def _get_valid_failure_exit_code(exit_code):
    try:
        valid_exit_code = int(exit_code)
    except ValueError:
        valid_exit_code = DEFAULT_FAILURE_CODE

    return valid_exit_code


def _exit_processes(exit_code):  # type: (int) -> None
    """Exit at once, whatever threads are left (os._exit, after flushing what this process printed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


def train():
    exit_code = SUCCESS_CODE
    try:
        env = sagemaker_containers.training_env()

        if env.framework_module:
            framework_name, entry_point_name = env.framework_module.split(":")

            framework = importlib.import_module(framework_name)

            # the logger is configured after importing the framework library, allowing
            # the framework to configure logging at import time.
            _logging.configure_logger(env.log_level)
            logger.info("Imported framework %s", framework_name)

            entrypoint = getattr(framework, entry_point_name)
            entrypoint()
        else:
            _logging.configure_logger(env.log_level)
            raise NotSupportedLocally(
                "SAGEMAKER_TRAINING_MODULE is empty: the generic entry-point runner of sagemaker-containers is not "
                "supported locally. The XGBoost image sets it to sagemaker_xgboost_container.training:main; leave "
                "it unset in the job's Environment."
            )

        logger.info("Reporting training SUCCESS")

        _files.write_success_file()
    except _errors.ClientError as e:
        failure_message = str(e)
        _files.write_failure_file(failure_message)

        logger.error(failure_message)

        exit_code = DEFAULT_FAILURE_CODE
    except Exception as e:
        failure_msg = "framework error: \n%s\n%s" % (traceback.format_exc(), str(e))

        _files.write_failure_file(failure_msg)
        logger.error("Reporting training FAILURE")

        logger.error(failure_msg)

        error_number = getattr(e, "errno", DEFAULT_FAILURE_CODE)
        exit_code = _get_valid_failure_exit_code(error_number)
    finally:
        _exit_processes(exit_code)
