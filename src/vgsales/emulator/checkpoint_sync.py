"""A training job's CheckpointConfig on the emulator: SageMaker's part of checkpointing, as the job's role.

SageMaker fills the container's checkpoint folder from CheckpointConfig.S3Uri before training and uploads what the
container writes there; what the container writes, and whether it resumes, depends on the image's tag
(algorithm/checkpoints.py). Here the folder is S3Uri itself: the checkpoint to resume from is read from there,
and each file the container would write is put there when it would write it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..algorithm.checkpoints import CheckpointStyle, resumable_round
from .backends import S3ObjectMissing, ServiceAccess, parse_s3_uri
from .lifecycle import JobFailure
from .role_access import S3_ACCESS_DENIED, AccessDenied


class CheckpointSync:
    def __init__(self, aws: ServiceAccess, s3_uri: str, style: CheckpointStyle, log: Callable[..., None]) -> None:
        self._aws = aws
        self._prefix = s3_uri.rstrip("/") + "/"
        self.style = style
        self._log = log
        self.start_round = 0

    def resume(self, load: Callable[[bytes], Any]) -> Any | None:
        """The newest `xgboost-checkpoint.<round>` under S3Uri as a model, for the tags that resume; else None."""
        if not self.style.resumes:
            return None
        try:
            found = [(resumable_round(key), key) for key in self._aws.list_objects(self._prefix)]
            rounds = sorted((number, key) for number, key in found if number is not None)
            if not rounds:
                return None
            number, key = rounds[-1]
            uri = f"s3://{parse_s3_uri(self._prefix)[0]}/{key}"
            model = load(self._aws.get_object(uri))
        except AccessDenied:  # the emulator's words, after the job's data download failure (training.py)
            raise JobFailure("ClientError", f"Unable to download checkpoints from {self._prefix} {S3_ACCESS_DENIED}") from None
        except (S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Unable to download checkpoints from {self._prefix}: {exc}.") from None
        self.start_round = number + 1
        self._log(f"Checkpoint loaded from {uri}", f"Resuming from iteration {self.start_round}")
        return model

    def after_round(self, save: Callable[[str], bytes], round_index: int) -> None:
        """Put the file the image writes after this round, if it writes one; ``save`` serialises the model."""
        name = self.style.file_after(round_index, self.start_round)
        if name is None:
            return
        uri = self._prefix + name
        try:
            self._aws.put_object(uri, save(self.style.raw_format(name)))
        except AccessDenied:
            raise JobFailure("ClientError", f"Unable to upload checkpoint {uri} {S3_ACCESS_DENIED}") from None
        except (S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Unable to upload checkpoint {uri}: {exc}.") from None
