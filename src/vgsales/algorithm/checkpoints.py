"""The checkpoints the built-in algorithm's image writes when a training job has a CheckpointConfig, per version.

SageMaker gives the container a local folder (CheckpointConfig.LocalPath), fills it from CheckpointConfig.S3Uri
before training starts and uploads what the container writes there to that URI. What the container writes
differs by tag (aws/sagemaker-xgboost-container, algorithm_mode/train.py, callback.py and checkpointing.py):

- **Every tag** resumes: `load_checkpoint` finds the newest `xgboost-checkpoint.<round>` in the folder (its top
  level), and training goes on from that model for the rounds of `num_round` still to go (`num_round - iteration`).
- **Up to 1.2-2** (and the legacy image and 0.90-x, read as 1.0-1: versions.py): the container's own
  `checkpointing.save_checkpoint` writes `xgboost-checkpoint.<round>` after every round and then deletes the one
  five rounds older, unless that one was in the folder when training started, so that S3 and the next resume do
  not grow with the rounds (SageMaker's upload marks each file `.sagemaker-uploaded` before the container may
  delete it, and passes the deletion on to S3).
- **From 1.3-1**: XGBoost's own `TrainingCheckPoint(directory, iterations=<the round it resumed from>,
  name="xgboost-checkpoint")` (`interval=` from 3.0-5). Its counter saves when it equals the interval: with 0
  (nothing resumed) once, after the first round, and never again; with k > 0 every k rounds. The file is
  `xgboost-checkpoint_<round>.json` (XGBoost 1.x: 1.3-1 to 1.7-1) or `.ubj` (XGBoost 2 and later: 3.0-5, 3.2-0),
  a name `load_checkpoint` does not look for, so a later job does not resume from what these tags write.

The emulator writes the same files with the same names to S3Uri as the job's role, in the format its XGBoost 3
saves (UBJSON, or JSON for a `.json` name), not XGBoost 1.x's old binary format, and removes from S3Uri what the
container would delete from its folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .versions import Version

CHECKPOINT_FILENAME = "xgboost-checkpoint"
# The first tag that uses XGBoost's TrainingCheckPoint instead of the container's own save_checkpoint.
TRAINING_CHECKPOINT_FROM: Version = (1, 3, 1)
# The first tag built on XGBoost 2 or later, whose TrainingCheckPoint saves UBJSON (.ubj) rather than JSON.
UBJ_FROM: Version = (3, 0, 5)
_RESUMABLE = re.compile(rf"^{CHECKPOINT_FILENAME}\.([0-9]+)$")  # checkpointing.load_checkpoint's pattern


# save_checkpoint's max_to_keep: the most recent checkpoints kept in the folder, and so in S3Uri.
KEEP = 5


@dataclass(frozen=True)
class CheckpointStyle:
    every_round: bool  # the container's save_checkpoint; else XGBoost's TrainingCheckPoint
    extension: str  # of TrainingCheckPoint's file: "json" or "ubj"

    def file_after(self, round_index: int, start_round: int) -> str | None:
        """The file written after this round (0-based, counted from the first ever), if any; ``start_round`` is the
        round training resumed from (0 for none)."""
        if self.every_round:
            return f"{CHECKPOINT_FILENAME}.{round_index}"
        # TrainingCheckPoint(interval=start_round): its counter, from 0, saves when it equals the interval.
        relative, interval = round_index - start_round, start_round
        due = relative == 0 if interval == 0 else relative > 0 and relative % interval == 0
        return f"{CHECKPOINT_FILENAME}_{round_index}.{self.extension}" if due else None

    def file_dropped_after(self, round_index: int) -> str | None:
        """The file the container deletes once this round's is written (save_checkpoint keeps the newest KEEP),
        unless it was in the folder when training started (its previous_checkpoints)."""
        if self.every_round and round_index >= KEEP:
            return f"{CHECKPOINT_FILENAME}.{round_index - KEEP}"
        return None

    @staticmethod
    def raw_format(filename: str) -> str:
        return "json" if filename.endswith(".json") else "ubj"


def style_for(version: Version | None) -> CheckpointStyle:
    """The style of an image version (None: the newest)."""
    if version is not None and version < TRAINING_CHECKPOINT_FROM:
        return CheckpointStyle(every_round=True, extension="")
    return CheckpointStyle(every_round=False, extension="ubj" if version is None or version >= UBJ_FROM else "json")


def resumable_round(name: str) -> int | None:
    """The round a file directly in the folder holds for load_checkpoint (`xgboost-checkpoint.<round>`), None for
    any other file (and for one in a subfolder: ``name`` is relative to the folder)."""
    match = _RESUMABLE.match(name)
    return int(match.group(1)) if match else None
