"""The model server's transformation, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_transformer.py
does it: model_fn once, then input_fn -> predict_fn -> output_fn (or transform_fn) per request. User functions are
wrapped so that anything they raise becomes ClientError(e). The default transform answers an UnsupportedFormatError
of the default input_fn with 415 and of the default output_fn with 406 (a JSON body with error, error-message and
stack-trace); a wrapped user function's errors are ClientErrors, which reach the server as a 500.

Local differences: transform() takes the request (the real one reads Flask's request context), and initialize()
may be given the model directory (vgsales_script_serve passes SM_MODEL_DIR, which is /opt/ml/model in the image).
"""

from __future__ import annotations

import json
import textwrap
import traceback
from http import client as http_client

from sagemaker_containers import _content_types, _encoders, _env, _errors, _functions, _worker


def default_model_fn(model_dir):
    """Raises NotImplementedError: the framework does not know how to load the user's model."""
    raise NotImplementedError(
        textwrap.dedent(
            """
    Please provide a model_fn implementation.
    See documentation for model_fn at https://github.com/aws/sagemaker-python-sdk
    """
        )
    )


def default_input_fn(input_data, content_type):
    """Decode JSON, CSV or NPY request data to a numpy array (UnsupportedFormatError for anything else)."""
    return _encoders.decode(input_data, content_type)


def default_predict_fn(data, model):
    """Raises NotImplementedError: the framework does not know how to call the user's model."""
    raise NotImplementedError(
        textwrap.dedent(
            """
    Please provide a predict_fn implementation.
    See documentation for predict_fn at https://github.com/aws/sagemaker-python-sdk
    """
        )
    )


def default_output_fn(prediction, accept):
    """The prediction encoded as ``accept`` (JSON, CSV or NPY) in a Response of that mimetype."""
    return _worker.Response(response=_encoders.encode(prediction, accept), mimetype=accept)


class Transformer:
    """The proxy between the worker and the framework's (or the user's) transformation functions."""

    def __init__(self, model_fn=None, input_fn=None, predict_fn=None, output_fn=None, transform_fn=None,
                 error_class=_errors.ClientError):  # fmt: skip
        self._model = None
        self._model_fn = _functions.error_wrapper(model_fn, error_class) if model_fn else default_model_fn

        if transform_fn and (input_fn or predict_fn or output_fn):
            raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")

        if transform_fn is not None:
            self._transform_fn = _functions.error_wrapper(transform_fn, error_class)
        else:
            self._transform_fn = self._default_transform_fn

        self._input_fn = _functions.error_wrapper(input_fn, error_class) if input_fn else default_input_fn
        self._predict_fn = _functions.error_wrapper(predict_fn, error_class) if predict_fn else default_predict_fn
        self._output_fn = _functions.error_wrapper(output_fn, error_class) if output_fn else default_output_fn
        self._error_class = error_class

    def initialize(self, model_dir=None):  # type: (str) -> None
        """Load the model: model_fn(model_dir), /opt/ml/model unless given."""
        self._model = self._model_fn(model_dir or _env.model_dir)

    def transform(self, request):  # type: (_worker.Request) -> _worker.Response
        """Deserialize the request, predict and serialize the answer; a (data, content_type) tuple becomes a
        Response. Anything else transform_fn or output_fn returns is returned as it is."""
        result = self._transform_fn(self._model, request.content, request.content_type, request.accept)

        if isinstance(result, tuple):
            # transforms tuple in Response for backwards compatibility
            return _worker.Response(response=result[0], mimetype=result[1])

        return result

    def _default_transform_fn(self, model, content, content_type, accept):
        """input_fn, predict_fn, output_fn; an UnsupportedFormatError of input_fn is a 415, of output_fn a 406."""
        try:
            data = self._input_fn(content, content_type)
        except _errors.UnsupportedFormatError as e:
            return self._error_response(e, http_client.UNSUPPORTED_MEDIA_TYPE)

        prediction = self._predict_fn(data, model)

        try:
            result = self._output_fn(prediction, accept)
        except _errors.UnsupportedFormatError as e:
            return self._error_response(e, http_client.NOT_ACCEPTABLE)

        return result

    def _error_response(self, error, status_code):
        body = json.dumps(
            {
                "error": error.__class__.__name__,
                "error-message": str(error),
                "stack-trace": traceback.format_exc(),
            }
        )
        return _worker.Response(response=body, status=status_code, mimetype=_content_types.JSON)
