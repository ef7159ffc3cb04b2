"""sagemaker_containers as the SageMaker XGBoost framework image installs it (aws/sagemaker-containers v2.8.6.post2,
src/sagemaker_containers/__init__.py), rewritten for this machine: the modules and functions that scripts and the
container's entry points use, with the same interfaces, messages and error types. Not provided: _mpi, _runner,
_server (gunicorn and nginx: vgsales_script_serve answers requests instead), _intermediate_output (the background
upload of output/intermediate for sagemaker_s3_output), _recordio, and the Flask Worker app.
"""

from __future__ import annotations


def training_env():  # type: () -> _env.TrainingEnv
    """Create a TrainingEnv from the files under /opt/ml/input/config (SAGEMAKER_BASE_DIR here)."""
    from sagemaker_containers import _env

    return _env.TrainingEnv(
        resource_config=_env.read_resource_config(),
        input_data_config=_env.read_input_data_config(),
        hyperparameters=_env.read_hyperparameters(),
    )
