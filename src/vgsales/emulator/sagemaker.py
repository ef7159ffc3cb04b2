"""The emulated SageMaker: one backend that owns its jobs, endpoints and notebook instances, and the response class that serves it.

SageMakerBackend is moto's SageMakerModelBackend with the emulator's parts mixed in, each in its own module:
training jobs (training.py), tuning jobs (tuning.py, on top of training), transform jobs (transform.py),
endpoints (hosting.py), notebook instances (notebooks.py) and tags (compat/sagemaker.py). The runs and loaded models are
the backend's own state, so moto's reset stops and drops them with everything else.

SageMakerService is moto's SageMakerResponse with the operations moto lacks or gets wrong, the catalogue
(catalogue.py) checked once at dispatch, and IAM's resource ARNs (access.py). services.py registers both with
moto.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

from moto.core.exceptions import JsonRESTError
from moto.core.responses import TYPE_RESPONSE, ActionResult, EmptyResult
from moto.sagemaker import urls as moto_urls
from moto.sagemaker.responses import SageMakerResponse
from werkzeug.exceptions import HTTPException

from . import access, catalogue, training
from .compat.sagemaker import shaped
from .hosting import HostingBackend
from .notebooks import NotebookRunBackend
from .shapes import Document
from .transform import TransformBackend
from .tuning import TuningBackend

# What jobs and endpoints import to run, imported in the background from the first call that creates something
# the algorithm runs for (a training or tuning job, or a model, which every endpoint and transform job needs), so
# that the jobs and endpoints that follow seldom wait for xgboost to import. Not from Terraform's creates at setup
# (the notebook instance and its lifecycle configuration): an emulator that is only set up and torn down never
# imports it (1.7 CPU-s each, measured; a test run starts about 60 emulators, many only to set up and tear down).
WARM_MODULES = training.XGBOOST_MODULES + ("vgsales.algorithm.serving",)
WARMED_BY = frozenset({"CreateTrainingJob", "CreateHyperParameterTuningJob", "CreateModel"})


class SageMakerBackend(HostingBackend, TransformBackend, TuningBackend, NotebookRunBackend):
    """moto's SageMaker backend, executing what the catalogue says it executes."""

    @property
    def _url_module(self) -> ModuleType:
        # BaseBackend finds a service's routes in the urls module beside its class (moto/core/base_backend.py);
        # ours are moto's, whose handler services.py points at SageMakerService.
        return moto_urls


# CreateTrainingJob's parameters that moto's create_training_job takes as they are (moto/sagemaker/responses.py).
_TRAINING_JOB_PARAMETERS = {
    "HyperParameters": "hyper_parameters", "AlgorithmSpecification": "algorithm_specification", "RoleArn": "role_arn",
    "InputDataConfig": "input_data_config", "OutputDataConfig": "output_data_config",
    "ResourceConfig": "resource_config", "VpcConfig": "vpc_config", "StoppingCondition": "stopping_condition",
    "Tags": "tags", "CheckpointConfig": "checkpoint_config", "DebugHookConfig": "debug_hook_config",
    "DebugRuleConfigurations": "debug_rule_configurations", "TensorBoardOutputConfig": "tensor_board_output_config",
    "ExperimentConfig": "experiment_config",
}  # fmt: skip


class SageMakerService(SageMakerResponse):
    """SageMaker's API: what moto answers, minus what the catalogue refuses, plus what the emulator executes."""

    @property
    def backend(self) -> SageMakerBackend:
        backend = self.sagemaker_backend
        if not isinstance(backend, SageMakerBackend):  # services.install() registered it; a guard for mypy
            raise TypeError(f"the SageMaker backend is moto's own ({type(backend).__name__}), not the emulator's")
        return backend

    # --- the catalogue, one check at dispatch -----------------------------------------------------------
    def call_action(self) -> TYPE_RESPONSE:
        operation = self._get_action()
        if operation in WARMED_BY:
            training.warm_up(WARM_MODULES)
        if operation not in catalogue.refused():
            return super().call_action()
        # moto's call_action (moto/core/responses.py) authenticates and authorises before it dispatches: a
        # refused operation is answered in the same order, so an unsigned or denied call still gets its 403.
        headers = self.response_headers
        try:
            self._authenticate_and_authorize_normal_action(self._determine_resource())
        except HTTPException as http_error:
            status, headers, body = self._transform_response(headers, (http_error.description, {"status": http_error.code}))
            return (status, *self._enrich_response(headers, body))
        error = JsonRESTError("ValidationException", catalogue.refusal(operation))
        error_headers: Document = {**dict(error.get_headers() or []), "status": error.code}
        status, headers, body = self._transform_response(headers, (error.description, error_headers))
        return (status, *self._enrich_response(headers, body))

    def _determine_resource(self) -> str:
        return access.sagemaker_resource(self)

    def _get_action(self) -> str:
        # The JSON protocol names the operation in X-Amz-Target only; moto's reads ?Action= in the URL first, so a
        # signed CreateModel with ?Action=ListModels was carried out as ListModels. Its parameters come from the
        # JSON body already (moto's automated parameter parsing).
        return access.json_protocol_action(self)

    def serialized(self, action_result: ActionResult) -> TYPE_RESPONSE:
        if isinstance(action_result.result, dict):
            action_result = ActionResult(shaped(self._get_action(), action_result.result))
        return super().serialized(action_result)

    # --- jobs -------------------------------------------------------------------------------------------
    def create_training_job(self) -> ActionResult:
        """moto's (5.x, responses.py) with Environment, which it drops: SageMaker passes it to the container (a
        script reads it) and DescribeTrainingJob returns it."""
        param = self._get_param
        job = self.backend.create_training_job(
            training_job_name=param("TrainingJobName"), environment=param("Environment"),
            **{snake: param(name) for name, snake in _TRAINING_JOB_PARAMETERS.items()},
            enable_network_isolation=param("EnableNetworkIsolation", False),
            enable_inter_container_traffic_encryption=param("EnableInterContainerTrafficEncryption", False),
            enable_managed_spot_training=param("EnableManagedSpotTraining", False),
        )  # fmt: skip
        return ActionResult({"TrainingJobArn": job.arn})

    def stop_training_job(self) -> EmptyResult:
        self.backend.stop_training_job(self._get_param("TrainingJobName"))
        return EmptyResult()

    def stop_hyper_parameter_tuning_job(self) -> EmptyResult:
        self.backend.stop_hyper_parameter_tuning_job(self._get_param("HyperParameterTuningJobName"))
        return EmptyResult()

    def list_training_jobs(self) -> ActionResult:
        """moto's (5.x), which validates SortBy and SortOrder and then ignores them, and cuts the page before it
        filters (a NameContains match on a later page was never returned): here the filters first, then the order
        asked for (SageMaker's defaults: CreationTime, Ascending), then the page."""
        super().list_training_jobs()  # moto's validation of every parameter, and its error messages
        found = self.backend.list_training_jobs(next_token=None, max_results=None, **self._list_filters())["TrainingJobSummaries"]
        return ActionResult(self._sorted_page(found, "TrainingJobSummaries", "TrainingJobName", "TrainingJobStatus",
                                              default_order="Ascending"))  # fmt: skip

    def list_transform_jobs(self) -> ActionResult:
        """moto's (5.x) pages, sorts and filters transform jobs as it does training jobs (above): here the filters,
        then the order (SageMaker's defaults: CreationTime, Descending), then the page (10 by default)."""
        super().list_transform_jobs()
        found = self.backend.list_transform_jobs(next_token=None, max_results=None, **self._list_filters())["TransformJobSummaries"]
        return ActionResult(self._sorted_page(found, "TransformJobSummaries", "TransformJobName", "TransformJobStatus",
                                              default_order="Descending", default_size=10))  # fmt: skip

    def list_models(self) -> ActionResult:
        """moto's (5.x) ignores every parameter and answers with all models in the order they were created: here
        NameContains, CreationTimeBefore and CreationTimeAfter, then SortBy (Name or CreationTime, the default) and
        SortOrder (Descending by default), then MaxResults and NextToken, as SageMaker's ListModels."""
        param = self._get_param
        found = [model.response_object for model in self.backend.list_models()]
        if param("NameContains"):
            found = [model for model in found if param("NameContains") in model["ModelName"]]
        for bound, keep in (("CreationTimeBefore", lambda created, at: created < at),
                            ("CreationTimeAfter", lambda created, at: created > at)):  # fmt: skip
            if param(bound) is not None:
                at = _instant(param(bound))
                found = [model for model in found if keep(_instant(model["CreationTime"]), at)]
        return ActionResult(self._sorted_page(found, "Models", "ModelName", None, default_order="Descending"))

    def _list_filters(self) -> dict[str, object]:
        param = self._get_param
        return {
            "creation_time_after": param("CreationTimeAfter"), "creation_time_before": param("CreationTimeBefore"),
            "last_modified_time_after": param("LastModifiedTimeAfter"),
            "last_modified_time_before": param("LastModifiedTimeBefore"), "name_contains": param("NameContains"),
            "status_equals": param("StatusEquals"),
        }  # fmt: skip

    def _sorted_page(self, found: list[Document], key: str, name: str, status: str | None, *, default_order: str,
                     default_size: int | None = None) -> Document:
        """``found`` in the order SortBy and SortOrder ask for (ties by name), cut to the page MaxResults and
        NextToken ask for; the answer with its NextToken when more follow."""
        param = self._get_param
        sort_by = param("SortBy", "CreationTime")
        fields = {"Name": name, "CreationTime": "CreationTime", **({"Status": status} if status else {})}
        if sort_by not in fields:
            raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{sort_by}' at 'sortBy' "
                                f"failed to satisfy constraint: Member must satisfy enum value set: {sorted(fields)}")  # fmt: skip
        order = param("SortOrder", default_order)
        if order not in ("Ascending", "Descending"):
            raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{order}' at 'sortOrder' "
                                "failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]")  # fmt: skip
        found.sort(key=lambda item: (_sortable(item[fields[sort_by]]), item[name]), reverse=order == "Descending")
        size = self._get_int_param("MaxResults")
        if size is not None and not 1 <= size <= 100:
            bound = "greater than or equal to 1" if size < 1 else "less than or equal to 100"
            raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{size}' at 'maxResults' "
                                f"failed to satisfy constraint: Member must have value {bound}")  # fmt: skip
        size = size or default_size
        start = _page_start(param("NextToken"), len(found))
        end = len(found) if not size else start + size
        result: Document = {key: found[start:end]}
        if end < len(found):
            result["NextToken"] = str(end)
        return result

    def list_training_jobs_for_hyper_parameter_tuning_job(self) -> ActionResult:
        param = self._get_param
        summaries, token = self.backend.list_training_jobs_for_hyper_parameter_tuning_job(
            param("HyperParameterTuningJobName"), param("SortBy"), param("SortOrder"), param("StatusEquals"),
            param("MaxResults"), param("NextToken"),
        )  # fmt: skip
        result: Document = {"TrainingJobSummaries": summaries}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    def stop_transform_job(self) -> EmptyResult:
        self.backend.stop_transform_job(self._get_param("TransformJobName"))
        return EmptyResult()

    # --- endpoints --------------------------------------------------------------------------------------
    def update_endpoint(self) -> ActionResult:
        endpoint = self.backend.update_endpoint(
            endpoint_name=self._get_param("EndpointName"), endpoint_config_name=self._get_param("EndpointConfigName")
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    # --- notebook instances and their lifecycle configurations ------------------------------------------
    def create_notebook_instance(self) -> ActionResult:
        param = self._get_param
        notebook = self.backend.create_notebook_instance(
            notebook_instance_name=param("NotebookInstanceName"),
            platform_identifier=param("PlatformIdentifier"),
            instance_metadata_service_configuration=param("InstanceMetadataServiceConfiguration"),
            ip_address_type=param("IpAddressType"),
            # moto's SageMakerResponse.create_notebook_instance passes these
            instance_type=param("InstanceType"),
            subnet_id=param("SubnetId"),
            security_group_ids=param("SecurityGroupIds"),
            role_arn=param("RoleArn"),
            kms_key_id=param("KmsKeyId"),
            tags=param("Tags"),
            lifecycle_config_name=param("LifecycleConfigName"),
            direct_internet_access=param("DirectInternetAccess"),
            volume_size_in_gb=param("VolumeSizeInGB"),
            accelerator_types=param("AcceleratorTypes"),
            default_code_repository=param("DefaultCodeRepository"),
            additional_code_repositories=param("AdditionalCodeRepositories"),
            root_access=param("RootAccess"),
        )
        return ActionResult({"NotebookInstanceArn": notebook.arn})

    def update_notebook_instance(self) -> EmptyResult:
        self.backend.update_notebook_instance(self._get_param("NotebookInstanceName"), self._get_param)
        return EmptyResult()

    def create_presigned_notebook_instance_url(self) -> ActionResult:
        url = self.backend.presigned_notebook_instance_url(
            self._get_param("NotebookInstanceName"), self._get_param("SessionExpirationDurationInSeconds")
        )
        return ActionResult({"AuthorizedUrl": url})

    def create_notebook_instance_lifecycle_config(self) -> ActionResult:
        config = self.backend.create_notebook_instance_lifecycle_config(
            notebook_instance_lifecycle_config_name=self._get_param("NotebookInstanceLifecycleConfigName"),
            on_create=self._get_param("OnCreate"),
            on_start=self._get_param("OnStart"),
            tags=self._get_param("Tags"),
        )
        return ActionResult({"NotebookInstanceLifecycleConfigArn": config.arn})

    def update_notebook_instance_lifecycle_config(self) -> EmptyResult:
        self.backend.update_notebook_instance_lifecycle_config(
            self._get_param("NotebookInstanceLifecycleConfigName"), self._get_param("OnCreate"), self._get_param("OnStart")
        )
        return EmptyResult()

    def list_notebook_instance_lifecycle_configs(self) -> ActionResult:
        configs = self.backend.list_notebook_instance_lifecycle_configs(self._get_param("NameContains") or "")
        return ActionResult({"NotebookInstanceLifecycleConfigs": configs})


def _instant(value: object) -> float:
    """A time as SageMaker's JSON carries it (epoch seconds, or an ISO 8601 string from moto's records)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _sortable(value: object) -> object:
    """Times compare as instants, whichever form they come in; anything else as itself."""
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def _page_start(token: str | None, total: int) -> int:
    """Where a NextToken this response gave continues; SageMaker's ValidationException for any other."""
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise JsonRESTError("ValidationException", f'Invalid pagination token because "{token}".')
    return int(token)
