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
        self._previous: set[str] = set()  # the files there at the start, which the container never deletes

    def resume(self, load: Callable[[bytes], Any]) -> Any | None:
        """The newest `xgboost-checkpoint.<round>` directly under S3Uri as a model (every tag resumes from one).
        Called once, before training: it also notes what was there, which the container never deletes."""
        try:
            keys = self._aws.list_objects(self._prefix)
        except AccessDenied:  # the emulator's words, after the job's data download failure (training.py)
            raise JobFailure("ClientError", f"Unable to download checkpoints from {self._prefix} {S3_ACCESS_DENIED}") from None
        except (S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Unable to download checkpoints from {self._prefix}: {exc}.") from None
        key_prefix = parse_s3_uri(self._prefix)[1]
        self._previous = {key[len(key_prefix):] for key in keys}
        rounds = sorted((number, key) for key in keys
                        if (number := resumable_round(key[len(key_prefix):])) is not None)  # fmt: skip
        if not rounds:
            return None
        number, key = rounds[-1]
        uri = f"s3://{parse_s3_uri(self._prefix)[0]}/{key}"
        try:
            model = load(self._aws.get_object(uri))
        except AccessDenied:
            raise JobFailure("ClientError", f"Unable to download checkpoint {uri} {S3_ACCESS_DENIED}") from None
        except Exception as exc:  # noqa: BLE001 - XGBoost's error for a file that is not a model, among others
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JobFailure("ClientError", f"Unable to load checkpoint {uri}: {detail}") from None
        self.start_round = number + 1
        self._log(f"Checkpoint loaded from {uri}", f"Resuming from iteration {self.start_round}")
        return model

    def after_round(self, model: Any, round_index: int) -> None:
        """Put the file the image writes after this round, if it writes one (the xgboost.Booster as it is then),
        and remove the one it then deletes."""
        name = self.style.file_after(round_index, self.start_round)
        if name is None:
            return
        uri = self._prefix + name
        try:
            self._aws.put_object(uri, bytes(model.save_raw(raw_format=self.style.raw_format(name))))
        except AccessDenied:
            raise JobFailure("ClientError", f"Unable to upload checkpoint {uri} {S3_ACCESS_DENIED}") from None
        except (S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Unable to upload checkpoint {uri}: {exc}.") from None
        dropped = self.style.file_dropped_after(round_index)
        if dropped is not None and dropped not in self._previous:  # save_checkpoint's _should_skip
            try:
                self._aws.delete_object(self._prefix + dropped)
            except (AccessDenied, S3ObjectMissing, ValueError):
                # The container deletes only its local copy and retries later; a checkpoint left in S3 costs
                # storage, not the job.
                self._log(f"Could not delete the old checkpoint {self._prefix + dropped}", level="WARNING")
