"""Inference as the built-in XGBoost algorithm's container serves it: request parsing, prediction, response encoding.

Requests are text/csv (features only, no label) or text/libsvm / text/x-libsvm (a leading label is ignored). How
the answer is written depends on the image's tag and on whether a batch transform job asks, as the container's
`algorithm_mode/serve.py` `invocations()` writes it (aws/sagemaker-xgboost-container):

- Batch transform (SAGEMAKER_BATCH, every tag): one score per line, each ending with a newline, whatever the
  Accept header; from tag 1.2-2 on an Accept the container does not take is still refused with 406.
- Real time, the legacy `xgboost` image and tags up to 1.2-1 (v1.0-1, v1.2-1): the scores joined by commas, no
  newline, as text/csv, whatever the Accept header.
- Real time, tag 1.2-2 on (1.3-1, 1.5-1, 1.7-1, 3.0-5, 3.2-0): the Accept header decides. application/json gives
  {"predictions": [{"score": ...}]}; text/csv gives sagemaker-containers' `encoders.encode` → `array_to_csv`:
  one score per line, each ending with a newline; an Accept the container lists but that encoder cannot write
  (application/jsonlines, application/x-recordio-protobuf) fails with 500; any other is refused with 406. No
  Accept (or */*) means the model's SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else text/csv.

A request the container would refuse raises ServingError with the HTTP status the container answers with; the
endpoint reports it as a ModelError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import xgboost as xgb

from .versions import ENCODERS_FROM, image_version

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's limit

CSV = "csv"
LIBSVM = "libsvm"
REQUEST_TYPES = {"text/csv": CSV, "csv": CSV, "text/libsvm": LIBSVM, "text/x-libsvm": LIBSVM, "libsvm": LIBSVM}
# serve.py's SUPPORTED_ACCEPTS (v1.2-2 to v3.0-5).
SUPPORTED_ACCEPTS = ("application/json", "application/jsonlines", "application/x-recordio-protobuf", "text/csv")
# What sagemaker-containers' encoders.encode can write (_encoders_map: CSV, JSON, NPY); serve.py answers JSON itself.
ENCODED_ACCEPTS = ("text/csv", "application/json")


@dataclass(frozen=True)
class ResponseStyle:
    """How one image writes its answers: see the module's docstring."""

    honours_accept: bool  # tag 1.2-2 on; before, real-time answers are comma-joined CSV whatever the Accept
    default_accept: str = "text/csv"  # the model's SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, if it sets one


def response_style(image: str | None, environment: Mapping[str, str] | None = None) -> ResponseStyle:
    """The response style of a model's image (repository and tag) and container environment. An image without a
    version tag (a digest) answers as the newest tags do."""
    version = image_version(image)  # the legacy image and 0.90-x read as 1.0-1: comma-joined
    honours = version is None or version >= ENCODERS_FROM
    default = _media_type((environment or {}).get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")) or "text/csv"
    return ResponseStyle(honours_accept=honours, default_accept=default)


NEWEST = ResponseStyle(honours_accept=True)


class ServingError(Exception):
    """The container's answer to a request it cannot serve: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def request_format(content_type: str | None) -> str:
    media_type = _media_type(content_type) or "text/csv"  # the container's default
    try:
        return REQUEST_TYPES[media_type]
    except KeyError:
        raise ServingError(
            415, f"{content_type} is not an accepted ContentType: csv, libsvm, text/csv, text/libsvm, text/x-libsvm."
        ) from None


def response_type(accept: str | None, style: ResponseStyle = NEWEST) -> str:
    """serve.py's _parse_accept: no Accept (or */*) means the default; one it does not list is refused with 406."""
    media_type = _media_type(accept)
    if not media_type or media_type == "*/*":
        return style.default_accept
    if media_type not in SUPPORTED_ACCEPTS:
        raise ServingError(
            406, f"Accept type {accept} is not supported. Please use supported accept types: {list(SUPPORTED_ACCEPTS)}."
        )
    return media_type


def _lines(body: bytes, format_name: str) -> list[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ServingError(
            415, f"Loading {format_name} data failed with Exception, please ensure data is in {format_name} format: {exc}"
        ) from None
    return [line for line in text.splitlines() if line.strip()]


def parse_csv(body: bytes, num_features: int) -> np.ndarray:
    rows = [line.split(",") for line in _lines(body, "csv")]
    try:
        try:
            matrix = np.array(rows, dtype=np.float32)
        except ValueError:
            # Empty fields are missing values, which the container reads as NaN; anything else is not a number.
            matrix = np.array([[field if field.strip() else "nan" for field in row] for row in rows], dtype=np.float32)
    except ValueError as exc:
        raise ServingError(
            415, f"Loading csv data failed with Exception, please ensure data is in csv format: {exc}"
        ) from None
    if matrix.ndim != 2:
        raise ServingError(415, "Loading csv data failed with Exception, please ensure data is in csv format: empty payload")
    if matrix.shape[1] != num_features:
        raise ServingError(
            400,
            f"Unable to evaluate payload provided: Feature size of csv inference data {matrix.shape[1]} is not "
            f"consistent with feature size of trained model {num_features}.",
        )
    return matrix


def _malformed_libsvm(detail: object) -> ServingError:
    return ServingError(415, f"Loading libsvm data failed with Exception, please ensure data is in libsvm format: {detail}")


def parse_libsvm(body: bytes, num_features: int) -> scipy.sparse.csr_matrix:
    row_lengths: list[int] = []
    pairs: list[str] = []
    for line in _lines(body, "libsvm"):
        tokens = line.split()
        if ":" not in tokens[0]:
            try:
                float(tokens[0])  # a label, which inference ignores, but it must be a number
            except ValueError as exc:
                raise _malformed_libsvm(exc) from None
            tokens = tokens[1:]
        row_lengths.append(len(tokens))
        pairs.extend(tokens)
    if not row_lengths:
        raise _malformed_libsvm("empty payload")
    # One conversion in numpy for every index:value pair of the request, instead of one per pair in Python.
    flat = " ".join(pairs)
    if flat.count(":") != len(pairs):
        raise _malformed_libsvm("every feature must be written <index>:<value>")
    try:
        numbers = np.array(flat.replace(":", " ").split(), dtype=np.float64)
    except ValueError as exc:
        raise _malformed_libsvm(exc) from None
    if numbers.size != 2 * len(pairs):
        raise _malformed_libsvm("every feature must be written <index>:<value>")
    indices, values = numbers[0::2], numbers[1::2]
    if not np.all(np.isfinite(indices) & (indices == np.floor(indices))):
        raise _malformed_libsvm("feature indices must be integers")
    columns = indices.astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(row_lengths)])
    if columns.size and columns.min() < 0:
        raise _malformed_libsvm(f"negative feature index {int(columns.min())}")
    if columns.size and columns.max() >= num_features:
        raise ServingError(
            400,
            f"Unable to evaluate payload provided: Feature size of libsvm inference data {int(columns.max()) + 1} is "
            f"larger than feature size of trained model {num_features}.",
        )
    return scipy.sparse.csr_matrix(
        (values.astype(np.float32), columns, indptr.astype(np.int64)), shape=(len(row_lengths), num_features)
    )


@dataclass(frozen=True)
class Prediction:
    body: bytes
    content_type: str


def encode(predictions: np.ndarray, accept: str | None, style: ResponseStyle = NEWEST, batch: bool = False) -> Prediction:
    """The answer's body and content type, as serve.py's invocations() writes them for ``style`` (module docstring)."""
    scores = predictions.tolist()
    if style.honours_accept:
        media_type = response_type(accept, style)  # parsed (and refused) before the batch branch too
    else:
        media_type = "text/csv"
    if batch:
        return Prediction("".join(f"{score}\n" for score in scores).encode(), _with_charset(media_type))
    if not style.honours_accept:
        return Prediction(",".join(map(str, scores)).encode(), _with_charset(media_type))
    if media_type == "application/json":
        return Prediction(json.dumps({"predictions": [{"score": s} for s in scores]}).encode(), media_type)
    if media_type not in ENCODED_ACCEPTS:
        raise ServingError(500, f"{media_type} is listed by the container but its encoder cannot write it "
                                "(sagemaker-containers' encoders.encode: UnsupportedFormatError); use text/csv or "
                                "application/json.")
    return Prediction("".join(f"{score}\n" for score in scores).encode(), _with_charset(media_type))


def _with_charset(media_type: str) -> str:
    # Flask's Response adds the charset to text/* mimetypes.
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def predict(booster: xgb.Booster, num_features: int, body: bytes, content_type: str | None, accept: str | None,
            style: ResponseStyle = NEWEST, batch: bool = False) -> Prediction:
    """Serve one request against a loaded booster. Thread-safe: the booster is only read."""
    if not body:
        raise ServingError(400, "Unable to evaluate payload provided: the request body is empty.")
    data_format = request_format(content_type)
    # As serve.py: the body is parsed (415) and predicted (400) before the Accept header is read (406).
    features = parse_csv(body, num_features) if data_format == CSV else parse_libsvm(body, num_features)
    try:
        predictions = booster.inplace_predict(features, validate_features=False)
    except xgb.core.XGBoostError as exc:
        raise ServingError(400, f"Unable to evaluate payload provided: {str(exc).strip().splitlines()[0]}") from None
    return encode(predictions, accept, style, batch)
