"""A training script for SageMaker's XGBoost framework image, as AWS's script-mode samples write one
(amazon-sagemaker-examples, build_and_train_models/sm-regression_xgboost/abalone.py), for the workshop's binary label.

Hyperparameters arrive as command-line arguments, the data and model folders in SM_* variables; on several hosts
the training runs inside the container's rabit_run, and the master saves the model.
"""

import argparse
import json
import logging
import os
import pickle as pkl

import xgboost as xgb
from sagemaker_containers import entry_point
from sagemaker_xgboost_container import distributed
from sagemaker_xgboost_container.data_utils import get_dmatrix


def _xgb_train(params, dtrain, evals, num_boost_round, model_dir, is_master):
    booster = xgb.train(params=params, dtrain=dtrain, evals=evals, num_boost_round=num_boost_round)
    if is_master:
        model_location = model_dir + "/xgboost-model"
        pkl.dump(booster, open(model_location, "wb"))
        logging.info("Stored trained model at {}".format(model_location))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_depth", type=int)
    parser.add_argument("--eta", type=float)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--scale_pos_weight", type=float, default=1.0)
    parser.add_argument("--num_round", type=int)
    parser.add_argument("--model_dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--sm_hosts", type=str, default=os.environ.get("SM_HOSTS"))
    parser.add_argument("--sm_current_host", type=str, default=os.environ.get("SM_CURRENT_HOST"))
    args, _ = parser.parse_known_args()

    sm_hosts = json.loads(args.sm_hosts)
    dtrain = get_dmatrix(args.train, "libsvm")
    dval = get_dmatrix(args.validation, "libsvm")
    watchlist = [(dtrain, "train"), (dval, "validation")] if dval is not None else [(dtrain, "train")]
    train_hp = {"max_depth": args.max_depth, "eta": args.eta, "subsample": args.subsample,
                "scale_pos_weight": args.scale_pos_weight, "objective": "binary:logistic", "eval_metric": "auc"}
    xgb_train_args = dict(params=train_hp, dtrain=dtrain, evals=watchlist, num_boost_round=args.num_round,
                          model_dir=args.model_dir)

    if len(sm_hosts) > 1:
        entry_point._wait_hostname_resolution()
        distributed.rabit_run(exec_fun=_xgb_train, args=xgb_train_args, include_in_training=(dtrain is not None),
                              hosts=sm_hosts, current_host=args.sm_current_host, update_rabit_args=True)
    else:
        xgb_train_args["is_master"] = True
        _xgb_train(**xgb_train_args)


def model_fn(model_dir):
    """Deserialize and return fitted model (the serving side of the same script, as in AWS's sample)."""
    return pkl.load(open(os.path.join(model_dir, "xgboost-model"), "rb"))
