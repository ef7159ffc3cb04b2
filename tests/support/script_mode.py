"""What script-mode tests build as the SageMaker SDK v2 builds it."""

from __future__ import annotations

import io
import tarfile


def sourcedir(files: dict[str, str | bytes]) -> bytes:
    """sourcedir.tar.gz as SDK v2 packs a source_dir (sagemaker/fw_utils.py tar_and_upload_dir): the files at the
    top of the archive, under the names given (a test may give a name no SDK would write, such as ../x)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode() if isinstance(text, str) else text
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
