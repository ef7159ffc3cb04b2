"""Inference as the built-in XGBoost algorithm's container serves it: request parsing, prediction, response encoding.

Requests are text/csv (features only, no label) or text/libsvm / text/x-libsvm (a leading label is ignored);
responses are CSV by default (the scores joined by commas, as the algorithm's real-time endpoint answers), or
JSON ({"predictions": [{"score": ...}]}) / JSON Lines when the Accept header asks. A request the container
would refuse raises ServingError with the HTTP status the container answers with; the endpoint reports it as
a ModelError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import xgboost as xgb

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's limit

CSV = "csv"
LIBSVM = "libsvm"
REQUEST_TYPES = {"text/csv": CSV, "csv": CSV, "text/libsvm": LIBSVM, "text/x-libsvm": LIBSVM, "libsvm": LIBSVM}
RESPONSE_TYPES = ("text/csv", "application/json", "application/jsonlines")


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


def response_type(accept: str | None) -> str:
    media_type = _media_type(accept)
    if not media_type or media_type == "*/*":
        return "text/csv"
    if media_type not in RESPONSE_TYPES:
        raise ServingError(
            406, f"Accept type {accept} is not supported. Please use supported accept types: {list(RESPONSE_TYPES)}."
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


def encode(predictions: np.ndarray, media_type: str) -> Prediction:
    scores = predictions.tolist()
    if media_type == "application/json":
        return Prediction(json.dumps({"predictions": [{"score": s} for s in scores]}).encode(), media_type)
    if media_type == "application/jsonlines":
        return Prediction("\n".join(json.dumps({"score": s}) for s in scores).encode(), media_type)
    return Prediction(",".join(map(str, scores)).encode(), "text/csv; charset=utf-8")


def predict(booster: xgb.Booster, num_features: int, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
    """Serve one request against a loaded booster. Thread-safe: the booster is only read."""
    if not body:
        raise ServingError(400, "Unable to evaluate payload provided: the request body is empty.")
    data_format = request_format(content_type)
    media_type = response_type(accept)
    features = parse_csv(body, num_features) if data_format == CSV else parse_libsvm(body, num_features)
    try:
        predictions = booster.inplace_predict(features, validate_features=False)
    except xgb.core.XGBoostError as exc:
        raise ServingError(400, f"Unable to evaluate payload provided: {str(exc).strip().splitlines()[0]}") from None
    return encode(predictions, media_type)
