"""Training data for the built-in XGBoost algorithm: the content types it accepts and how its files become DMatrix.

Mirrors the algorithm container (data_utils.py): libsvm is the default when a channel names no content type,
CSV carries the label in the first column (and, with csv_weights=1, instance weights in the second), and files
whose names start with '.' or '_' are not data. Errors are InvalidTrainingData, which a job reports as a
ClientError like AWS does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
import xgboost as xgb
from sklearn.datasets import load_svmlight_files

from ..errors import WorkshopError

LIBSVM = "libsvm"
CSV = "csv"

LIBSVM_TYPES = ("libsvm", "text/libsvm", "text/x-libsvm")
CSV_TYPES = ("csv", "text/csv")
# Accepted by the algorithm on AWS, but not read by the emulator.
OTHER_ALGORITHM_TYPES = (
    "parquet", "application/x-parquet", "recordio-protobuf", "application/x-recordio-protobuf",
)
# In the order the algorithm's own error message lists them.
ACCEPTED_TYPES = (
    "csv", "libsvm", "parquet", "recordio-protobuf", "text/csv", "text/libsvm", "text/x-libsvm",
    "application/x-parquet", "application/x-recordio-protobuf",
)


class InvalidTrainingData(WorkshopError):
    """Training data the built-in algorithm would refuse."""


class UnsupportedTrainingData(WorkshopError):
    """Data the algorithm reads on AWS but the local emulator does not."""


def training_format(content_type: str | None) -> str:
    """LIBSVM or CSV for a channel's ContentType, as the algorithm resolves it (no content type means libsvm)."""
    if content_type is None or not content_type.strip():
        return LIBSVM
    lowered = content_type.strip().lower()
    base, _, parameters = lowered.partition(";")
    base = base.strip()
    if base in LIBSVM_TYPES and not parameters:
        return LIBSVM
    if base in CSV_TYPES:
        for parameter in filter(None, (p.strip() for p in parameters.split(";"))):
            name, _, value = parameter.partition("=")
            if name.strip() == "label_size" and value.strip() != "1":
                raise InvalidTrainingData(
                    f"{content_type} is not an accepted csv ContentType. Optional parameter label_size must be equal to 1"
                )
        return CSV
    if base in OTHER_ALGORITHM_TYPES:
        raise UnsupportedTrainingData(
            f"ContentType {content_type} is accepted by the algorithm on AWS, but the local emulator reads only "
            "libsvm and CSV channels; convert the data or use the aws target."
        )
    raise InvalidTrainingData(f"{content_type} is not an accepted ContentType: {', '.join(ACCEPTED_TYPES)}.")


def is_data_file(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith((".", "_"))


@dataclass(frozen=True)
class DataFile:
    name: str
    content: bytes


def _csv_delimiter(first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t| ").delimiter
    except csv.Error:
        return ","  # one column, or nothing to tell from: the algorithm's default


def _read_csv(files: Sequence[DataFile]) -> np.ndarray:
    frames = []
    for file in files:
        text = file.content.decode("utf-8", errors="replace")
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        if not first_line:
            continue
        try:
            frame = pd.read_csv(io.StringIO(text), header=None, sep=_csv_delimiter(first_line), dtype=np.float32)
        except (ValueError, pd.errors.ParserError) as exc:
            snippet = first_line[:50]
            raise InvalidTrainingData(
                f"Failed to load csv data from '{file.name}' (first line '{snippet}...'): {exc}. The built-in "
                "XGBoost algorithm expects numbers only, no header row, and the label in the first column."
            ) from None
        frames.append(frame.to_numpy())
    if not frames:
        return np.empty((0, 0), dtype=np.float32)
    widths = {frame.shape[1] for frame in frames}
    if len(widths) > 1:
        raise InvalidTrainingData(f"The CSV files of one channel have different numbers of columns: {sorted(widths)}.")
    return np.vstack(frames)


def _csv_matrix(table: np.ndarray, csv_weights: bool, channel: str) -> xgb.DMatrix:
    needed = 3 if csv_weights else 2
    if table.shape[1] < needed:
        what = "a label, a weight and at least one feature" if csv_weights else "a label and at least one feature"
        raise InvalidTrainingData(f"The CSV data of channel '{channel}' has {table.shape[1]} column(s); each row needs {what}.")
    first_feature = 2 if csv_weights else 1
    return xgb.DMatrix(
        table[:, first_feature:],
        label=table[:, 0],
        weight=table[:, 1] if csv_weights else None,
        missing=np.nan,
    )


@dataclass
class TrainingData:
    train: xgb.DMatrix
    validation: xgb.DMatrix | None

    @property
    def num_features(self) -> int:
        return self.train.num_col()


def load_training_data(
    train: Sequence[DataFile],
    validation: Sequence[DataFile] | None,
    data_format: str,
    csv_weights: bool = False,
) -> TrainingData:
    """Build the train and validation DMatrix from the objects of their channels."""
    if data_format == LIBSVM:
        return _load_libsvm(train, validation or [])
    train_table = _read_csv(train)
    if train_table.shape[0] == 0:
        raise InvalidTrainingData("The train channel contains no rows of data.")
    dtrain = _csv_matrix(train_table, csv_weights, "train")
    dval = None
    if validation:
        val_table = _read_csv(validation)
        if val_table.shape[0]:
            if val_table.shape[1] != train_table.shape[1]:
                raise InvalidTrainingData(
                    f"The validation data has {val_table.shape[1]} CSV columns but the train data has "
                    f"{train_table.shape[1]}; both need the same layout (label first)."
                )
            dval = _csv_matrix(val_table, csv_weights, "validation")
    return TrainingData(dtrain, dval)


def _load_libsvm(train: Sequence[DataFile], validation: Sequence[DataFile]) -> TrainingData:
    files = [*train, *validation]
    try:
        # One call for both channels so that they share a feature count, as XGBoost needs for evaluation.
        loaded = load_svmlight_files([io.BytesIO(f.content) for f in files], zero_based=True, dtype=np.float32)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidTrainingData(
            f"Failed to load libsvm data: {exc}. Each line must be '<label> <index>:<value> ...' with zero-based, "
            "ascending feature indices."
        ) from None
    matrices, labels = loaded[0::2], loaded[1::2]

    def stack(first: int, count: int) -> xgb.DMatrix | None:
        if count == 0:
            return None
        features = scipy.sparse.vstack(matrices[first:first + count], format="csr")
        if features.shape[0] == 0:
            return None
        return xgb.DMatrix(features, label=np.concatenate(labels[first:first + count]), missing=np.nan)

    dtrain = stack(0, len(train))
    if dtrain is None:
        raise InvalidTrainingData("The train channel contains no rows of data.")
    return TrainingData(dtrain, stack(len(train), len(validation)))
