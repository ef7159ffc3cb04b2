"""Direct access to moto's in-process S3 and CloudWatch Logs state, for the work SageMaker does on a user's behalf.

Training jobs and endpoints read data and models from S3 and write logs as the SageMaker service would, not as
a client: no HTTP round trip, no TLS, no bucket policy (the service acts with the job's role, which the stack
grants what it needs). Every lookup is by account and region, so it works for any account id the clients use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from urllib.parse import urlparse

from moto.logs.exceptions import ResourceAlreadyExistsException
from moto.logs.models import logs_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition


class S3ObjectMissing(LookupError):
    """No bucket or no object at an S3 URI."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an S3 URI of the form s3://bucket/key")
    return parsed.netloc, parsed.path.lstrip("/")


def _s3(account_id: str, region: str):  # -> moto.s3.models.S3Backend
    return s3_backends[account_id][get_partition(region)]


def _bucket(account_id: str, region: str, bucket_name: str):  # -> moto.s3.models.FakeBucket
    try:
        return _s3(account_id, region).get_bucket(bucket_name)
    except MissingBucket:
        raise S3ObjectMissing(f"bucket {bucket_name!r} does not exist") from None


def list_objects(account_id: str, region: str, uri: str) -> list[str]:
    """Keys of the objects under an S3 prefix, in key order (S3Prefix semantics: a plain string prefix)."""
    bucket_name, prefix = parse_s3_uri(uri)
    bucket = _bucket(account_id, region, bucket_name)
    keys, _folders, _truncated, _marker = _s3(account_id, region).list_objects(
        bucket, prefix=prefix or None, delimiter=None, marker=None, max_keys=None
    )
    return [key.name for key in keys]


def get_object(account_id: str, region: str, uri: str) -> bytes:
    bucket_name, key = parse_s3_uri(uri)
    _bucket(account_id, region, bucket_name)
    found = _s3(account_id, region).get_object(bucket_name, key) if key else None
    if found is None:
        raise S3ObjectMissing(f"no object at {uri}")
    return found.value


def put_object(account_id: str, region: str, uri: str, data: bytes) -> None:
    bucket_name, key = parse_s3_uri(uri)
    _bucket(account_id, region, bucket_name)
    _s3(account_id, region).put_object(bucket_name, key, data)


class LogStream:
    """One CloudWatch Logs stream that a job or an endpoint writes to while it runs."""

    def __init__(self, account_id: str, region: str, group: str, stream: str) -> None:
        self._backend = logs_backends[account_id][region]
        self.group = group
        self.stream = stream
        self.arn = f"arn:{get_partition(region)}:logs:{region}:{account_id}:log-group:{group}"
        self._lock = threading.Lock()
        self._last_timestamp = 0
        self._backend.ensure_log_group(group)
        try:
            self._backend.create_log_stream(group, stream)
        except ResourceAlreadyExistsException:
            pass

    def write(self, messages: Iterable[str]) -> None:
        with self._lock:
            # moto pages a stream by position in timestamp order, so timestamps must never go backwards, or a
            # reader following the stream would skip or repeat events.
            timestamp = max(int(time.time() * 1000), self._last_timestamp)
            self._last_timestamp = timestamp
            events = [{"timestamp": timestamp, "message": message} for message in messages]
            if events:
                self._backend.put_log_events(self.group, self.stream, events)
