"""The XGBoost image's training module (SAGEMAKER_TRAINING_MODULE=sagemaker_xgboost_container.training:main), as
aws/sagemaker-xgboost-container v3.0-5 src/sagemaker_xgboost_container/training.py runs script mode: "Invoking user
training script." and sagemaker-containers' modules.run_module, which runs `python -m <module> <hyperparameters as
--name value>` with the SM_* variables. Algorithm mode (no sagemaker_program) is the emulator's built-in XGBoost, not
this module's: here it raises NotSupportedLocally."""

from __future__ import annotations

import logging
import sys

import sagemaker_containers.beta.framework as framework
from vgsales_script_local import NotSupportedLocally

logger = logging.getLogger(__name__)


def run_algorithm_mode():
    raise NotSupportedLocally(
        "algorithm mode (a training job without sagemaker_program) is not run by this entry point: the emulator "
        "runs SageMaker's built-in XGBoost itself for such a job."
    )


def train(training_environment):
    """Run the user's module (script mode) with the training environment's arguments and variables."""
    if training_environment.user_entry_point is not None:
        logger.info("Invoking user training script.")
        framework.modules.run_module(
            training_environment.module_dir,
            training_environment.to_cmd_args(),
            training_environment.to_env_vars(),
            training_environment.module_name,
            capture_error=False,
        )
    else:
        logger.info("Running XGBoost Sagemaker in algorithm mode")
        run_algorithm_mode()


def main():
    train(framework.training_env())
    sys.exit(0)
