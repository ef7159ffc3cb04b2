"""The XGBoost image's model server for an inference script, as aws/sagemaker-xgboost-container v3.0-5
src/sagemaker_xgboost_container/serving.py builds it: the user's model_fn, input_fn, predict_fn and output_fn (or
transform_fn) in a sagemaker-containers Transformer, with XGBoost's defaults where the script has none.

- model_fn: none by default. XGBoost's default_model_fn is sagemaker-containers' transformer.default_model_fn, which
  raises NotImplementedError ("Please provide a model_fn implementation."): a script without model_fn cannot be
  served. The same in every tag of the container (v1.0-1 to v3.0-5).
- input_fn: encoder.decode (text/csv, text/libsvm, text/x-libsvm, application/x-recordio-protobuf) to a DMatrix;
- predict_fn: model.predict(data, validate_features=False);
- output_fn: sagemaker-containers' encoders.encode(prediction, accept) (application/json, text/csv,
  application/x-npy) in a Response of mimetype accept;
- transform_fn together with input_fn, predict_fn or output_fn: UserError.
Since these defaults are passed to the Transformer as functions, it wraps them like the user's: an
UnsupportedFormatError of theirs reaches the server as a ClientError, which is a 500, not the 415 or 406 that
sagemaker-containers' own defaults would give.

Not here: main() and serving_entrypoint() (gunicorn, nginx, the multi-model server): vgsales_script_serve serves the
transformer, and the image's environment (vgsales_script_image) sets OMP_NUM_THREADS=1 as
set_default_serving_env_if_unspecified does.
"""

from __future__ import annotations

import logging

from sagemaker_algorithm_toolkit import exceptions as exc
from sagemaker_containers.beta.framework import encoders, transformer, worker

from sagemaker_xgboost_container import encoder as xgb_encoders

logging.basicConfig(format="%(asctime)s %(levelname)s - %(name)s - %(message)s", level=logging.INFO)
logging.getLogger("boto3").setLevel(logging.INFO)
logging.getLogger("s3transfer").setLevel(logging.INFO)
logging.getLogger("botocore").setLevel(logging.WARNING)

logger = logging.getLogger(__name__)
logger.setLevel(logging.DEBUG)


def default_model_fn(model_dir):
    """For XGBoost Framework, a default function to load a model is not provided (NotImplementedError)."""
    return transformer.default_model_fn(model_dir)


def default_input_fn(input_data, content_type):
    """The request body as a DMatrix (encoder.decode). For CSV data, the decoder will error if there are any leading
    or trailing newline chars."""
    return xgb_encoders.decode(input_data, content_type)


def default_predict_fn(input_data, model):
    """model.predict(input_data, validate_features=False)."""
    output = model.predict(input_data, validate_features=False)
    return output


def default_output_fn(prediction, accept):
    """The prediction encoded as accept, in a worker.Response of that mimetype."""
    return worker.Response(encoders.encode(prediction, accept), mimetype=accept)


def _user_module_transformer(user_module):
    model_fn = getattr(user_module, "model_fn", default_model_fn)
    input_fn = getattr(user_module, "input_fn", None)
    predict_fn = getattr(user_module, "predict_fn", None)
    output_fn = getattr(user_module, "output_fn", None)
    transform_fn = getattr(user_module, "transform_fn", None)

    if transform_fn and (input_fn or predict_fn or output_fn):
        raise exc.UserError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")

    if transform_fn is not None:
        return transformer.Transformer(model_fn=model_fn, transform_fn=transform_fn)
    else:
        return transformer.Transformer(
            model_fn=model_fn,
            input_fn=input_fn or default_input_fn,
            predict_fn=predict_fn or default_predict_fn,
            output_fn=output_fn or default_output_fn,
        )
