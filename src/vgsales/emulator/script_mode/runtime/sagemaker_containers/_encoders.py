"""Serialization of arrays, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_encoders.py does it:
encode and decode for application/json, text/csv and application/x-npy; UnsupportedFormatError for any other type.
Not here: recordio-protobuf (the real module writes it with its generated record_pb2), which raises
NotSupportedLocally."""

from __future__ import annotations

import csv
import json
from io import BytesIO, StringIO

import numpy as np
from vgsales_script_local import NotSupportedLocally

from sagemaker_containers import _content_types, _errors


def array_to_npy(array_like):  # type: (np.array or Iterable or int or float) -> object
    """An array-like object as NPY bytes."""
    buffer = BytesIO()
    np.save(buffer, array_like)
    return buffer.getvalue()


def npy_to_numpy(npy_array):  # type: (object) -> np.array
    """NPY bytes as a numpy array."""
    stream = BytesIO(npy_array)
    return np.load(stream, allow_pickle=True)


def array_to_json(array_like):  # type: (np.array or Iterable or int or float) -> str
    """An array-like object as JSON (arrays through tolist())."""

    def default(_array_like):
        if hasattr(_array_like, "tolist"):
            return _array_like.tolist()
        return json.JSONEncoder().default(_array_like)

    return json.dumps(array_like, default=default)


def json_to_numpy(string_like, dtype=None):  # type: (str) -> np.array
    """JSON as a numpy array."""
    data = json.loads(string_like)
    return np.array(data, dtype=dtype)


def csv_to_numpy(string_like, dtype=None):  # type: (str) -> np.array
    """CSV text as a numpy array (of strings unless ``dtype``), squeezed."""
    try:
        stream = StringIO(string_like)
        reader = csv.reader(stream, delimiter=",", quotechar='"', doublequote=True, strict=True)
        array = np.array([row for row in reader]).squeeze()
        array = array.astype(dtype)
    except ValueError as e:
        if dtype is not None:
            raise _errors.ClientError("Error while writing numpy array: {}. dtype is: {}".format(e, dtype))
    except Exception as e:
        raise _errors.ClientError("Error while decoding csv: {}".format(e))
    return array


def array_to_csv(array_like):  # type: (np.array or Iterable or int or float) -> str
    """An array-like object as CSV text, one row per line (a 1-D array as one column)."""
    array = np.array(array_like)
    if len(array.shape) == 1:
        array = np.reshape(array, (array.shape[0], 1))

    try:
        stream = StringIO()
        writer = csv.writer(stream, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True, strict=True)
        writer.writerows(array)
        return stream.getvalue()
    except csv.Error as e:
        raise _errors.ClientError("Error while encoding csv: {}".format(e))


def array_to_recordio_protobuf(array_like, labels=None):
    """Not on this machine: the container writes recordio-protobuf with its generated protobuf classes."""
    raise NotSupportedLocally(
        "array_to_recordio_protobuf is not supported locally: the container writes recordio-protobuf with "
        "sagemaker-containers' generated protobuf classes, which this emulator does not have. Encode as text/csv, "
        "application/json or application/x-npy instead."
    )


_encoders_map = {
    _content_types.NPY: array_to_npy,
    _content_types.CSV: array_to_csv,
    _content_types.JSON: array_to_json,
}
_decoders_map = {
    _content_types.NPY: npy_to_numpy,
    _content_types.CSV: csv_to_numpy,
    _content_types.JSON: json_to_numpy,
}


def decode(obj, content_type):
    # type: (np.array or Iterable or int or float, str) -> np.array
    """Decode ``obj`` of a default content type (JSON, CSV, NPY) to a numpy array."""
    try:
        decoder = _decoders_map[content_type]
        return decoder(obj)
    except KeyError:
        raise _errors.UnsupportedFormatError(content_type)


def encode(array_like, content_type):
    # type: (np.array or Iterable or int or float, str) -> np.array
    """Encode an array-like object as ``content_type`` (JSON, CSV, NPY)."""
    try:
        encoder = _encoders_map[content_type]
        return encoder(array_like)
    except KeyError:
        raise _errors.UnsupportedFormatError(content_type)

