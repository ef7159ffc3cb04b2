"""An inference script for SageMaker's XGBoost framework image, as AWS's samples write one
(amazon-sagemaker-examples, build_and_train_models/sm-regression_xgboost/inference.py): its own model_fn and
output_fn, the container's default input_fn and predict_fn.
"""

import json
import os
import pickle as pkl


def model_fn(model_dir):
    return pkl.load(open(os.path.join(model_dir, "xgboost-model"), "rb"))


def output_fn(predictions, content_type):
    if content_type == "application/json":
        return json.dumps({"predictions": [{"score": float(score), "hit": bool(score > 0.5)} for score in predictions]})
    raise ValueError("Content type {} is not supported.".format(content_type))
