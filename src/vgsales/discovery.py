"""The stack's resources on the target, found by the one tag that identifies a stack, and removed there.

Every resource the project creates carries `vgsales:stack = <name_prefix>`: Terraform puts it on the long-lived
ones (terraform/main.tf, default_tags), the pipeline on what it creates through the SDK (`stack_tags`), and the
SDK config that `emulator.env` and the notebook instance write on what anyone's code creates through the SDK.
That tag, with exactly the stack's value, decides. Terraform's resources (notebook instance, lifecycle config,
role, bucket) must also be named "<name_prefix>-...", which narrows their listing; jobs, models, endpoint
configs and endpoints may have any name (the SDK's defaults among them), so all of them are listed and only
their tags are read (for jobs, only running ones'). So a neighbouring stack whose names merely start the same
(`vgsales-ci-...` beside `vgsales-...`), a resource with no tag or another stack's, or a user's resource with a
similar name is never listed as ours and never removed. On AWS, teardown deletes what this module finds.

`status`, `teardown`, setup's clean-up of an interrupted run and the notebooks' clean-up all use `find` and
`remove` here, with the invocation's context: its clients reach the target.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from botocore.exceptions import ClientError

from .context import Context
from .errors import WorkshopError
from .settings import STACK_TAG, Settings

# Teardown order: what serves traffic first, what it depends on after; the Terraform-managed ones last,
# the notebook instance before the role it runs as and the bucket it reads.
# A tuning job goes before the training jobs: stopped first, it launches no more of them.
PIPELINE_KINDS = ("endpoint", "endpoint-config", "model", "transform-job", "tuning-job", "training-job")
STACK_KINDS = ("notebook-instance", "lifecycle-config", "role", "bucket")
KINDS = PIPELINE_KINDS + STACK_KINDS
JOB_KINDS = ("transform-job", "tuning-job", "training-job")  # stopped, never deleted
# What keeps billing while it exists in this state.
COSTS_WHILE = {
    "endpoint": frozenset({"Creating", "Updating", "InService", "SystemUpdating", "RollingBack"}),
    "transform-job": frozenset({"InProgress", "Stopping"}),
    "tuning-job": frozenset({"InProgress", "Stopping"}),
    "training-job": frozenset({"InProgress", "Stopping"}),
    "notebook-instance": frozenset({"Pending", "InService", "Updating"}),
}
# A notebook instance can only be stopped from InService, and deleted once Stopped or Failed.
_NOTEBOOK_SETTLING = ("Pending", "Updating", "Stopping")


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    arn: str | None = None
    status: str | None = None

    @property
    def costs_money(self) -> bool:
        return self.status in COSTS_WHILE.get(self.kind, frozenset())

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def stack_tags(settings: Settings) -> list[dict[str, str]]:
    """Tags for every resource a pipeline task creates: the user's, and the stack tag, which always wins."""
    tags = {**settings.tags, STACK_TAG: settings.name_prefix}
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def sdk_tags(settings: Settings) -> list[dict[str, str]]:
    """The same tags in sagemaker-core's shape (its resources each declare their own Tag model; dicts fit all)."""
    return [{"key": tag["Key"], "value": tag["Value"]} for tag in stack_tags(settings)]


def is_ours(tags: Iterable[Mapping[str, str]], settings: Settings) -> bool:
    """Whether a resource's tags name this stack: the stack tag with exactly its value. IAM reads a tag key in a
    condition without regard to case, so a key that differs only in case counts as the stack tag too, and every
    such tag must have the stack's value (the role could use `VGSALES:STACK=vgsales` as its own; a resource tagged
    for two stacks belongs to neither)."""
    values = [tag.get("Value") for tag in tags if str(tag.get("Key", "")).lower() == STACK_TAG]
    return bool(values) and all(value == settings.name_prefix for value in values)


def find(ctx: Context, kinds: tuple[str, ...] = KINDS, *, finished_jobs: bool = False) -> list[Resource]:
    """Every resource of the given kinds that belongs to the stack, in teardown order.

    Finished training and tuning jobs are history, not resources: SageMaker keeps them and they cost nothing,
    so only running ones are returned (teardown stops them), unless ``finished_jobs`` asks for the history too
    (a walkthrough's record of what each step made).
    """
    found = []
    for kind in sorted(kinds, key=KINDS.index):
        for candidate, tags in _CANDIDATES[kind](ctx):
            if kind in JOB_KINDS and not finished_jobs and not candidate.costs_money:
                continue
            if is_ours(tags(), ctx.settings):
                found.append(candidate)
    return found


def remove(ctx: Context, resource: Resource, *, wait_seconds: float = 1200) -> str:
    """Remove (a training job: stop) one resource and wait until it is gone, polling as often as the target
    changes (ctx.target.poll_seconds); returns what was done.

    Training jobs cannot be deleted on SageMaker; a running one is stopped so it stops billing, and its
    artifacts go with the bucket. One that is already gone counts as removed ("already gone").
    """
    sagemaker, poll = ctx.aws.client("sagemaker"), ctx.target.poll_seconds
    try:
        if resource.kind == "endpoint":
            sagemaker.delete_endpoint(EndpointName=resource.name)
            _wait_gone(lambda: sagemaker.describe_endpoint(EndpointName=resource.name), wait_seconds, poll)
        elif resource.kind == "endpoint-config":
            sagemaker.delete_endpoint_config(EndpointConfigName=resource.name)
        elif resource.kind == "model":
            sagemaker.delete_model(ModelName=resource.name)
        elif resource.kind == "transform-job":
            if resource.status != "InProgress":
                return "already stopping"
            sagemaker.stop_transform_job(TransformJobName=resource.name)
            return "stopped"
        elif resource.kind == "tuning-job":
            if resource.status != "InProgress":
                return "already stopping"
            sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=resource.name)
            # It stops its own training jobs; once it has ended, it launches none.
            _wait_while(
                lambda: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=resource.name)[
                    "HyperParameterTuningJobStatus"
                ],
                ("InProgress", "Stopping"), time.monotonic() + wait_seconds, poll, f"tuning job {resource.name}",
            )  # fmt: skip
            return "stopped"
        elif resource.kind == "training-job":
            if resource.status != "InProgress":
                return "already stopping"
            try:
                sagemaker.stop_training_job(TrainingJobName=resource.name)
            except ClientError as exc:
                # Ended since it was listed (a stopped tuning job stops its own training jobs).
                if "in status" in exc.response.get("Error", {}).get("Message", ""):
                    return "already ended"
                raise
            return "stopped"
        elif resource.kind == "notebook-instance":
            _remove_notebook(sagemaker, resource.name, wait_seconds, poll)
        elif resource.kind == "lifecycle-config":
            sagemaker.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=resource.name)
        elif resource.kind == "role":
            _remove_role(ctx.aws.client("iam"), resource.name)
        elif resource.kind == "bucket":
            _remove_bucket(ctx.aws.client("s3"), resource.name)
        else:
            raise ValueError(f"unknown kind {resource.kind!r}")
    except ClientError as exc:
        if is_gone(exc):
            return "already gone"
        raise
    return "deleted"


def is_gone(exc: ClientError) -> bool:
    """Whether an error says the resource does not exist (any more), in any of the services' ways of saying it."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "").lower()
    if code in ("NoSuchEntity", "NoSuchBucket", "ResourceNotFound"):
        return True
    # SageMaker says it with a ValidationException, a notebook instance with a bare "RecordNotFound".
    return code in ("ValidationException", "ValidationError") and any(
        words in message for words in ("does not exist", "not found", "could not find", "recordnotfound")
    )


# --- finding: per kind, the candidates whose names have the prefix, each with a way to read its tags ---------

Candidates = Iterator[tuple[Resource, Callable[[], list[dict[str, str]]]]]


def _named(settings: Settings, name: str) -> bool:
    return name.startswith(f"{settings.name_prefix}-")


def _sagemaker_lister(
    method: str, key: str, name_key: str, arn_key: str, status_key: str | None, kind: str, *, any_name: bool = False
):
    """any_name: what code creates through the SageMaker SDK, whose default names (`sagemaker-xgboost-<time>`)
    the stack's role allows when the resource carries the stack's tag, so every one is a candidate and the tag
    alone decides. The rest is Terraform's, named with the prefix."""

    def candidates(ctx: Context) -> Candidates:
        sagemaker = ctx.aws.client("sagemaker")
        filters = {} if any_name else {"NameContains": ctx.settings.name_prefix}
        for page in sagemaker.get_paginator(method).paginate(**filters):
            for item in page[key]:
                if any_name or _named(ctx.settings, item[name_key]):
                    resource = Resource(kind, item[name_key], item[arn_key], item.get(status_key) if status_key else None)
                    yield resource, _sagemaker_tags(sagemaker, resource.arn)

    return candidates


def _sagemaker_tags(sagemaker, arn: str) -> Callable[[], list[dict[str, str]]]:
    def tags() -> list[dict[str, str]]:
        try:
            return sagemaker.list_tags(ResourceArn=arn)["Tags"]
        except ClientError as exc:
            # Deleted between list and tags, or another stack's, whose tags the stack's role may not even read.
            if is_gone(exc) or exc.response.get("Error", {}).get("Code") == "AccessDeniedException":
                return []
            raise

    return tags


def _roles(ctx: Context) -> Candidates:
    iam = ctx.aws.client("iam")
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if _named(ctx.settings, role["RoleName"]):
                yield Resource("role", role["RoleName"], role["Arn"]), _role_tags(iam, role["RoleName"])


def _role_tags(iam, name: str) -> Callable[[], list[dict[str, str]]]:
    def tags() -> list[dict[str, str]]:
        try:
            return iam.list_role_tags(RoleName=name)["Tags"]
        except iam.exceptions.NoSuchEntityException:
            return []

    return tags


def _buckets(ctx: Context) -> Candidates:
    s3 = ctx.aws.client("s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        if _named(ctx.settings, bucket["Name"]):
            yield Resource("bucket", bucket["Name"], f"arn:aws:s3:::{bucket['Name']}"), _bucket_tags(s3, bucket["Name"])


def _bucket_tags(s3, name: str) -> Callable[[], list[dict[str, str]]]:
    """A bucket without tags is never ours, even one named like ours: a setup cut off between CreateBucket
    and PutBucketTagging leaves one, empty and costing nothing, and only a person can tell whose it is."""

    def tags() -> list[dict[str, str]]:
        try:
            return s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchBucket", "NoSuchTagSet"):
                return []
            raise

    return tags


_CANDIDATES: dict[str, Callable[[Context], Candidates]] = {
    "endpoint": _sagemaker_lister("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "EndpointStatus", "endpoint", any_name=True),
    "endpoint-config": _sagemaker_lister(
        "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn", None, "endpoint-config",
        any_name=True,
    ),
    "model": _sagemaker_lister("list_models", "Models", "ModelName", "ModelArn", None, "model", any_name=True),
    "transform-job": _sagemaker_lister(
        "list_transform_jobs", "TransformJobSummaries", "TransformJobName", "TransformJobArn", "TransformJobStatus",
        "transform-job", any_name=True,
    ),
    "tuning-job": _sagemaker_lister(
        "list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries", "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus", "tuning-job", any_name=True,
    ),  # fmt: skip
    "training-job": _sagemaker_lister(
        "list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus", "training-job",
        any_name=True,
    ),
    "notebook-instance": _sagemaker_lister(
        "list_notebook_instances", "NotebookInstances", "NotebookInstanceName", "NotebookInstanceArn",
        "NotebookInstanceStatus", "notebook-instance",
    ),  # fmt: skip
    "lifecycle-config": _sagemaker_lister(
        "list_notebook_instance_lifecycle_configs", "NotebookInstanceLifecycleConfigs",
        "NotebookInstanceLifecycleConfigName", "NotebookInstanceLifecycleConfigArn", None, "lifecycle-config",
    ),  # fmt: skip
    "role": _roles,
    "bucket": _buckets,
}
assert tuple(_CANDIDATES) == KINDS


# --- removing -------------------------------------------------------------------------------------------


def _wait_gone(describe: Callable[[], object], wait_seconds: float, poll: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            describe()
        except ClientError as exc:
            if is_gone(exc):
                return
            raise
        time.sleep(poll)
    raise WorkshopError(
        f"A resource was still there {wait_seconds:.0f} s after it was deleted. Run `invoke teardown` again in a "
        "few minutes; `invoke status` shows what is left."
    )


def _remove_notebook(sagemaker, name: str, wait_seconds: float, poll: float) -> None:
    deadline = time.monotonic() + wait_seconds

    def status() -> str:
        return sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]

    current = _wait_while(status, _NOTEBOOK_SETTLING, deadline, poll, f"notebook instance {name}")
    if current == "InService":
        sagemaker.stop_notebook_instance(NotebookInstanceName=name)
        current = _wait_while(status, ("InService", *_NOTEBOOK_SETTLING), deadline, poll, f"notebook instance {name}")
    if current != "Deleting":
        sagemaker.delete_notebook_instance(NotebookInstanceName=name)
    _wait_while(status, ("Deleting",), deadline, poll, f"notebook instance {name}")


def _wait_while(status: Callable[[], str], states: tuple[str, ...], deadline: float, poll: float, what: str) -> str:
    """Poll until the status leaves ``states``; return it. A resource that disappears raises ClientError."""
    while True:
        current = status()
        if current not in states:
            return current
        if time.monotonic() > deadline:
            raise WorkshopError(
                f"The {what} stayed {current} for too long, so teardown could not remove it. Run `invoke teardown` "
                "again in a few minutes; `invoke status` shows what is left."
            )
        time.sleep(poll)


def _remove_role(iam, name: str) -> None:
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    iam.delete_role(RoleName=name)


def _remove_bucket(s3, name: str) -> None:
    """Every object version and delete marker first: a versioned bucket is otherwise BucketNotEmpty forever."""
    while True:  # list again after each batch: deleting while paginating would skip keys
        page = s3.list_object_versions(Bucket=name, MaxKeys=1000)
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if not doomed:
            break
        response = s3.delete_objects(Bucket=name, Delete={"Objects": doomed[:1000], "Quiet": True})
        if response.get("Errors"):
            first = response["Errors"][0]
            raise WorkshopError(
                f"Could not empty bucket {name}: {first.get('Key')} -> {first.get('Code')} {first.get('Message')}. "
                "Check that your credentials may delete objects there, then run `invoke teardown` again."
            )
    s3.delete_bucket(Bucket=name)
