"""BETA module containing volatile or experimental code: sagemaker-containers v2.8.6.post2
src/sagemaker_containers/beta/framework/__init__.py, re-exporting the modules provided here (not mpi, runner, server)."""

from __future__ import annotations

import sagemaker_containers
from sagemaker_containers import _content_types as content_types
from sagemaker_containers import _encoders as encoders
from sagemaker_containers import _env as env
from sagemaker_containers import _errors as errors
from sagemaker_containers import _files as files
from sagemaker_containers import _functions as functions
from sagemaker_containers import _logging as logging
from sagemaker_containers import _mapping as mapping
from sagemaker_containers import _modules as modules
from sagemaker_containers import _params as params
from sagemaker_containers import _process as process
from sagemaker_containers import _trainer as trainer
from sagemaker_containers import _transformer as transformer
from sagemaker_containers import _worker as worker
from sagemaker_containers import entry_point

__all__ = ["content_types", "encoders", "entry_point", "env", "errors", "files", "functions", "logging", "mapping",
           "modules", "params", "process", "sagemaker_containers", "trainer", "training_env", "transformer", "worker"]


def training_env(resource_config=None, input_data_config=None, hyperparameters=None):
    """A TrainingEnv of the given configuration, each read from /opt/ml/input/config when not given."""
    resource_config = resource_config or env.read_resource_config()
    input_data_config = input_data_config or env.read_input_data_config()
    hyperparameters = hyperparameters or env.read_hyperparameters()

    return env.TrainingEnv(
        resource_config=resource_config,
        input_data_config=input_data_config,
        hyperparameters=hyperparameters,
    )
