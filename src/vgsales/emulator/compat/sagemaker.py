"""SageMaker control-plane gaps that the Terraform provider and sagemaker-core hit in moto 5.2.5.

Training and hosting behaviour (job and endpoint statuses, StopTrainingJob, InvokeEndpoint) belongs to
training.py and hosting.py; this module fixes the API surface around them: NotebookBackend is the part of the
emulator's SageMaker backend (sagemaker.SageMakerBackend) for tags, notebook instances and their lifecycle
configurations, and prune_empty_structures shapes its responses (sagemaker.SageMakerService.serialized).
tests/emulator/test_compat.py holds a canary per gap that fails once moto fixes it.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.model import OperationNotFoundError, Shape
from moto.core.utils import get_service_model, utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import (
    FakeSagemakerNotebookInstance,
    FakeSageMakerNotebookInstanceLifecycleConfig,
    SageMakerModelBackend,
)

from ..shapes import Document, Json, MotoArguments

# What AWS reports for settings a notebook instance was created without.
DEFAULT_PLATFORM_IDENTIFIER = "notebook-al2023-v1"  # AWS's default for new notebook instances since 2026-05-15
DEFAULT_IMDS = {"MinimumInstanceMetadataServiceVersion": "1"}  # AWS: "defaults to IMDSv1"
DEFAULT_IP_ADDRESS_TYPE = "ipv4"
PRESIGNED_URL_SECONDS = (1800, 43200)


# moto gap: CreateNotebookInstance ignores PlatformIdentifier, InstanceMetadataServiceConfiguration and
# IpAddressType, and DescribeNotebookInstance omits them, so Terraform sees a change on every plan.
class NotebookInstance(FakeSagemakerNotebookInstance):
    def __init__(
        self,
        platform_identifier: str | None = None,
        instance_metadata_service_configuration: dict[str, str] | None = None,
        ip_address_type: str | None = None,
        **request: MotoArguments,
    ) -> None:
        super().__init__(**request)
        self.platform_identifier = platform_identifier or DEFAULT_PLATFORM_IDENTIFIER
        self.instance_metadata_service_configuration = dict(instance_metadata_service_configuration or DEFAULT_IMDS)
        self.ip_address_type = ip_address_type or DEFAULT_IP_ADDRESS_TYPE

    def start(self) -> None:
        # moto's __init__ and start_notebook_instance mark it InService at once; notebooks.py starts it for real.
        self.status = "Pending"

    def to_dict(self) -> Document:
        described = super().to_dict()
        if self.status == "Failed" and getattr(self, "failure_reason", None):
            described["FailureReason"] = self.failure_reason
        described["PlatformIdentifier"] = self.platform_identifier
        described["InstanceMetadataServiceConfiguration"] = self.instance_metadata_service_configuration
        described["IpAddressType"] = self.ip_address_type
        return described


# moto gap: CreateNotebookInstanceLifecycleConfig drops its Tags (and ListTags has nowhere to find them).
class LifecycleConfig(FakeSageMakerNotebookInstanceLifecycleConfig):
    def __init__(self, tags: list[dict[str, str]] | None = None, **request: MotoArguments) -> None:
        super().__init__(**request)
        self.tags = list(tags or [])


class NotebookBackend(SageMakerModelBackend):
    """Tags, notebook instances and lifecycle configurations as AWS answers them."""

    # --- Tags --------------------------------------------------------------------------------------------
    # moto gap: _get_resource_from_arn has no entry for notebook-instance-lifecycle-config (ListTags on one is
    # a 500 that Terraform retries for minutes), and for a name it does not know it fails with an
    # AttributeError (500) instead of the ValidationException it means to raise; nor for an ARN whose
    # resource part has no "/" or more than one ("model/vgsales-x/../other-model"): a ValueError (500) from
    # unpacking its split. AWS answers ValidationException for an ARN that names no resource.
    def _get_resource_from_arn(self, arn: str) -> Json:
        kind, _, name = arn.split(":", 5)[-1].partition("/")
        resource: Json
        if kind == "notebook-instance-lifecycle-config":
            # AWS lower-cases names in ARNs; look the name up the same way.
            found = {key.lower(): value for key, value in self.notebook_instance_lifecycle_configurations.items()}
            resource = found.get(name.lower())
        else:
            try:
                resource = super()._get_resource_from_arn(arn)
            except AttributeError:  # a resource kind moto has no table for
                resource = None
            except ValueError:  # not exactly one "/" after the last ":"
                resource = None
        if resource is None:
            raise ValidationError(message=f"Could not find {kind} with name {name}")
        return resource

    def tags_of(self, arn: str) -> list[dict[str, str]]:
        """The tags of the resource an ARN names, none if it does not exist (IAM's tag conditions, access.py).
        AWS lower-cases names in ARNs, so a name is matched without regard to case."""
        kind, _, name = arn.split(":", 5)[-1].partition("/")
        table: dict[str, Json] = {
            "training-job": self.training_jobs,
            "hyper-parameter-tuning-job": self.hyper_parameter_tuning_jobs,
            "transform-job": self.transform_jobs,
            "model": self._models,
            "endpoint-config": self.endpoint_configs,
            "endpoint": self.endpoints,
            "notebook-instance": self.notebook_instances,
            "notebook-instance-lifecycle-config": self.notebook_instance_lifecycle_configurations,
        }.get(kind, {})
        resource = table.get(name)
        if resource is None:
            resource = next((found for key, found in list(table.items()) if key.lower() == name.lower()), None)
        return list(getattr(resource, "tags", None) or [])

    # moto gap: AddTags appends, so re-tagging a key (Terraform changing a tag value) leaves two tags with the
    # same key. AWS replaces the value.
    def add_tags(self, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
        resource = self._get_resource_from_arn(arn)
        new_keys = {tag["Key"] for tag in tags}
        resource.tags = [tag for tag in resource.tags if tag["Key"] not in new_keys] + list(tags)
        return list(resource.tags)

    # --- Lifecycle configurations ------------------------------------------------------------------------
    def create_notebook_instance_lifecycle_config(
        self,
        notebook_instance_lifecycle_config_name: str,
        on_create: list[dict[str, str]],
        on_start: list[dict[str, str]],
        tags: list[dict[str, str]] | None = None,
    ) -> FakeSageMakerNotebookInstanceLifecycleConfig:
        name = notebook_instance_lifecycle_config_name
        if name in self.notebook_instance_lifecycle_configurations:  # moto's check and wording
            arn = LifecycleConfig.arn_formatter(name, self.account_id, self.region_name)
            raise ValidationError(message=f"Unable to create Notebook Instance Lifecycle Config {arn}. (Details: "
                                  "Notebook Instance Lifecycle Config already exists.)")
        config = LifecycleConfig(
            tags, account_id=self.account_id, region_name=self.region_name,
            notebook_instance_lifecycle_config_name=name, on_create=on_create, on_start=on_start,
        )  # fmt: skip
        self.notebook_instance_lifecycle_configurations[name] = config
        return config

    # moto gap: UpdateNotebookInstanceLifecycleConfig is not implemented.
    def update_notebook_instance_lifecycle_config(
        self, name: str, on_create: list[dict[str, str]] | None, on_start: list[dict[str, str]] | None
    ) -> None:
        configs = self.notebook_instance_lifecycle_configurations
        if name not in configs:
            arn = f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:notebook-instance-lifecycle-config/{name}"
            raise ValidationError(
                message=f"Unable to update Notebook Instance Lifecycle Config '{arn}'. "
                "(Details: Notebook Instance Lifecycle Config does not exist.)"
            )
        config = configs[name]
        # AWS replaces each hook that is given and keeps the one that is not.
        if on_create is not None:
            config.on_create = on_create
        if on_start is not None:
            config.on_start = on_start
        config.last_modified_time = utcnow()

    # moto gap: ListNotebookInstanceLifecycleConfigs is not implemented (a 500); `invoke status` lists them.
    def list_notebook_instance_lifecycle_configs(self, name_contains: str) -> list[Document]:
        configs = sorted(
            self.notebook_instance_lifecycle_configurations.values(),
            key=lambda config: config.notebook_instance_lifecycle_config_name,
        )
        return [
            {
                "NotebookInstanceLifecycleConfigName": config.notebook_instance_lifecycle_config_name,
                "NotebookInstanceLifecycleConfigArn": config.arn,
                "CreationTime": config.creation_time,
                "LastModifiedTime": config.last_modified_time,
            }
            for config in configs
            if name_contains.lower() in config.notebook_instance_lifecycle_config_name.lower()
        ]

    # --- Notebook instances ------------------------------------------------------------------------------
    def create_notebook_instance(  # type: ignore[override]
        self,
        notebook_instance_name: str,
        platform_identifier: str | None = None,
        instance_metadata_service_configuration: dict[str, str] | None = None,
        ip_address_type: str | None = None,
        **request: MotoArguments,
    ) -> FakeSagemakerNotebookInstance:
        # moto's create_notebook_instance (moto/sagemaker/models.py), with the emulator's instance.
        self._validate_unique_notebook_instance_name(notebook_instance_name)
        if request.get("direct_internet_access") is None:
            request["direct_internet_access"] = "Enabled"
        if request.get("volume_size_in_gb") is None:
            request["volume_size_in_gb"] = 5
        notebook = NotebookInstance(
            platform_identifier, instance_metadata_service_configuration, ip_address_type,
            account_id=self.account_id, region_name=self.region_name, notebook_instance_name=notebook_instance_name,
            **request,
        )  # fmt: skip
        self.notebook_instances[notebook_instance_name] = notebook
        return notebook

    # moto gap: UpdateNotebookInstance is not implemented. AWS updates only a stopped (or failed) instance,
    # never shrinks its volume, and leaves it Stopped.
    def update_notebook_instance(self, notebook_instance_name: str, param: Callable[[str], Json]) -> None:
        """param: UpdateNotebookInstance's parameters as sent, by AWS's names."""
        notebook = self.get_notebook_instance(notebook_instance_name)
        require_status(notebook, ("Stopped", "Failed"), "Updating")
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


def require_status(notebook: FakeSagemakerNotebookInstance, allowed: tuple[str, ...], to: str) -> None:
    """AWS's refusal of a notebook instance's transition from a status it does not allow."""
    if notebook.status not in allowed:
        raise ValidationError(
            message=f"Status ({notebook.status}) not in ([{', '.join(allowed)}]). Unable to transition to ({to}) "
            f"for Notebook Instance ({notebook.arn})"
        )


# --- Response shapes ------------------------------------------------------------------------------------
# moto gap: Describe responses carry empty structures for settings that were never given (VpcConfig: {} in
# DescribeModel, DataCaptureConfig: {} in DescribeEndpoint[Config]). AWS omits them; sagemaker-core's
# pydantic models reject a structure without its required members. DescribeTrainingJob also omits
# OutputDataConfig.KmsKeyId, which AWS returns as "" when no key was given.


def shaped(action: str, result: Document) -> Document:
    """A response as AWS shapes it: see the gap above."""
    try:
        output = get_service_model("sagemaker").operation_model(action).output_shape
    except OperationNotFoundError:
        output = None
    if output is None:
        return result
    result = prune_empty_structures(result, output)
    if action == "DescribeTrainingJob" and isinstance(result.get("OutputDataConfig"), dict):
        result["OutputDataConfig"] = {"KmsKeyId": "", **result["OutputDataConfig"]}
    return result


def prune_empty_structures(value: Json, shape: Shape) -> Json:
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
