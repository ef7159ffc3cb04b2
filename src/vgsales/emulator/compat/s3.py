"""The emulator's S3 backend: moto's, building the bucket and delete marker classes of the S3 fixes.

moto builds buckets and delete markers inside its backend (moto/s3/models.py: S3Backend.create_bucket and
_set_delete_marker), so the backend is subclassed to build the emulator's instead: PolicyBucket
(s3_policy.py) and DeleteMarker (s3_versions.py). services.py registers it in moto's s3_backends.
"""

from __future__ import annotations

from types import ModuleType

from moto.events.notifications import send_notification
from moto.s3 import urls as moto_urls
from moto.s3.exceptions import BucketAlreadyExists, InvalidBucketName
from moto.s3.models import MAX_BUCKET_NAME_LENGTH, MIN_BUCKET_NAME_LENGTH, FakeBucket, FakeDeleteMarker, s3_backends
from moto.s3.models import S3Backend as MotoS3Backend

from .s3_policy import PolicyBucket
from .s3_versions import DeleteMarker


class S3Backend(MotoS3Backend):
    @property
    def _url_module(self) -> ModuleType:
        # BaseBackend finds a service's routes beside its class (moto/core/base_backend.py): moto's own.
        return moto_urls

    def create_bucket(self, bucket_name: str, region_name: str, bucket_namespace: str | None = None) -> FakeBucket:
        """moto's create_bucket, with the emulator's bucket."""
        if bucket_name in s3_backends.bucket_accounts.keys():
            raise BucketAlreadyExists(bucket=bucket_name)
        if not MIN_BUCKET_NAME_LENGTH <= len(bucket_name) <= MAX_BUCKET_NAME_LENGTH:
            raise InvalidBucketName()
        bucket = PolicyBucket(
            name=bucket_name, account_id=self.account_id, region_name=region_name, bucket_namespace=bucket_namespace
        )
        self.buckets[bucket_name] = bucket
        detail = {
            "version": "0",
            "bucket": {"name": bucket_name},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": self.account_id,
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        }
        send_notification(
            source="aws.s3", event_name="CreateBucket", region=region_name,
            resources=[f"arn:{bucket.partition}:s3:::{bucket_name}"], detail=detail,
        )  # fmt: skip
        return bucket

    def _set_delete_marker(self, bucket_name: str, key_name: str) -> FakeDeleteMarker:
        """moto's _set_delete_marker, with the emulator's delete marker."""
        bucket = self.get_bucket(bucket_name)
        delete_marker = DeleteMarker(key=bucket.keys[key_name])
        bucket.keys[key_name] = delete_marker
        return delete_marker
