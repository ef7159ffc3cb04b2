"""xgb.DMatrix("<path>?format=libsvm|csv&..."): XGBoost's own text parser, as the container's encoder.py and
data_utils.py load LIBSVM and CSV. XGBoost 3.1 deprecated text input and warns at every load; the container's
XGBoost (3.0.5, docker/3.0-5/base/Dockerfile.cpu) does not, so that one warning is kept out of the job's log.
tests/emulator/script_mode/test_runtime.py has a canary that fails when XGBoost stops warning (or reading text)."""

from __future__ import annotations

import warnings

import xgboost as xgb

DEPRECATION = r".*Text file input has been deprecated.*"


def dmatrix(uri):  # type: (str) -> xgb.DMatrix
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=DEPRECATION)
        return xgb.DMatrix(uri)
