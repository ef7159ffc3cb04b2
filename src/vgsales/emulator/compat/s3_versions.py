"""Emptying a bucket whose versioning was suspended, as Terraform's destroy does.

moto gap (5.2.5, _VersionedKeyStore.pop): in a bucket whose versioning is Suspended, DeleteObject with a
version id takes moto's unversioned path, which drops the whole key and calls dispose() on each of its
versions; a delete marker has no dispose(), so the request fails with a 500. Terraform's destroy runs into
it whenever it deletes the notebook bundle's objects (leaving delete markers) before it suspends versioning
(aws_s3_bucket_versioning) and then empties the bucket (force_destroy): both orders happen, so teardown
failed intermittently. A delete marker holds no data, so disposing of it has nothing to do.
"""

from __future__ import annotations

from moto.s3.models import FakeDeleteMarker


class DeleteMarker(FakeDeleteMarker):
    def dispose(self, garbage: bool = False) -> None:
        """A delete marker owns no buffer: nothing to release."""
