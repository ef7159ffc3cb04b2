"""SageMaker control-plane gaps that the Terraform provider and sagemaker-core hit in moto 5.2.5.

Training and hosting behaviour (job and endpoint statuses, StopTrainingJob, InvokeEndpoint) belongs to
training.py and hosting.py; this module fixes the API surface around them.
"""

from __future__ import annotations

import secrets
from typing import Any

from botocore.model import OperationNotFoundError, Shape
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import get_service_model, utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeSagemakerNotebookInstance, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from ._patching import patch, replaced

# What AWS reports for settings a notebook instance was created without.
DEFAULT_PLATFORM_IDENTIFIER = "notebook-al2023-v1"  # AWS's default for new notebook instances since 2026-05-15
DEFAULT_IMDS = {"MinimumInstanceMetadataServiceVersion": "1"}  # AWS: "defaults to IMDSv1"
DEFAULT_IP_ADDRESS_TYPE = "ipv4"
PRESIGNED_URL_SECONDS = (1800, 43200)


def install() -> None:
    patch(SageMakerModelBackend, "_get_resource_from_arn", _get_resource_from_arn)
    patch(SageMakerModelBackend, "add_tags", _add_tags)
    patch(SageMakerResponse, "create_notebook_instance_lifecycle_config", _create_notebook_instance_lifecycle_config)
    patch(SageMakerResponse, "update_notebook_instance_lifecycle_config", _update_notebook_instance_lifecycle_config)
    patch(SageMakerResponse, "create_notebook_instance", _create_notebook_instance)
    patch(SageMakerResponse, "update_notebook_instance", _update_notebook_instance)
    patch(SageMakerResponse, "create_presigned_notebook_instance_url", _create_presigned_notebook_instance_url)
    patch(FakeSagemakerNotebookInstance, "to_dict", _notebook_instance_to_dict)
    patch(SageMakerResponse, "serialized", _serialized)
    patch(SageMakerResponse, "list_notebook_instance_lifecycle_configs", _list_notebook_instance_lifecycle_configs)


# --- Tags ------------------------------------------------------------------------------------------------
# moto gap: _get_resource_from_arn has no entry for notebook-instance-lifecycle-config (ListTags on one is
# a 500 that Terraform retries for minutes), and for a name it does not know it fails with an
# AttributeError (500) instead of the ValidationException it means to raise.


def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
    kind, _, name = arn.split(":", 5)[-1].partition("/")
    if kind == "notebook-instance-lifecycle-config":
        # AWS lower-cases names in ARNs; look the name up the same way.
        found = {key.lower(): value for key, value in self.notebook_instance_lifecycle_configurations.items()}
        resource = found.get(name.lower())
        if resource is not None and not hasattr(resource, "tags"):
            resource.tags = []
    else:
        try:
            resource = replaced(_get_resource_from_arn)(self, arn)
        except AttributeError:  # a resource kind moto has no table for
            resource = None
    if resource is None:
        raise ValidationError(message=f"Could not find {kind} with name {name}")
    return resource


# moto gap: AddTags appends, so re-tagging a key (Terraform changing a tag value) leaves two tags with the
# same key. AWS replaces the value.
def _add_tags(self: SageMakerModelBackend, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    resource = self._get_resource_from_arn(arn)
    new_keys = {tag["Key"] for tag in tags}
    resource.tags = [tag for tag in resource.tags if tag["Key"] not in new_keys] + list(tags)
    return resource.tags


# moto gap: ListNotebookInstanceLifecycleConfigs is not implemented (a 500); `invoke status` lists them.
def _list_notebook_instance_lifecycle_configs(self: SageMakerResponse) -> ActionResult:
    name_contains = (self._get_param("NameContains") or "").lower()
    configs = sorted(
        self.sagemaker_backend.notebook_instance_lifecycle_configurations.values(),
        key=lambda config: config.notebook_instance_lifecycle_config_name,
    )
    summaries = [
        {
            "NotebookInstanceLifecycleConfigName": config.notebook_instance_lifecycle_config_name,
            "NotebookInstanceLifecycleConfigArn": config.arn,
            "CreationTime": config.creation_time,
            "LastModifiedTime": config.last_modified_time,
        }
        for config in configs
        if name_contains in config.notebook_instance_lifecycle_config_name.lower()
    ]
    return ActionResult({"NotebookInstanceLifecycleConfigs": summaries})


# moto gap: CreateNotebookInstanceLifecycleConfig drops its Tags.
def _create_notebook_instance_lifecycle_config(self: SageMakerResponse) -> ActionResult:
    result = replaced(_create_notebook_instance_lifecycle_config)(self)
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    config = self.sagemaker_backend.notebook_instance_lifecycle_configurations[name]
    config.tags = list(self._get_param("Tags") or [])
    return result


# moto gap: UpdateNotebookInstanceLifecycleConfig is not implemented.
def _update_notebook_instance_lifecycle_config(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    configs = self.sagemaker_backend.notebook_instance_lifecycle_configurations
    if name not in configs:
        backend = self.sagemaker_backend
        arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:notebook-instance-lifecycle-config/{name}"
        raise ValidationError(
            message=f"Unable to update Notebook Instance Lifecycle Config '{arn}'. "
            "(Details: Notebook Instance Lifecycle Config does not exist.)"
        )
    config = configs[name]
    # AWS replaces each hook that is given and keeps the one that is not.
    if self._get_param("OnCreate") is not None:
        config.on_create = self._get_param("OnCreate")
    if self._get_param("OnStart") is not None:
        config.on_start = self._get_param("OnStart")
    config.last_modified_time = utcnow()
    return EmptyResult()


# --- Notebook instances ---------------------------------------------------------------------------------
# moto gap: CreateNotebookInstance ignores PlatformIdentifier, InstanceMetadataServiceConfiguration and
# IpAddressType, and DescribeNotebookInstance omits them, so Terraform sees a change on every plan.


def _create_notebook_instance(self: SageMakerResponse) -> ActionResult:
    result = replaced(_create_notebook_instance)(self)
    notebook = self.sagemaker_backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
    notebook.platform_identifier = self._get_param("PlatformIdentifier") or DEFAULT_PLATFORM_IDENTIFIER
    notebook.instance_metadata_service_configuration = dict(
        self._get_param("InstanceMetadataServiceConfiguration") or DEFAULT_IMDS
    )
    notebook.ip_address_type = self._get_param("IpAddressType") or DEFAULT_IP_ADDRESS_TYPE
    return result


def _notebook_instance_to_dict(self: FakeSagemakerNotebookInstance) -> dict[str, Any]:
    described = replaced(_notebook_instance_to_dict)(self)
    described["PlatformIdentifier"] = getattr(self, "platform_identifier", DEFAULT_PLATFORM_IDENTIFIER)
    described["InstanceMetadataServiceConfiguration"] = getattr(
        self, "instance_metadata_service_configuration", DEFAULT_IMDS
    )
    described["IpAddressType"] = getattr(self, "ip_address_type", DEFAULT_IP_ADDRESS_TYPE)
    return described


# moto gap: UpdateNotebookInstance is not implemented. AWS updates only a stopped (or failed) instance,
# never shrinks its volume, and leaves it Stopped.
def _update_notebook_instance(self: SageMakerResponse) -> ActionResult:
    notebook = self.sagemaker_backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
    if notebook.status not in ("Stopped", "Failed"):
        raise ValidationError(
            message=f"Status ({notebook.status}) not in ([Stopped, Failed]). Unable to transition to (Updating) "
            f"for Notebook Instance ({notebook.arn})"
        )
    param = self._get_param
    if param("InstanceType") is not None:
        notebook.validate_instance_type(param("InstanceType"))
        notebook.instance_type = param("InstanceType")
    if param("VolumeSizeInGB") is not None:
        size = int(param("VolumeSizeInGB"))
        notebook.validate_volume_size_in_gb(size)
        if size < notebook.volume_size_in_gb:
            raise ValidationError(
                message=f"Invalid VolumeSizeInGB {size}: the volume of {notebook.notebook_instance_name} is "
                f"{notebook.volume_size_in_gb} GB and cannot shrink"
            )
        notebook.volume_size_in_gb = size
    simple = {
        "RoleArn": "role_arn",
        "LifecycleConfigName": "lifecycle_config_name",
        "DefaultCodeRepository": "default_code_repository",
        "AdditionalCodeRepositories": "additional_code_repositories",
        "AcceleratorTypes": "accelerator_types",
        "RootAccess": "root_access",
        "PlatformIdentifier": "platform_identifier",
        "IpAddressType": "ip_address_type",
        "InstanceMetadataServiceConfiguration": "instance_metadata_service_configuration",
    }
    for name, attribute in simple.items():
        if param(name) is not None:
            setattr(notebook, attribute, param(name))
    dissociations = {
        "DisassociateLifecycleConfig": "lifecycle_config_name",
        "DisassociateAcceleratorTypes": "accelerator_types",
        "DisassociateDefaultCodeRepository": "default_code_repository",
        "DisassociateAdditionalCodeRepositories": "additional_code_repositories",
    }
    for name, attribute in dissociations.items():
        if param(name):
            setattr(notebook, attribute, None)
    notebook.status = "Stopped"
    notebook.last_modified_time = utcnow()
    return EmptyResult()


# moto gap: CreatePresignedNotebookInstanceUrl is not implemented. The URL has AWS's shape; nothing serves
# Jupyter locally, so it is only good for showing where the notebook would open.
def _create_presigned_notebook_instance_url(self: SageMakerResponse) -> ActionResult:
    notebook = self.sagemaker_backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
    seconds = self._get_param("SessionExpirationDurationInSeconds")
    low, high = PRESIGNED_URL_SECONDS
    if seconds is not None and not low <= int(seconds) <= high:
        raise ValidationError(
            message=f"1 validation error detected: Value '{seconds}' at 'sessionExpirationDurationInSeconds' "
            f"failed to satisfy constraint: Member must have value between {low} and {high}"
        )
    return ActionResult({"AuthorizedUrl": f"https://{notebook.url}?authToken={secrets.token_urlsafe(32)}"})


# --- Response shapes ------------------------------------------------------------------------------------
# moto gap: Describe responses carry empty structures for settings that were never given (VpcConfig: {} in
# DescribeModel, DataCaptureConfig: {} in DescribeEndpoint[Config]). AWS omits them; sagemaker-core's
# pydantic models reject a structure without its required members. DescribeTrainingJob also omits
# OutputDataConfig.KmsKeyId, which AWS returns as "" when no key was given.


def _serialized(self: SageMakerResponse, action_result: ActionResult) -> Any:
    result = action_result.result
    if isinstance(result, dict):
        action = self._get_action()
        try:
            output = get_service_model("sagemaker").operation_model(action).output_shape
        except OperationNotFoundError:
            output = None
        if output is not None:
            result = prune_empty_structures(result, output)
            if action == "DescribeTrainingJob" and isinstance(result.get("OutputDataConfig"), dict):
                result["OutputDataConfig"] = {"KmsKeyId": "", **result["OutputDataConfig"]}
            action_result = ActionResult(result)
    return replaced(_serialized)(self, action_result)


def prune_empty_structures(value: Any, shape: Shape) -> Any:
    """A copy of value without empty dicts where the API shape requires members; nothing else changes."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        pruned = {}
        for name, item in value.items():
            member = members.get(name)
            if member is None:
                pruned[name] = item
            elif not (item == {} and member.type_name == "structure" and member.required_members):
                pruned[name] = prune_empty_structures(item, member)
        return pruned
    if shape.type_name == "list" and isinstance(value, list):
        return [prune_empty_structures(item, shape.member) for item in value]  # type: ignore[attr-defined]
    if shape.type_name == "map" and isinstance(value, dict):
        value_shape = shape.value  # type: ignore[attr-defined]
        return {key: prune_empty_structures(item, value_shape) for key, item in value.items()}
    return value
