"""The training entry point of a script-mode job, run by the emulator as `<job's python> -m vgsales_script_train`
in /opt/ml/code (SAGEMAKER_BASE_DIR/code) of each host.

It is the XGBoost image's `train` (sagemaker-containers v2.8.6.post2 cli/train.py -> _trainer.train()), started with
the image's environment (vgsales_script_image): _trainer.train() imports SAGEMAKER_TRAINING_MODULE,
sagemaker_xgboost_container.training:main (aws/sagemaker-xgboost-container v3.0-5 training.py), which logs "Invoking
user training script." and runs the user's module through _modules.run_module: `python -m <module>
<to_cmd_args()>` in /opt/ml/code with os.environ, to_env_vars() and PYTHONPATH, its output going straight to this
process's. The code is already in /opt/ml/code and its requirements.txt installed (the emulator's doing).

How it ends, as the image's does:
- the script exits 0: exit 0 (training.main's sys.exit(0) ends the process before _trainer would write
  /opt/ml/output/success, so it writes none);
- the script exits non-zero or is ended by a signal: /opt/ml/output/failure holds ExecuteUserScriptError's text,
  'ExecuteUserScriptError:\\nCommand "<python> -m <module> <args>"' (without the exit status or the signal:
  capture_error=False), it is logged, and the exit status is 1 (_trainer's DEFAULT_FAILURE_CODE, not the script's);
- anything else fails: "framework error: \\n<traceback>\\n<error>" in the failure file, exit status the error's errno
  or 1.
"""

from __future__ import annotations

import vgsales_script_image

MODULE = "vgsales_script_train"


def main() -> None:
    vgsales_script_image.exec_with_image_env(MODULE, serving=False)

    from sagemaker_containers import _trainer

    _trainer.train()


if __name__ == "__main__":
    main()
