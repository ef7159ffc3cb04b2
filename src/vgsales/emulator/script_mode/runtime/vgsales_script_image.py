"""The environment the SageMaker XGBoost framework image gives every process, with /opt/ml as the job's folder.

aws/sagemaker-xgboost-container v3.0-5: docker/3.0-5/base/Dockerfile.cpu and docker/3.0-5/final/Dockerfile.cpu set
these with ENV, so the container's entry point and the user's script see them from their first instruction;
serving.py set_default_serving_env_if_unspecified adds OMP_NUM_THREADS=1 for the model server. /opt/ml is
SAGEMAKER_BASE_DIR here. A variable the job or the model sets itself wins, as it does over an image's ENV. Not
carried over: PATH and LD_LIBRARY_PATH (the image's conda), TEMP (/home/model-server/tmp, the multi-model server's).

The entry points start themselves again with exec when one is missing, before anything has read them (OpenMP reads
OMP_NUM_THREADS once, when xgboost loads it); they never rewrite their own os.environ.
"""

from __future__ import annotations

import os
import sys

BASE_PATH_ENV = "SAGEMAKER_BASE_DIR"
TRAINING_MODULE = "sagemaker_xgboost_container.training:main"
SERVING_MODULE = "sagemaker_xgboost_container.serving:main"


def variables(base_dir: str, serving: bool) -> dict[str, str]:
    """The image's ENV for a job or model whose /opt/ml is ``base_dir``."""
    config = os.path.join(base_dir, "input", "config")
    image = {
        # docker/3.0-5/base/Dockerfile.cpu
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        # docker/3.0-5/final/Dockerfile.cpu
        "SM_INPUT": os.path.join(base_dir, "input"),
        "SM_INPUT_TRAINING_CONFIG_FILE": os.path.join(config, "hyperparameters.json"),
        "SM_INPUT_DATA_CONFIG_FILE": os.path.join(config, "inputdataconfig.json"),
        "SM_CHECKPOINT_CONFIG_FILE": os.path.join(config, "checkpointconfig.json"),
        "NCCL_SOCKET_IFNAME": "eth",
        "SM_MODEL_DIR": os.path.join(base_dir, "model"),
        "SAGEMAKER_TRAINING_MODULE": TRAINING_MODULE,
        "SAGEMAKER_SERVING_MODULE": SERVING_MODULE,
    }
    if serving:
        image["OMP_NUM_THREADS"] = "1"  # serving.py set_default_serving_env_if_unspecified
    return image


def missing(serving: bool) -> dict[str, str]:
    """The image's variables that this process's environment lacks."""
    wanted = variables(os.environ.get(BASE_PATH_ENV, os.path.join("/opt", "ml")), serving)
    return {name: value for name, value in wanted.items() if name not in os.environ}


def exec_with_image_env(module: str, serving: bool) -> None:
    """Run ``python -m module`` again in this process with the image's environment, when some of it is missing."""
    lacking = missing(serving)
    if lacking:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", module, *sys.argv[1:]], {**os.environ, **lacking})
