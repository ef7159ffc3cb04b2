"""Finding and removing the SageMaker resources the pipeline creates, on the target itself.

Pipeline tasks name every resource "<name_prefix>-..." and tag it with STACK_TAG. Teardown and status
look both up on the target rather than trusting a local record, so a lost state file never leaks a
running endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError

from .settings import Settings

STACK_TAG = "vgsales:stack"

# Kinds in teardown order: what serves traffic first, what it depends on after.
KINDS = ("endpoint", "endpoint-config", "model", "training-job")
_LIST = {
    "endpoint": ("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "EndpointStatus"),
    "endpoint-config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn", None),
    "model": ("list_models", "Models", "ModelName", "ModelArn", None),
    "training-job": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus"),
}
# What keeps billing while it exists in this state.
COSTS_WHILE = {"endpoint": {"Creating", "Updating", "InService", "SystemUpdating", "RollingBack"}, "training-job": {"InProgress", "Stopping"}}


@dataclass(frozen=True)
class PipelineResource:
    kind: str
    name: str
    arn: str
    status: str | None

    @property
    def costs_money(self) -> bool:
        return self.status in COSTS_WHILE.get(self.kind, set())


def stack_tags(settings: Settings) -> list[dict[str, str]]:
    """Tags for every resource a pipeline task creates; the stack tag is what teardown looks for."""
    tags = {**settings.tags, STACK_TAG: settings.name_prefix}
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def sdk_tags(settings: Settings) -> list[dict[str, str]]:
    """The same tags in sagemaker-core's shape (its resources each declare their own Tag model; dicts fit all)."""
    return [{"key": tag["Key"], "value": tag["Value"]} for tag in stack_tags(settings)]


def find(sagemaker, name_prefix: str, kinds: tuple[str, ...] = KINDS) -> list[PipelineResource]:
    """Every resource of the given kinds whose name has the stack's prefix and that carries its tag.

    Finished training jobs are history, not resources: SageMaker keeps them forever and they cost nothing,
    so only running ones are returned (teardown stops them).
    """
    found = []
    for kind in kinds:
        for item in _list(sagemaker, kind, name_prefix):
            if kind == "training-job" and not item.costs_money:
                continue
            if _tagged(sagemaker, item.arn, name_prefix):
                found.append(item)
    return found


def _list(sagemaker, kind: str, name_prefix: str) -> Iterator[PipelineResource]:
    method, key, name_key, arn_key, status_key = _LIST[kind]
    paginator = sagemaker.get_paginator(method)
    for page in paginator.paginate(NameContains=name_prefix):
        for item in page[key]:
            name = item[name_key]
            if name.startswith(f"{name_prefix}-"):
                yield PipelineResource(kind, name, item[arn_key], item.get(status_key) if status_key else None)


def _tagged(sagemaker, arn: str, name_prefix: str) -> bool:
    try:
        tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    except ClientError as exc:
        if _not_found(exc):  # deleted between list and tags
            return False
        raise
    return any(tag["Key"] == STACK_TAG and tag["Value"] == name_prefix for tag in tags)


def remove(sagemaker, resource: PipelineResource, wait_seconds: float = 900, poll: float = 1.0) -> str:
    """Remove (or, for a training job, stop) one resource and wait until it is gone; returns what was done.

    Training jobs cannot be deleted on SageMaker; a running one is stopped so it stops billing, and its
    artifacts go with the bucket.
    """
    try:
        if resource.kind == "endpoint":
            sagemaker.delete_endpoint(EndpointName=resource.name)
            _wait_gone(lambda: sagemaker.describe_endpoint(EndpointName=resource.name), wait_seconds, poll)
            return "deleted"
        if resource.kind == "endpoint-config":
            sagemaker.delete_endpoint_config(EndpointConfigName=resource.name)
            return "deleted"
        if resource.kind == "model":
            sagemaker.delete_model(ModelName=resource.name)
            return "deleted"
        if resource.status == "InProgress":
            sagemaker.stop_training_job(TrainingJobName=resource.name)
            return "stopped"
        return "already stopping"
    except ClientError as exc:
        if _not_found(exc):
            return "already gone"
        raise


def _wait_gone(describe: Callable[[], object], wait_seconds: float, poll: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            describe()
        except ClientError as exc:
            if _not_found(exc):
                return
            raise
        time.sleep(poll)
    raise TimeoutError(f"still there after {wait_seconds:.0f} s")


def _not_found(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    message = error.get("Message", "")
    return error.get("Code") in ("ResourceNotFound", "ValidationException", "ValidationError") and (
        "not found" in message.lower() or "could not find" in message.lower() or "does not exist" in message.lower()
    )
