"""compat/s3_versions.py: a bucket with delete markers empties after its versioning was suspended."""

from __future__ import annotations

import uuid

import boto3
from moto.s3.models import FakeDeleteMarker

from vgsales.emulator.compat import s3_versions


def test_gap_moto_delete_markers_cannot_be_disposed(emulator):
    """moto's own FakeDeleteMarker has no dispose(); when moto adds one, drop s3_versions.DeleteMarker."""
    from moto.s3.models import S3Backend, s3_backends

    assert getattr(FakeDeleteMarker, "dispose", None) is None
    assert "dispose" in vars(s3_versions.DeleteMarker)
    # moto builds its delete markers in S3Backend._set_delete_marker, which the emulator's backend repeats.
    assert "delete_marker = FakeDeleteMarker(" in __import__("inspect").getsource(S3Backend._set_delete_marker)
    assert type(s3_backends["123456789012"]["aws"])._set_delete_marker is not S3Backend._set_delete_marker


def test_a_suspended_bucket_with_delete_markers_empties_as_terraform_destroy_does(aws_env):
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = f"vgsales-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="notebook-bundle/workshop.ipynb", Body=b"{}")
    s3.delete_object(Bucket=bucket, Key="notebook-bundle/workshop.ipynb")  # leaves a delete marker
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    listing = s3.list_object_versions(Bucket=bucket)
    versions = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    assert len(versions) == 2

    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": versions})

    assert not result.get("Errors")
    s3.delete_bucket(Bucket=bucket)
