"""Request bodies as DMatrix, as aws/sagemaker-xgboost-container v3.0-5 src/sagemaker_xgboost_container/encoder.py
decodes them: text/csv (delimiter sniffed from the first line, empty cells as NaN), text/libsvm and text/x-libsvm
(XGBoost's own parser), application/x-recordio-protobuf (mlio); UnsupportedFormatError for any other type.

Local difference: recordio-protobuf raises NotSupportedLocally (the container reads it with mlio, which this machine
does not have).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from typing import Union

import numpy as np
import xgboost as xgb
from sagemaker_containers import _content_types, _errors
from vgsales_script_local import NotSupportedLocally

from sagemaker_xgboost_container import _text_input
from sagemaker_xgboost_container._cgi import parse_header
from sagemaker_xgboost_container.constants import xgb_content_types


def _clean_csv_string(csv_string, delimiter):
    return ["nan" if x == "" else x for x in csv_string.split(delimiter)]


def csv_to_dmatrix(input: Union[str, bytes], dtype=None) -> xgb.DMatrix:
    """CSV text (str, or UTF-8 bytes) without a label column as a DMatrix. The text must not start or end with a
    newline: an empty line is a row of one NaN, which numpy cannot stack with the others."""
    csv_string = input.decode() if isinstance(input, bytes) else input
    sniff_delimiter = csv.Sniffer().sniff(csv_string.split("\n")[0][:512]).delimiter
    delimiter = "," if sniff_delimiter.isalnum() else sniff_delimiter
    logging.info("Determined delimiter of CSV input is '{}'".format(delimiter))

    np_payload = np.array(list(map(lambda x: _clean_csv_string(x, delimiter), csv_string.split("\n")))).astype(dtype)
    return xgb.DMatrix(np_payload)


def libsvm_to_dmatrix(string_like):  # type: (bytes) -> xgb.DMatrix
    """LIBSVM bytes (label index:value ...) as a DMatrix, through a temporary file and XGBoost's parser."""
    temp_file_location = None
    try:
        with tempfile.NamedTemporaryFile(delete=False) as libsvm_file:
            temp_file_location = libsvm_file.name
            libsvm_file.write(string_like)

        dmatrix = _text_input.dmatrix(f"{temp_file_location}?format=libsvm")
    finally:
        if temp_file_location and os.path.exists(temp_file_location):
            os.remove(temp_file_location)

    return dmatrix


def recordio_protobuf_to_dmatrix(string_like):  # type: (bytes) -> xgb.DMatrix
    """Not on this machine: the container reads RecordIO-Protobuf with mlio."""
    raise NotSupportedLocally(
        "application/x-recordio-protobuf is not supported locally: the container reads it with mlio, which this "
        "emulator does not have. Send text/csv or text/libsvm, or decode the body in your own input_fn."
    )


_dmatrix_decoders_map = {
    _content_types.CSV: csv_to_dmatrix,
    xgb_content_types.LIBSVM: libsvm_to_dmatrix,
    xgb_content_types.X_LIBSVM: libsvm_to_dmatrix,
    xgb_content_types.X_RECORDIO_PROTOBUF: recordio_protobuf_to_dmatrix,
}


def json_to_jsonlines(json_data):
    """{"key": [a, b]} (a dict or its JSON) as JSON Lines bytes: one line per entry of its only value."""
    resp_dict = json_data if isinstance(json_data, dict) else json.loads(json_data)

    if len(resp_dict.keys()) != 1:
        raise ValueError("JSON response is not compatible for conversion to jsonlines.")

    bio = io.BytesIO()
    for value in resp_dict.values():
        for entry in value:
            bio.write(bytes(json.dumps(entry) + "\n", "UTF-8"))
    return bio.getvalue()


def decode(obj, content_type):
    # type: (np.array or Iterable or int or float, str) -> xgb.DMatrix
    """Decode a request body of ``content_type`` (parameters after ';' ignored, the type itself case-sensitive)."""
    try:
        media_content_type, _params = parse_header(content_type)
        decoder = _dmatrix_decoders_map[media_content_type]
        return decoder(obj)
    except KeyError:
        raise _errors.UnsupportedFormatError(media_content_type)
