"""Script mode of the SageMaker XGBoost framework image, executed: the user's own training and inference scripts.

The SDK's `sagemaker.xgboost.XGBoost(entry_point=...)` and `XGBoostModel(entry_point=...)` name a script of the
user's (hyperparameters `sagemaker_program` and `sagemaker_submit_directory`; the model's `SAGEMAKER_PROGRAM` and
`SAGEMAKER_SUBMIT_DIRECTORY`). The container (aws/sagemaker-xgboost-container, training.py and serving.py, with
aws/sagemaker-containers 2.8.6.post2, which it installs) then runs that code instead of its built-in algorithm.
Locally:

- host.py: where this emulator runs script processes, the role sessions they act as, and the rule that none
  outlives its job, its endpoint or the emulator;
- environment.py: the environment of a job or endpoint of its own (a venv over this machine's XGBoost, pandas,
  scikit-learn and the container's helper modules in runtime/), with the code's requirements.txt installed into it;
- training.py: a training job in script mode, on one host or several;
- serving.py: an endpoint or a transform job whose model names an inference script;
- runtime/: what the container gives a script to import (sagemaker_containers, sagemaker_xgboost_container) and
  the inference server loop, on the script processes' path only.
"""
