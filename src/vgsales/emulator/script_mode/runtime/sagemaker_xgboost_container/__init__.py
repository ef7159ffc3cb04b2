"""sagemaker_xgboost_container as aws/sagemaker-xgboost-container v3.0-5 ships it, rewritten for this machine: what
script-mode scripts import (encoder, data_utils, distributed, constants) and the training and serving modules of
script mode. Not here: algorithm mode (the emulator runs the built-in algorithm itself), the multi-model server,
checkpointing, callbacks and the Dask GPU training."""
