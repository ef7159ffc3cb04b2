"""What one stage leaves for the next: one typed record per stage, owned here.

Stages hand each other these dataclasses, never dicts by string key: a typo is an AttributeError at the line
that made it, and the fields say what a stage promises. state.RunState keeps them as small JSON files per
target, written atomically. They are a convenience for chaining tasks: teardown and status never rely on
them alone, they discover the stack's resources on the target itself (discovery.py).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from .errors import WorkshopError

R = TypeVar("R", bound="Record")


@dataclass(frozen=True)
class Record:
    NAME: ClassVar[str]  # its file: <target dir>/<NAME>.json
    PRODUCER: ClassVar[str]  # the task that writes it, for "run X first" messages

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls: type[R], data: dict[str, Any], origin: str) -> R:
        names = {item.name for item in dataclasses.fields(cls)}
        required = {item.name for item in dataclasses.fields(cls) if _is_required(item)}
        missing = sorted(required - data.keys())
        if missing:
            raise WorkshopError(
                f"The {cls.NAME} record {origin} lacks {', '.join(missing)}: it was written by another version of "
                f"this project, or edited. Run `invoke {cls.PRODUCER}` again to write a new one."
            )
        return cls(**{key: value for key, value in data.items() if key in names})


def _is_required(item: dataclasses.Field) -> bool:
    return item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING


@dataclass(frozen=True)
class StackRecord(Record):
    """The long-lived stack: Terraform's outputs, or on a notebook instance its stack file."""

    NAME: ClassVar[str] = "stack"
    PRODUCER: ClassVar[str] = "setup"

    target: str
    region: str
    name_prefix: str
    data_prefix: str
    bucket_name: str
    role_arn: str
    bucket_arn: str | None = None
    role_name: str | None = None
    role_policy_json: str | None = None
    notebook_instance_name: str | None = None
    notebook_console_url: str | None = None
    lifecycle_config_name: str | None = None
    notebook_bundle_s3_uri: str | None = None


@dataclass(frozen=True)
class DataRecord(Record):
    """The prepared splits: train and validation in S3, the test split and the manifest on this machine."""

    NAME: ClassVar[str] = "data"
    PRODUCER: ClassVar[str] = "data"

    train_uri: str
    validation_uri: str
    manifest: str
    test_split: str
    sha256: str
    known_dataset: bool
    n_features: int
    counts: dict[str, dict[str, int]]


@dataclass(frozen=True)
class TrainingRecord(Record):
    NAME: ClassVar[str] = "training"
    PRODUCER: ClassVar[str] = "train"

    training_job_name: str
    training_job_arn: str
    image: str
    model_data_url: str
    hyperparameters: dict[str, str]
    instance_type: str
    instance_count: int
    final_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    tuning_job_name: str | None = None  # set when the model is the best job of `invoke tune`


@dataclass(frozen=True)
class TuningRecord(Record):
    NAME: ClassVar[str] = "tuning"
    PRODUCER: ClassVar[str] = "tune"

    tuning_job_name: str
    tuning_job_arn: str
    strategy: str
    objective_metric: str
    best_training_job_name: str
    best_objective_value: float
    status_counts: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class EndpointRecord(Record):
    NAME: ClassVar[str] = "endpoint"
    PRODUCER: ClassVar[str] = "deploy"

    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    training_job_name: str
    region: str


@dataclass(frozen=True)
class EvaluationRecord(Record):
    NAME: ClassVar[str] = "evaluation"
    PRODUCER: ClassVar[str] = "evaluate"

    run_dir: str
    metrics_json: str
    confusion_matrix_png: str
    roc_curve_png: str
    report_md: str


RECORDS: tuple[type[Record], ...] = (StackRecord, DataRecord, TrainingRecord, TuningRecord, EndpointRecord, EvaluationRecord)
# Records that describe resources on the target; they go when the resources go.
TARGET_RECORDS: tuple[type[Record], ...] = (StackRecord, TrainingRecord, TuningRecord, EndpointRecord)


# SageMaker's limit for tuning job names; their children are named "<tuning job>-<NNN>-<8 hex>" (45 at most).
TUNING_NAME_MAX = 32


def tuning_job_name(prefix: str, now: float | None = None) -> str:
    """`<prefix>-MMDD-HHMMSS`, or `<prefix>-<seconds in base 36>` when that would pass SageMaker's 32 characters
    (a prefix of 21 or more). Both sort by time and are found by discovery's name search."""
    now = time.time() if now is None else now
    readable = f"{prefix}-{time.strftime('%m%d-%H%M%S', time.gmtime(now))}"
    if len(readable) <= TUNING_NAME_MAX:
        return readable
    digits, seconds = "", int(now)
    while seconds:
        seconds, digit = divmod(seconds, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return f"{prefix}-{digits}"


def run_name(prefix: str, kind: str) -> str:
    """`<prefix>-<kind>-YYYYmmdd-HHMMSS-<4 hex>`: sortable by time, unique per run (not per second), and found
    by discovery's name search. The longest name derived from it (deploy's endpoint config) stays within
    SageMaker's 63 characters for every prefix the settings allow (see settings.NAME_PREFIX_RULES)."""
    return f"{prefix}-{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"
