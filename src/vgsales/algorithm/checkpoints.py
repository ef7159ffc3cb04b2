"""The checkpoints the built-in algorithm's image writes when a training job has a CheckpointConfig, per version.

SageMaker gives the container a local folder (CheckpointConfig.LocalPath), fills it from CheckpointConfig.S3Uri
before training starts and uploads what the container writes there to that URI. What the container writes
differs by tag (aws/sagemaker-xgboost-container, algorithm_mode/train.py, callback.py and checkpointing.py):

- **Up to 1.2-2** (and the legacy image and 0.90-x, read as 1.0-1: versions.py): the container's own
  `checkpointing.save_checkpoint`. After every round it writes `xgboost-checkpoint.<round>` and keeps the five
  most recent in the folder; at the start, `load_checkpoint` resumes from the newest `xgboost-checkpoint.<round>`
  it finds, for the rounds of `num_round` still to go. A job started again with the same S3Uri (after a spot
  interruption) goes on where the last one stopped.
- **From 1.3-1**: XGBoost's own `TrainingCheckPoint(directory, iterations=<the resumed round>,
  name="xgboost-checkpoint")` (`interval=` from 3.0-5). With the interval 0 of a job that resumed nothing, it
  writes once, after the first round, `xgboost-checkpoint_0.json` (XGBoost 1.x: 1.3-1 to 1.7-1) or
  `xgboost-checkpoint_0.ubj` (XGBoost 2 and later: 3.0-5, 3.2-0), and never again; and `load_checkpoint` still
  looks for `xgboost-checkpoint.<round>`, so no job resumes from what these tags write.

The emulator writes the same files with the same names to S3Uri as the job's role, in the format its XGBoost 3
saves (UBJSON, or JSON for a `.json` name), not XGBoost 1.x's old binary format. It removes nothing from S3Uri:
the container's five-file limit applies to its local folder, and the emulator has none.
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


@dataclass(frozen=True)
class CheckpointStyle:
    every_round: bool  # the container's save_checkpoint; else XGBoost's TrainingCheckPoint, once
    resumes: bool
    extension: str  # of TrainingCheckPoint's file: "json" or "ubj"

    def file_after(self, round_index: int, start_round: int) -> str | None:
        """The file written after this round (0-based, counted from the first ever), if any."""
        if self.every_round:
            return f"{CHECKPOINT_FILENAME}.{round_index}"
        # TrainingCheckPoint with interval = start_round (0 here: these tags never resume): it saves when its
        # counter equals the interval, which with 0 happens at the first round only.
        return f"{CHECKPOINT_FILENAME}_{round_index}.{self.extension}" if round_index == start_round else None

    def raw_format(self, filename: str) -> str:
        return "json" if filename.endswith(".json") else "ubj"


def style_for(version: Version | None) -> CheckpointStyle:
    """The style of an image version (None: the newest)."""
    if version is not None and version < TRAINING_CHECKPOINT_FROM:
        return CheckpointStyle(every_round=True, resumes=True, extension="")
    return CheckpointStyle(every_round=False, resumes=False, extension="ubj" if version is None or version >= UBJ_FROM else "json")


def resumable_round(filename: str) -> int | None:
    """The round a file name holds for load_checkpoint (`xgboost-checkpoint.<round>`), None for any other file."""
    match = _RESUMABLE.match(filename.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None
