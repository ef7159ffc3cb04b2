"""The stack's long-lived resources on the target that no Terraform state records, found and removed there.

Terraform removes what its state records. Two things leave resources that no state knows: a lost state folder,
and a `setup` interrupted while a create call was in flight (the resource exists, the state never heard of it).
Left alone they keep billing (a notebook instance), or block the next setup (a role name already taken).

They are found on the target itself, by the stack's name prefix AND its `Stack` tag, which terraform/providers.tf
puts on everything, so a neighbouring stack whose prefix merely starts the same is never touched. The one
exception is a bucket whose creation was cut off before its tags were written: untagged, and named exactly as
Terraform's bucket_prefix names ours (`<prefix>-` and 26 digits). Removal runs in dependency order: the notebook
instance (stopped first), its lifecycle config, the role (its policies first), the bucket (every object version
first). Call these inside target.activate().
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from ..errors import WorkshopError
from ..settings import Settings

STACK_TAG = "Stack"  # set by terraform/providers.tf default_tags
# Removal order: what uses the others first.
KINDS = ("notebook-instance", "lifecycle-config", "role", "bucket")
# Terraform resource type -> (kind, the state attribute holding the name on the target).
_TERRAFORM_TYPES = {
    "aws_sagemaker_notebook_instance": ("notebook-instance", "name"),
    "aws_sagemaker_notebook_instance_lifecycle_configuration": ("lifecycle-config", "name"),
    "aws_iam_role": ("role", "name"),
    "aws_s3_bucket": ("bucket", "bucket"),
}
# A notebook instance can only be stopped from InService, and deleted once Stopped or Failed.
_NOTEBOOK_SETTLING = ("Pending", "Updating", "Stopping")


@dataclass(frozen=True)
class StackResource:
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def find(settings: Settings) -> list[StackResource]:
    """Every long-lived resource of the stack on the target, in removal order."""
    prefix = settings.name_prefix
    stack = stack_tag_value(settings)
    region = settings.region
    found = [
        *_notebook_instances(boto3.client("sagemaker", region_name=region), prefix, stack),
        *_lifecycle_configs(boto3.client("sagemaker", region_name=region), prefix, stack),
        *_roles(boto3.client("iam", region_name=region), prefix, stack),
        *_buckets(boto3.client("s3", region_name=region), prefix, stack),
    ]
    return sorted(found, key=lambda resource: KINDS.index(resource.kind))


def untracked(found: Iterable[StackResource], state_file: Path) -> list[StackResource]:
    """Those of ``found`` that the Terraform state file does not record."""
    known = tracked(state_file)
    return [resource for resource in found if (resource.kind, resource.name) not in known]


def tracked(state_file: Path) -> set[tuple[str, str]]:
    """(kind, name) of every resource of the kinds above that a Terraform state file records."""
    if not state_file.is_file():
        return set()
    state = json.loads(state_file.read_text() or "{}")
    names = set()
    for resource in state.get("resources", []):
        kind, attribute = _TERRAFORM_TYPES.get(resource.get("type"), (None, None))
        if resource.get("mode") != "managed" or kind is None:
            continue
        for instance in resource.get("instances", []):
            name = instance.get("attributes", {}).get(attribute)
            if name:
                names.add((kind, name))
    return names


def stack_tag_value(settings: Settings) -> str:
    # terraform/main.tf merges the user's tags over {Stack = name_prefix}, so theirs wins there too.
    return settings.tags.get(STACK_TAG, settings.name_prefix)


def remove(
    settings: Settings, resource: StackResource, *, wait_seconds: float = 1200, poll: float | None = None
) -> None:
    """Remove one resource and wait until it is gone; one that is already gone counts as removed."""
    poll = poll if poll is not None else (0.1 if settings.target == "local" else 10.0)
    region = settings.region
    try:
        if resource.kind == "notebook-instance":
            _remove_notebook(boto3.client("sagemaker", region_name=region), resource.name, wait_seconds, poll)
        elif resource.kind == "lifecycle-config":
            boto3.client("sagemaker", region_name=region).delete_notebook_instance_lifecycle_config(
                NotebookInstanceLifecycleConfigName=resource.name
            )
        elif resource.kind == "role":
            _remove_role(boto3.client("iam", region_name=region), resource.name)
        elif resource.kind == "bucket":
            _remove_bucket(boto3.client("s3", region_name=region), resource.name)
        else:
            raise ValueError(f"unknown kind {resource.kind!r}")
    except ClientError as exc:
        if not _is_gone(exc):
            raise


# --- finding ------------------------------------------------------------------------------------------


def _tags_match(tags: Iterable[dict[str, str]], stack: str) -> bool:
    return any(tag.get("Key") == STACK_TAG and tag.get("Value") == stack for tag in tags)


def _notebook_instances(sagemaker, prefix: str, stack: str) -> Iterable[StackResource]:
    for page in sagemaker.get_paginator("list_notebook_instances").paginate(NameContains=prefix):
        for item in page["NotebookInstances"]:
            if item["NotebookInstanceName"].startswith(f"{prefix}-") and _sagemaker_tagged(
                sagemaker, item["NotebookInstanceArn"], stack
            ):
                yield StackResource("notebook-instance", item["NotebookInstanceName"])


def _lifecycle_configs(sagemaker, prefix: str, stack: str) -> Iterable[StackResource]:
    for page in sagemaker.get_paginator("list_notebook_instance_lifecycle_configs").paginate(NameContains=prefix):
        for item in page["NotebookInstanceLifecycleConfigs"]:
            name = item["NotebookInstanceLifecycleConfigName"]
            if name.startswith(f"{prefix}-") and _sagemaker_tagged(
                sagemaker, item["NotebookInstanceLifecycleConfigArn"], stack
            ):
                yield StackResource("lifecycle-config", name)


def _sagemaker_tagged(sagemaker, arn: str, stack: str) -> bool:
    try:
        return _tags_match(sagemaker.list_tags(ResourceArn=arn)["Tags"], stack)
    except ClientError as exc:
        if _is_gone(exc):
            return False
        raise


def _roles(iam, prefix: str, stack: str) -> Iterable[StackResource]:
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            if not name.startswith(f"{prefix}-"):
                continue
            try:
                tags = iam.list_role_tags(RoleName=name)["Tags"]
            except iam.exceptions.NoSuchEntityException:
                continue
            if _tags_match(tags, stack):
                yield StackResource("role", name)


def _buckets(s3, prefix: str, stack: str) -> Iterable[StackResource]:
    terraform_named = re.compile(rf"{re.escape(prefix)}-[0-9]{{26}}")
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not name.startswith(f"{prefix}-"):
            continue
        try:
            tags = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchBucket":
                continue
            if code != "NoSuchTagSet":
                raise
            tags = None
        if (tags is not None and _tags_match(tags, stack)) or (tags is None and terraform_named.fullmatch(name)):
            yield StackResource("bucket", name)


# --- removing -----------------------------------------------------------------------------------------


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


def _is_gone(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "").lower()
    if code in ("NoSuchEntity", "NoSuchBucket", "ResourceNotFound"):
        return True
    # SageMaker says a notebook instance is gone with a bare "RecordNotFound".
    return code in ("ValidationException", "ValidationError") and any(
        words in message for words in ("does not exist", "not found", "could not find", "recordnotfound")
    )
