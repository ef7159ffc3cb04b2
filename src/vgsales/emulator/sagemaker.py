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

from types import ModuleType
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import TYPE_RESPONSE, ActionResult, EmptyResult
from moto.sagemaker import urls as moto_urls
from moto.sagemaker.responses import SageMakerResponse
from werkzeug.exceptions import HTTPException

from . import access, catalogue, listing, training
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
        asked for (SageMaker's defaults, listing.DEFAULTS), then the page."""
        super().list_training_jobs()  # moto's validation of every parameter, and its error messages
        found = self.backend.list_training_jobs(next_token=None, max_results=None, **self._list_filters())["TrainingJobSummaries"]
        fields = _fields("TrainingJobName", "TrainingJobStatus")
        return ActionResult(listing.sorted_page(found, "TrainingJobSummaries", fields, self._get_param))

    def list_transform_jobs(self) -> ActionResult:
        """moto's (5.x) pages, sorts and filters transform jobs as it does training jobs (above): here the filters,
        then the order and the page (SageMaker's defaults, listing.DEFAULTS)."""
        super().list_transform_jobs()
        found = self.backend.list_transform_jobs(next_token=None, max_results=None, **self._list_filters())["TransformJobSummaries"]
        fields = _fields("TransformJobName", "TransformJobStatus")
        return ActionResult(listing.sorted_page(found, "TransformJobSummaries", fields, self._get_param))

    def list_models(self) -> ActionResult:
        """moto's (5.x) ignores every parameter and answers with all models in the order they were created: here
        NameContains, CreationTimeBefore and CreationTimeAfter, then SortBy (Name or CreationTime, the default) and
        SortOrder (listing.DEFAULTS), then MaxResults and NextToken, as SageMaker's ListModels."""
        param = self._get_param
        found = [model.response_object for model in self.backend.list_models()]
        if param("NameContains"):
            found = [model for model in found if param("NameContains") in model["ModelName"]]
        found = listing.created_between(found, param("CreationTimeAfter"), param("CreationTimeBefore"))
        return ActionResult(listing.sorted_page(found, "Models", _fields("ModelName"), param))

    def _list_filters(self) -> dict[str, object]:
        param = self._get_param
        return {
            "creation_time_after": param("CreationTimeAfter"), "creation_time_before": param("CreationTimeBefore"),
            "last_modified_time_after": param("LastModifiedTimeAfter"),
            "last_modified_time_before": param("LastModifiedTimeBefore"), "name_contains": param("NameContains"),
            "status_equals": param("StatusEquals"),
        }  # fmt: skip

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
        param = self._get_param
        found = self.backend.list_notebook_instance_lifecycle_configs(param("NameContains") or "")
        found = listing.created_between(found, param("CreationTimeAfter"), param("CreationTimeBefore"))
        found = listing.created_between(found, param("LastModifiedTimeAfter"), param("LastModifiedTimeBefore"),
                                        field="LastModifiedTime")  # fmt: skip
        fields = {**_fields("NotebookInstanceLifecycleConfigName"), "LastModifiedTime": "LastModifiedTime"}
        return ActionResult(listing.sorted_page(found, "NotebookInstanceLifecycleConfigs", fields, param))

    # --- experiments: moto's (5.x) lists take MaxResults and NextToken only, and ListTrialComponents its
    # TrialName; SortBy, SortOrder, CreatedAfter, CreatedBefore and ExperimentName were ignored ----------------
    def list_experiments(self) -> ActionResult:
        found = [_experiment_summary(item, "ExperimentName", item.experiment_name)
                 for item in self.backend.experiments.values()]  # fmt: skip
        return self._experiments_page(found, "ExperimentSummaries", "ExperimentName")

    def list_trials(self) -> ActionResult:
        param = self._get_param
        trials = [trial for trial in self.backend.trials.values()
                  if param("ExperimentName") in (None, trial.experiment_name)
                  and param("TrialComponentName") in (None, *trial.trial_components)]  # fmt: skip
        found = [_experiment_summary(trial, "TrialName", trial.trial_name) for trial in trials]
        return self._experiments_page(found, "TrialSummaries", "TrialName")

    def list_trial_components(self) -> ActionResult:
        """ExperimentName: the components of that experiment's trials. SourceArn: the components a SageMaker job
        made, which the emulator never makes, so none. One of the three at most, as documented ("If you specify
        ExperimentName, you can't filter by SourceArn or TrialName.")."""
        param = self._get_param
        named = [name for name in ("ExperimentName", "TrialName", "SourceArn") if param(name) is not None]
        if len(named) > 1:
            raise JsonRESTError("ValidationException", "ListTrialComponents filters by one of ExperimentName, "
                                f"TrialName and SourceArn at most; this request gives {' and '.join(named)}.")
        components = list(self.backend.trial_components.values())
        if param("TrialName") is not None:
            trial = self.backend.trials.get(str(param("TrialName")))
            members = trial.trial_components if trial is not None else []
            components = [item for item in components if item.trial_component_name in members]
        if param("ExperimentName") is not None:
            names = {name for trial in self.backend.trials.values() if trial.experiment_name == param("ExperimentName")
                     for name in trial.trial_components}  # fmt: skip
            components = [item for item in components if item.trial_component_name in names]
        if param("SourceArn") is not None:
            components = []
        found = [_experiment_summary(item, "TrialComponentName", item.trial_component_name) for item in components]
        return self._experiments_page(found, "TrialComponentSummaries", "TrialComponentName")

    def _experiments_page(self, found: list[Document], key: str, name: str) -> ActionResult:
        found = listing.created_between(found, self._get_param("CreatedAfter"), self._get_param("CreatedBefore"))
        return ActionResult(listing.sorted_page(found, key, _fields(name), self._get_param))

    # --- SortBy, SortOrder and MaxResults: SageMaker's defaults where a request names none ------------------
    def _get_param(self, param_name: str, if_none: Any = None) -> Any:
        """A request's parameter; a SortBy, SortOrder or MaxResults it does not name is SageMaker's documented
        default for the operation (listing.DEFAULTS), so that moto's list methods and the emulator's own sort and
        page as SageMaker's."""
        value = super()._get_param(param_name, if_none)
        if value is None and param_name in listing.DEFAULTED:
            return listing.DEFAULTS.get(self._get_action(), {}).get(param_name)
        return value


def _fields(name: str, status: str | None = None) -> dict[str, str]:
    """SortBy's values for a list of summaries: Name, CreationTime, and Status where the operation has it."""
    return {"Name": name, "CreationTime": "CreationTime", **({"Status": status} if status else {})}


def _experiment_summary(item: Any, name_field: str, name: str) -> Document:
    """What moto's responses answer for an experiment, a trial or a trial component (moto/sagemaker/responses.py)."""
    return {name_field: name, name_field.replace("Name", "Arn"): item.arn, "CreationTime": item.creation_time,
            "LastModifiedTime": item.last_modified_time}  # fmt: skip

