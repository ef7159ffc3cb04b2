"""Direct access to moto's in-process S3 and CloudWatch Logs state, for the work SageMaker does on a user's behalf.

Training jobs, transform jobs and endpoints read data and models from S3 and write logs as the SageMaker service
would, not as a client: no HTTP round trip. They act as their execution role (ServiceAccess.acting_as): each
action is authorised as the role's, with the role's policies and the bucket's policy, before it touches moto
(role_access.py), and a refusal reaches the job as role_access.AccessDenied. Every lookup is by account and
region, so it works for any account id the clients use.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlparse

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.iam.exceptions import NotFoundException as RoleNotFound
from moto.iam.models import IAMBackend, iam_backends
from moto.logs.exceptions import ResourceAlreadyExistsException
from moto.logs.models import LogsBackend, logs_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.sagemaker.models import SageMakerModelBackend
from moto.sts.models import AssumedRole, STSBackend, sts_backends
from moto.utilities.utils import get_partition

from . import metrics
from .role_access import ActingRole, RoleUnavailable


class S3ObjectMissing(LookupError):
    """No bucket or no object at an S3 URI."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an S3 URI of the form s3://bucket/key")
    return parsed.netloc, parsed.path.lstrip("/")


class ServiceAccess:
    """One account's S3 and IAM and one region's CloudWatch Logs and metrics, as the SageMaker service reaches them.

    The backends are looked up once, when a job or an endpoint is created (in the request's thread): moto's
    BackendDict lookups take its global lock (moto/core/base_backend.py, backend_lock), which moto's reset holds
    while it halts the jobs, so a job that looked them up while halting would wait for the reset that waits
    for it. acting_as looks nothing up, so a job's thread may call it (a tuning job launches its training jobs).
    """

    def __init__(self, account_id: str, region: str) -> None:
        partition = get_partition(region)
        self._s3: S3Backend = s3_backends[account_id][partition]
        self._logs: LogsBackend = logs_backends[account_id][region]
        self._iam: IAMBackend = iam_backends[account_id][partition]
        self._cloudwatch: CloudWatchBackend = cloudwatch_backends[account_id][region]
        self._sts: STSBackend = sts_backends[account_id][partition]
        self._role: ActingRole | None = None

    def acting_as(self, role_arn: str | None) -> ServiceAccess:
        """The same access, with every action authorised as the role's before it is taken."""
        acting = copy.copy(self)
        acting._role = ActingRole(self._iam, role_arn, self._logs.region_name)
        return acting

    def _authorise(
        self, action: str, target: str, resource: str, bucket: FakeBucket, context: dict[str, str] | None = None
    ) -> None:
        if self._role is not None:
            self._role.authorise(action, target, resource, bucket, context)

    def _bucket(self, bucket_name: str) -> FakeBucket:
        try:
            return self._s3.get_bucket(bucket_name)
        except MissingBucket:
            raise S3ObjectMissing(f"bucket {bucket_name!r} does not exist") from None

    def list_objects(self, uri: str) -> list[str]:
        """Keys of the objects under an S3 prefix, in key order (S3Prefix semantics: a plain string prefix)."""
        bucket_name, prefix = parse_s3_uri(uri)
        bucket = self._bucket(bucket_name)
        self._authorise("s3:ListBucket", uri, bucket.arn, bucket, {"s3:prefix": prefix})
        keys, _folders, _truncated, _marker = self._s3.list_objects(
            bucket, prefix=prefix or None, delimiter=None, marker=None, max_keys=None
        )
        return [key.name for key in keys]

    def get_object(self, uri: str) -> bytes:
        bucket_name, key = parse_s3_uri(uri)
        bucket = self._bucket(bucket_name)
        self._authorise("s3:GetObject", uri, f"{bucket.arn}/{key}", bucket)
        found = self._s3.get_object(bucket_name, key) if key else None
        if found is None:
            # S3 answers a missing key with 403 to whoever may not list the bucket, so that they cannot learn
            # which keys exist (S3 API reference, GetObject, "Permissions").
            self._authorise("s3:ListBucket", uri, bucket.arn, bucket, {"s3:prefix": key})
            raise S3ObjectMissing(f"no object at {uri}")
        return found.value  # type: ignore[no-any-return]

    def put_object(self, uri: str, data: bytes) -> None:
        bucket_name, key = parse_s3_uri(uri)
        bucket = self._bucket(bucket_name)
        self._authorise("s3:PutObject", uri, f"{bucket.arn}/{key}", bucket)
        self._s3.put_object(bucket_name, key, data)

    def delete_object(self, uri: str) -> None:
        bucket_name, key = parse_s3_uri(uri)
        bucket = self._bucket(bucket_name)
        self._authorise("s3:DeleteObject", uri, f"{bucket.arn}/{key}", bucket)
        self._s3.delete_object(bucket_name, key)

    def log_stream(self, group: str, stream: str) -> LogStream:
        """A job's or an endpoint's log stream. On AWS a job whose role may not write its logs still runs: it just
        has no logs (the log agent's calls are refused, the job does not fail). So it is here: a stream the role
        may not create is never created, and events it may not put are dropped."""
        if self._role is None:
            return LogStream(self._logs, group, stream)
        backend = self._logs
        group_arn = f"arn:{backend.partition}:logs:{backend.region_name}:{backend.account_id}:log-group:{group}"
        allows = self._role.allows
        group_ready = group in backend.groups or allows("logs:CreateLogGroup", group_arn)
        create = group_ready and allows("logs:CreateLogStream", group_arn)
        write = create and allows("logs:PutLogEvents", f"{group_arn}:log-stream:{stream}")
        return LogStream(backend, group, stream, create=create, write=write)


    def metric_sink(self, namespace: str, dimensions: dict[str, str]) -> metrics.MetricSink:
        """Where a job puts its metrics. As with logs, a role that may not put metrics in the namespace gets none
        and the job runs on (cloudwatch:PutMetricData has no resource; the namespace is its condition key)."""
        allowed = self._role is None or self._role.allows("cloudwatch:PutMetricData", "*", None, {"cloudwatch:namespace": namespace})
        return metrics.MetricSink(self._cloudwatch, namespace, dimensions, allowed=allowed)

    def endpoint_metrics(self, endpoint_name: str, variant_name: str) -> metrics.EndpointMetrics:
        """An endpoint's invocation metrics, which SageMaker publishes itself (not as the endpoint's role)."""
        return metrics.EndpointMetrics(self._cloudwatch, endpoint_name, variant_name)


    def role_session(self, role_arn: str, session_name: str, seconds: int, secret: Callable[[], str]) -> RoleSession:
        """A session of the role (STS AssumeRole, as SageMaker takes one for a job's or an endpoint's container),
        with a secret and a token from ``secret`` rather than moto's seedable generator; RoleUnavailable if the role
        is gone. Revoke it when the job ends."""
        try:
            self._iam.get_role_by_arn(role_arn)
        except RoleNotFound:
            raise RoleUnavailable(role_arn) from None
        assumed = self._sts.assume_role(region_name=self._logs.region_name, role_session_name=session_name,
                                        role_arn=role_arn, policy=None, duration=seconds, external_id=None)  # type: ignore[arg-type]
        assumed.secret_access_key = assumed.access_key.secret_access_key = secret()
        assumed.session_token = secret() + secret()
        return RoleSession(self._sts, self._iam, assumed)


class RoleSession:
    """Temporary credentials of a role, valid until revoke()."""

    def __init__(self, sts: STSBackend, iam: IAMBackend, assumed: AssumedRole) -> None:
        self._sts, self._iam, self._assumed = sts, iam, assumed
        self.access_key_id: str = assumed.access_key_id
        self.secret_access_key: str = assumed.secret_access_key
        self.session_token: str = assumed.session_token
        self.arn: str = assumed.arn

    def __repr__(self) -> str:  # never print the secret, not even in a traceback
        return f"RoleSession({self.arn!r}, access_key_id={self.access_key_id!r})"

    def revoke(self) -> None:
        self._sts.assumed_roles[:] = [role for role in self._sts.assumed_roles if role is not self._assumed]
        self._iam.access_keys.pop(self._assumed.access_key.physical_resource_id, None)


class LogStream:
    """One CloudWatch Logs stream that a job or an endpoint writes to while it runs (or, without the role's
    permission, does not: create and write)."""

    def __init__(self, backend: LogsBackend, group: str, stream: str, create: bool = True, write: bool = True) -> None:
        self._backend = backend
        self.group = group
        self.stream = stream
        self.arn = f"arn:{backend.partition}:logs:{backend.region_name}:{backend.account_id}:log-group:{group}"
        self._lock = threading.Lock()
        self._last_timestamp = 0
        self._writes = write
        if not create:
            return
        self._backend.ensure_log_group(group)
        try:
            self._backend.create_log_stream(group, stream)
        except ResourceAlreadyExistsException:
            pass

    def write(self, messages: Iterable[str]) -> None:
        if not self._writes:
            return
        with self._lock:
            # moto pages a stream by position in timestamp order, so timestamps must never go backwards, or a
            # reader following the stream would skip or repeat events.
            timestamp = max(int(time.time() * 1000), self._last_timestamp)
            self._last_timestamp = timestamp
            events = [{"timestamp": timestamp, "message": message} for message in messages]
            if events:
                self._backend.put_log_events(self.group, self.stream, events)


class ServiceBackend(SageMakerModelBackend):
    """The SageMaker backend's way to its account's S3 and IAM and its region's Logs (jobs and endpoints take it
    acting as their role: ServiceAccess.acting_as)."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self._aws: ServiceAccess | None = None

    def aws(self) -> ServiceAccess:
        """Looked up on first use, from a request's thread (see ServiceAccess); moto's reset forgets it."""
        if self._aws is None:
            self._aws = ServiceAccess(self.account_id, self.region_name)
        return self._aws
