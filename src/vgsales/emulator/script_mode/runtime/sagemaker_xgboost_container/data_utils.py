"""Training data as DMatrix, as aws/sagemaker-xgboost-container v3.0-5 src/sagemaker_xgboost_container/data_utils.py
reads it: get_content_type, validate_data_file_path, get_dmatrix (a channel's folder or file; its files, down to
three levels of folders, linked into one folder that XGBoost's own parser reads: the label in the first CSV column,
the delimiter sniffed from the first line), get_size, check_data_redundancy, with the container's UserErrors.

Local differences:
- the folder of links is per process (<tempdir>/sagemaker_xgboost_input_data-<pid>, removed at exit), where the
  container has one /tmp/sagemaker_xgboost_input_data: the hosts of a job share this machine;
- Pipe mode and recordio-protobuf (mlio) raise NotSupportedLocally, as does Parquet when pyarrow is not installed in
  the job's environment (add pyarrow to requirements.txt: with it, Parquet is read as the container reads it).
"""

from __future__ import annotations

import atexit
import csv
import logging
import os
import shutil
import tempfile
from typing import List, Union

import xgboost as xgb
from sagemaker_algorithm_toolkit import exceptions as exc
from sagemaker_containers import _content_types
from vgsales_script_local import NotSupportedLocally

from sagemaker_xgboost_container import _text_input
from sagemaker_xgboost_container._cgi import parse_header
from sagemaker_xgboost_container.constants import xgb_content_types

BATCH_SIZE = 4000

CSV = "csv"
LIBSVM = "libsvm"
PARQUET = "parquet"
RECORDIO_PROTOBUF = "recordio-protobuf"

MAX_FOLDER_DEPTH = 3

VALID_CONTENT_TYPES = [
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    _content_types.CSV,
    xgb_content_types.LIBSVM,
    xgb_content_types.X_LIBSVM,
    xgb_content_types.X_PARQUET,
    xgb_content_types.X_RECORDIO_PROTOBUF,
]

VALID_PIPED_CONTENT_TYPES = [
    CSV,
    PARQUET,
    RECORDIO_PROTOBUF,
    _content_types.CSV,
    xgb_content_types.X_PARQUET,
    xgb_content_types.X_RECORDIO_PROTOBUF,
]


INVALID_CONTENT_TYPE_ERROR = (
    "{invalid_content_type} is not an accepted ContentType: " + ", ".join(["%s" % c for c in VALID_CONTENT_TYPES]) + "."
)
INVALID_CONTENT_FORMAT_ERROR = (
    "First line '{line_snippet}...' of file '{file_name}' is not "
    "'{content_type}' format. Please ensure the file is in '{content_type}' format."
)

_LINKS_DIR = os.path.join(tempfile.gettempdir(), "sagemaker_xgboost_input_data-{}".format(os.getpid()))
atexit.register(shutil.rmtree, _LINKS_DIR, ignore_errors=True)


def _not_supported_locally(what):
    return NotSupportedLocally(
        "{} is not supported locally: the container reads it with mlio, which this emulator does not have. Use "
        "File mode with CSV or LIBSVM data (or Parquet, with pyarrow in your requirements.txt).".format(what)
    )


def _get_invalid_content_type_error_msg(invalid_content_type):
    return INVALID_CONTENT_TYPE_ERROR.format(invalid_content_type=invalid_content_type)


def _get_invalid_libsvm_error_msg(line_snippet, file_name):
    return INVALID_CONTENT_FORMAT_ERROR.format(line_snippet=line_snippet, file_name=file_name, content_type="LIBSVM")


def _get_invalid_csv_error_msg(line_snippet, file_name):
    return INVALID_CONTENT_FORMAT_ERROR.format(line_snippet=line_snippet, file_name=file_name, content_type="CSV")


def get_content_type(content_type_cfg_val):
    """The data format of a channel's ContentType: 'libsvm' when None; 'csv' for csv, text/csv (label_size, when
    given, must be 1); 'libsvm', 'parquet', 'recordio-protobuf' likewise; UserError for anything else."""
    if content_type_cfg_val is None:
        return LIBSVM
    else:
        content_type, params = parse_header(content_type_cfg_val.lower())

        if content_type in [CSV, _content_types.CSV]:
            # CSV content type allows a label_size parameter that should be 1 for XGBoost
            if params and "label_size" in params and params["label_size"] != "1":
                msg = (
                    "{} is not an accepted csv ContentType. "
                    "Optional parameter label_size must be equal to 1".format(content_type_cfg_val)
                )
                raise exc.UserError(msg)
            return CSV
        elif content_type in [LIBSVM, xgb_content_types.LIBSVM, xgb_content_types.X_LIBSVM]:
            return LIBSVM
        elif content_type in [PARQUET, xgb_content_types.X_PARQUET]:
            return PARQUET
        elif content_type in [RECORDIO_PROTOBUF, xgb_content_types.X_RECORDIO_PROTOBUF]:
            return RECORDIO_PROTOBUF
        else:
            raise exc.UserError(_get_invalid_content_type_error_msg(content_type_cfg_val))


def _is_data_file(file_path, file_name):
    """A data file: not starting with '.' or '_', and not an XGBoost cache file."""
    if not os.path.isfile(os.path.join(file_path, file_name)):
        return False
    if file_name.startswith(".") or file_name.startswith("_"):
        return False
    # avoid XGB cache file
    if ".cache" in file_name:
        if "dtrain" in file_name or "dval" in file_name:
            return False
    return True


def _get_csv_delimiter(sample_csv_line):
    try:
        delimiter = csv.Sniffer().sniff(sample_csv_line).delimiter
        logging.info("Determined delimiter of CSV input is '{}'".format(delimiter))
    except Exception as e:
        raise exc.UserError("Could not determine delimiter on line {}:\n{}".format(sample_csv_line[:50], e))
    return delimiter


def _get_num_valid_libsvm_features(libsvm_line):
    """The number of well-formed features of a LIBSVM line, -1 if the line is not LIBSVM."""
    split_line = libsvm_line.split(" ")
    num_sparse_features = 0

    if not _is_valid_libsvm_label(split_line[0]):
        logging.error("{} does not follow LIBSVM label format <label>(:<weight>).".format(split_line[0]))
        return -1

    if len(split_line) > 1:
        for idx in range(1, len(split_line)):
            if ":" not in split_line[idx]:
                return -1
            else:
                libsvm_feature_contents = split_line[1].split(":")
                if len(libsvm_feature_contents) != 2:
                    return -1
                else:
                    num_sparse_features += 1
        return num_sparse_features
    else:
        return 0


def _is_valid_libsvm_label(libsvm_label):
    """<label> or <label>:<instance_weight>, both numbers."""
    split_label = libsvm_label.split(":")

    if len(split_label) <= 2:
        for label_part in split_label:
            try:
                float(label_part)
            except ValueError:
                return False
    else:
        return False

    return True


def _validate_csv_format(file_path):
    """The delimiter of the file's first line can be sniffed."""
    with open(file_path, "r", errors="ignore") as read_file:
        line_to_validate = read_file.readline()
        _get_csv_delimiter(line_to_validate)


def _validate_libsvm_format(file_path):
    """The first line with features is LIBSVM."""
    with open(file_path, "r", errors="ignore") as read_file:
        for line_to_validate in read_file:
            num_sparse_libsvm_features = _get_num_valid_libsvm_features(line_to_validate)

            if num_sparse_libsvm_features > 1:
                # Return after first valid LIBSVM line with features
                return
            elif num_sparse_libsvm_features < 0:
                raise exc.UserError(
                    _get_invalid_libsvm_error_msg(
                        line_snippet=line_to_validate[:50], file_name=file_path.split("/")[-1]
                    )
                )

    logging.warning(
        "File {} is not an invalid LIBSVM file but has no features. Accepting simple validation.".format(
            file_path.split("/")[-1]
        )
    )


def validate_data_file_path(data_path, content_type):
    """Check the first lines of the files in data_path against content_type (not a full check)."""
    parsed_content_type = get_content_type(content_type)

    if not os.path.exists(data_path):
        raise exc.UserError("{} is not a valid path!".format(data_path))
    else:

        if os.path.isfile(data_path):
            data_files = [data_path]
        else:
            dir_path = None
            for root, dirs, files in os.walk(data_path):
                if dirs == []:
                    dir_path = root
                    break
            data_files = [
                os.path.join(dir_path, file_name)
                for file_name in os.listdir(dir_path)
                if _is_data_file(dir_path, file_name)
            ]
        if parsed_content_type.lower() == CSV:
            for data_file_path in data_files:
                _validate_csv_format(data_file_path)
        elif parsed_content_type.lower() == LIBSVM:
            for data_file_path in data_files:
                _validate_libsvm_format(data_file_path)
        elif parsed_content_type.lower() == PARQUET or parsed_content_type.lower() == RECORDIO_PROTOBUF:
            # No op
            return


def _get_csv_dmatrix_file_mode(files_path, csv_weights):
    """The CSV files of files_path (a folder or a file) with the label in the first column (and the instance
    weight in the second when csv_weights is 1), the delimiter sniffed from the first line of a file."""
    csv_file = (
        files_path
        if os.path.isfile(files_path)
        else [f for f in os.listdir(files_path) if os.path.isfile(os.path.join(files_path, f))][0]
    )
    with open(os.path.join(files_path, csv_file)) as read_file:
        sample_csv_line = read_file.readline()
    delimiter = _get_csv_delimiter(sample_csv_line)

    try:
        if csv_weights == 1:
            dmatrix = _text_input.dmatrix(
                "{}?format=csv&label_column=0&delimiter={}&weight_column=1".format(files_path, delimiter)
            )
        else:
            dmatrix = _text_input.dmatrix("{}?format=csv&label_column=0&delimiter={}".format(files_path, delimiter))

    except Exception as e:
        raise exc.UserError("Failed to load csv data with exception:\n{}".format(e))

    return dmatrix


def _get_csv_dmatrix_pipe_mode(pipe_path, csv_weights):
    raise _not_supported_locally("Pipe mode (CSV)")


def get_csv_dmatrix(path, csv_weights, is_pipe=False):
    """A DMatrix of CSV data in a folder or file (Pipe mode: not supported locally)."""
    if is_pipe:
        return _get_csv_dmatrix_pipe_mode(path, csv_weights)
    else:
        return _get_csv_dmatrix_file_mode(path, csv_weights)


def get_libsvm_dmatrix(files_path, is_pipe=False):
    """A DMatrix of LIBSVM data in a folder or file; UserError in Pipe mode, as in the container."""
    if is_pipe:
        raise exc.UserError("Pipe mode not supported for LibSVM.")

    try:
        dmatrix = _text_input.dmatrix(f"{files_path}?format=libsvm")
    except Exception as e:
        raise exc.UserError("Failed to load libsvm data with exception:\n{}".format(e))

    return dmatrix


def _get_parquet_dmatrix_file_mode(files_path):
    """Parquet files with the label in the first column, read with pyarrow as the container reads them."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise NotSupportedLocally(
            "Parquet data is not supported locally without pyarrow, which the container has and the job's "
            "environment does not: add pyarrow to your requirements.txt."
        ) from None
    import pandas as pd

    try:
        table = pq.read_table(files_path)

        data = table.to_pandas()
        del table

        if type(data) is pd.DataFrame:
            # pyarrow.Table.to_pandas may produce NumPy array or pandas DataFrame
            data = data.to_numpy()

        dmatrix = xgb.DMatrix(data[:, 1:], label=data[:, 0])
        del data

        return dmatrix

    except Exception as e:
        raise exc.UserError("Failed to load parquet data with exception:\n{}".format(e))


def _get_parquet_dmatrix_pipe_mode(pipe_path):
    raise _not_supported_locally("Pipe mode (Parquet)")


def get_parquet_dmatrix(path, is_pipe=False):
    """A DMatrix of Parquet data in a folder or file (needs pyarrow; Pipe mode: not supported locally)."""
    if is_pipe:
        return _get_parquet_dmatrix_pipe_mode(path)
    else:
        return _get_parquet_dmatrix_file_mode(path)


def get_recordio_protobuf_dmatrix(path, is_pipe=False):
    """Not on this machine: the container reads recordio-protobuf with mlio."""
    raise _not_supported_locally("recordio-protobuf data")


def _get_pipe_mode_files_path(data_path: Union[List[str], str]) -> List[str]:
    """The pipes of a channel (data_path_0, ...), None when there are none."""
    if isinstance(data_path, list):
        files_path = data_path
    else:
        files_path = [data_path]
        if not os.path.exists(f"{data_path}_0"):
            logging.info(f"Pipe path {data_path} does not exist!")
            return None
    return files_path


def _make_symlinks_from_a_folder(dest_path: str, data_path: str, depth: int):
    if depth > MAX_FOLDER_DEPTH:
        raise exc.UserError(f"Folder depth exceed the limit: {MAX_FOLDER_DEPTH}.")

    if os.path.isfile(data_path):
        _make_symlink(data_path, dest_path, os.path.basename(data_path))
        return
    else:
        logging.info(f"Making smlinks from folder {data_path} to folder {dest_path}")
        for item in os.scandir(data_path):
            if item.is_file():
                _make_symlink(item.path, dest_path, item.name)
            elif item.is_dir():
                _make_symlinks_from_a_folder(dest_path, item.path, depth + 1)


def _make_symlinks_from_a_folder_with_warning(dest_path: str, data_path: str):
    """Link data_path (a file) or its files down to MAX_FOLDER_DEPTH levels (a folder) into dest_path; deeper
    files are left out, with a warning."""
    if (not os.path.exists(dest_path)) or (not os.path.exists(data_path)):
        raise exc.AlgorithmError(f"Unable to create symlinks as {data_path} or {dest_path} doesn't exist ")

    if not os.path.isdir(dest_path):
        raise exc.AlgorithmError(f"Unable to create symlinks as dest_path {dest_path} is not a dir")

    try:
        _make_symlinks_from_a_folder(dest_path, data_path, 1)
    except exc.UserError as e:
        if e.message == f"Folder depth exceed the limit: {MAX_FOLDER_DEPTH}.":
            logging.warning(
                f"The depth of folder {data_path} exceed the limit {MAX_FOLDER_DEPTH}."
                f" Files in deeper sub dirs won't be loaded."
                f" Please adjust the folder structure accordingly."
            )


def _get_file_mode_files_path(data_path: Union[List[str], str]) -> List[str]:
    """A folder of links to every input file of data_path (a folder, a file, or a list of them), since XGBoost
    reads the files of one folder; None when data_path does not exist."""
    logging.info("File path {} of input files".format(data_path))
    # Create a directory with symlinks to input files.
    files_path = _LINKS_DIR
    shutil.rmtree(files_path, ignore_errors=True)
    os.mkdir(files_path)
    if isinstance(data_path, list):
        for path in data_path:
            _make_symlinks_from_a_folder_with_warning(files_path, path)
    else:
        if not os.path.exists(data_path):
            logging.info("File path {} does not exist!".format(data_path))
            return None
        elif os.path.isdir(data_path) or os.path.isfile(data_path):
            # traverse all sub-dirs to load all training data
            _make_symlinks_from_a_folder_with_warning(files_path, data_path)
        else:
            exc.UserError("Unknown input files path: {}".format(data_path))

    return files_path


def get_dmatrix(data_path, content_type, csv_weights=0, is_pipe=False):
    """A DMatrix of the data in data_path (a channel's folder, a file, or a list of them) in the format
    content_type names ('csv', 'libsvm', 'parquet', 'recordio-protobuf': get_content_type's answers, not media
    types); csv_weights=1: the instance weights are the second CSV column. UserError for data without labels. A path
    that does not exist is read as None, which fails in each format's own way (TypeError for CSV, UserError for
    LIBSVM), as in the container."""
    if is_pipe:
        files_path = _get_pipe_mode_files_path(data_path)
    else:
        files_path = _get_file_mode_files_path(data_path)
    logging.info(f"files path: {files_path}")
    if content_type.lower() == CSV:
        dmatrix = get_csv_dmatrix(files_path, csv_weights, is_pipe)
    elif content_type.lower() == LIBSVM:
        dmatrix = get_libsvm_dmatrix(files_path, is_pipe)
    elif content_type.lower() == PARQUET:
        dmatrix = get_parquet_dmatrix(files_path, is_pipe)
    elif content_type.lower() == RECORDIO_PROTOBUF:
        dmatrix = get_recordio_protobuf_dmatrix(files_path, is_pipe)

    if dmatrix and dmatrix.get_label().size == 0:
        raise exc.UserError(
            "Got input data without labels. Please check the input data set. "
            "If training job is running on multiple instances, please switch "
            "to using single instance if number of records in the data set "
            "is less than number of workers (16 * number of instance) in the cluster."
        )

    return dmatrix


def get_size(data_path, is_pipe=False):
    """The size in bytes of the data at data_path (0 when missing; 1 for a pipe); UserError for a hidden file."""
    if is_pipe and os.path.exists(f"{data_path}_0"):
        logging.info(f"Pipe path {data_path} found.")
        return 1
    if not os.path.exists(data_path):
        logging.info(f"Path {data_path} does not exist!")
        return 0
    else:
        total_size = 0
        if os.path.isfile(data_path):
            return os.path.getsize(data_path)
        else:
            for root, dirs, files in os.walk(data_path):
                for current_file in files:
                    if current_file.startswith("."):
                        raise exc.UserError("Hidden file found in the data path! Remove that before training.")
                    file_path = os.path.join(root, current_file)
                    total_size += os.path.getsize(file_path)
            return total_size


def _make_symlink(path, source_path, name):
    base_name = os.path.join(source_path, name)
    file_name = base_name + str(hash(path))
    logging.info(f"creating symlink between Path {path} and destination {file_name}")
    os.symlink(path, file_name)


def check_data_redundancy(train_path, validate_path):
    """Warn about files of the same name and size in the training and validation folders."""
    if not os.path.exists(train_path):
        raise exc.UserError("training data's path is not existed")
    if not os.path.exists(validate_path):
        raise exc.UserError("validation data's path is not existed")

    training_files_set = set(f for f in os.listdir(train_path) if os.path.isfile(os.path.join(train_path, f)))
    validation_files_set = set(f for f in os.listdir(validate_path) if os.path.isfile(os.path.join(validate_path, f)))
    same_name_files = training_files_set.intersection(validation_files_set)
    for f in same_name_files:
        f_train_path = os.path.join(train_path, f)
        f_validate_path = os.path.join(validate_path, f)
        f_train_size = os.path.getsize(f_train_path)
        f_validate_size = os.path.getsize(f_validate_path)
        if f_train_size == f_validate_size:
            logging.warning(
                f"Suspected identical files found. ({f_train_path} and {f_validate_path}"
                f"with same size {f_validate_size} bytes)."
                f" Note: Duplicate data in the training set and validation set is usually"
                f" not intentional and can impair the validity of the model evaluation by"
                f" the validation score."
            )

