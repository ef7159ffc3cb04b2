"""Files of the container, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_files.py handles them: the
success and failure files of a training job, and the code's download (s3:// with boto3, which here reaches this
emulator through the job's own client settings, or a local folder or archive)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tarfile
import tempfile
from urllib import parse

from sagemaker_containers import _env, _params


def write_success_file():  # type: () -> None
    """Create /opt/ml/output/success, empty, when training is successful."""
    file_path = os.path.join(_env.output_dir, "success")
    empty_content = ""
    write_file(file_path, empty_content)


def write_failure_file(failure_msg):  # type: (str) -> None
    """Write /opt/ml/output/failure: SageMaker returns its first 1024 characters as the job's FailureReason."""
    file_path = os.path.join(_env.output_dir, "failure")
    write_file(file_path, failure_msg)


@contextlib.contextmanager
def tmpdir(suffix="", prefix="tmp", directory=None):  # type: (str, str, str) -> None
    """A temporary directory, removed when the context exits."""
    tmp = tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=directory)
    yield tmp
    shutil.rmtree(tmp)


def write_file(path, data, mode="w"):  # type: (str, str, str) -> None
    with open(path, mode) as f:
        f.write(data)


def read_file(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def read_json(path):  # type: (str) -> dict
    with open(path, "r") as f:
        return json.load(f)


def download_and_extract(uri, path):  # type: (str, str) -> None
    """Put the entry point's code from ``uri`` (s3:// tar.gz, a folder, a tar.gz or a file) into ``path``, unless
    ``path`` already holds something (the emulator extracts the code into /opt/ml/code before the job starts)."""
    if not os.path.exists(path):
        os.makedirs(path)
    if not os.listdir(path):
        with tmpdir() as tmp:
            if uri.startswith("s3://"):
                dst = os.path.join(tmp, "tar_file")
                s3_download(uri, dst)

                with tarfile.open(name=dst, mode="r:gz") as t:
                    t.extractall(path=path)

            elif os.path.isdir(uri):
                if uri == path:
                    return
                if os.path.exists(path):
                    shutil.rmtree(path)
                shutil.copytree(uri, path)
            elif tarfile.is_tarfile(uri):
                with tarfile.open(name=uri, mode="r:gz") as t:
                    t.extractall(path=path)
            else:
                shutil.copy2(uri, path)


def s3_download(url, dst):  # type: (str, str) -> None
    """Download s3://bucket/key to ``dst``."""
    import boto3

    url = parse.urlparse(url)

    if url.scheme != "s3":
        raise ValueError("Expecting 's3' scheme, got: %s in %s" % (url.scheme, url))

    bucket, key = url.netloc, url.path.lstrip("/")

    env = _env.environ()
    region = env.get("AWS_REGION", env.get(_params.REGION_NAME_ENV))
    endpoint_url = env.get(_params.S3_ENDPOINT_URL, None)
    s3 = boto3.resource("s3", region_name=region, endpoint_url=endpoint_url)

    s3.Bucket(bucket).download_file(key, dst)
