"""Small data sets as the emulator's tests upload them."""

from __future__ import annotations

import io

from sklearn.datasets import dump_svmlight_file


def libsvm(features, labels) -> bytes:
    """Rows as a libsvm file, features numbered from 0, as the workshop's `invoke data` writes them."""
    buffer = io.BytesIO()
    dump_svmlight_file(features, labels, buffer, zero_based=True)
    return buffer.getvalue()
