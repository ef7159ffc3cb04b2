"""Every SageMaker operation, held to one of three outcomes: executed, a record that is true as answered, or refused.

moto answers many SageMaker operations with states it never reached: processing, AutoML and compilation jobs
"Completed" at once, pipelines "Succeeded", clusters "InService". The emulator's promise is that what it reports,
it did. So only the operations listed here are answered, and every other operation of SageMaker's API (moto's
fakes and what moto lacks alike) is refused with a ValidationException that names it, says the local target
does not execute it, and what to use instead. tests/emulator/test_catalogue.py holds every operation of
botocore's SageMaker model to this table, so a moto upgrade cannot add a fake unnoticed.
"""

from __future__ import annotations

import functools

from botocore.session import get_session

# Run for real by the emulator (training.py, tuning.py, transform.py, hosting.py, notebooks.py), each covered by tests.
EXECUTED = frozenset({
    "CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob",
    "CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob", "ListHyperParameterTuningJobs",
    "StopHyperParameterTuningJob", "DeleteHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob",
    "CreateTransformJob", "DescribeTransformJob", "ListTransformJobs", "StopTransformJob",
    "CreateEndpoint", "DescribeEndpoint", "ListEndpoints", "UpdateEndpoint", "DeleteEndpoint",
    # A JupyterLab per InService instance, prepared by its lifecycle scripts, opened by its presigned URL.
    "CreateNotebookInstance", "DescribeNotebookInstance", "ListNotebookInstances", "UpdateNotebookInstance",
    "StartNotebookInstance", "StopNotebookInstance", "DeleteNotebookInstance", "CreatePresignedNotebookInstanceUrl",
})  # fmt: skip

# Records with nothing to run behind them, answered as SageMaker answers them: what they report is all there is.
BOOKKEEPING = {
    # A model and an endpoint config are descriptions until an endpoint or a transform job uses them.
    "models": ("CreateModel", "DescribeModel", "ListModels", "DeleteModel"),
    "endpoint configs": ("CreateEndpointConfig", "DescribeEndpointConfig", "ListEndpointConfigs", "DeleteEndpointConfig"),
    "tags": ("AddTags", "ListTags", "DeleteTags"),
    # A lifecycle configuration holds the scripts that a notebook instance runs when it starts (notebooks.py).
    "notebook instance lifecycle configurations": (
        "CreateNotebookInstanceLifecycleConfig", "DescribeNotebookInstanceLifecycleConfig",
        "ListNotebookInstanceLifecycleConfigs", "UpdateNotebookInstanceLifecycleConfig",
        "DeleteNotebookInstanceLifecycleConfig",
    ),
    # Experiments, trials and their components are metadata that clients write and read back.
    "experiments": (
        "CreateExperiment", "DescribeExperiment", "ListExperiments", "DeleteExperiment",
        "CreateTrial", "DescribeTrial", "ListTrials", "DeleteTrial",
        "CreateTrialComponent", "DescribeTrialComponent", "ListTrialComponents", "UpdateTrialComponent",
        "DeleteTrialComponent", "AssociateTrialComponent", "DisassociateTrialComponent",
    ),
    # The model registry and model cards: records of models. CreateModelPackage is refused: a package may ask
    # for validation transform jobs, which moto reports as done without running them.
    "model registry": (
        "CreateModelPackageGroup", "DescribeModelPackageGroup", "ListModelPackageGroups",
        "DescribeModelPackage", "ListModelPackages", "UpdateModelPackage",
        "CreateModelCard", "DescribeModelCard", "ListModelCards", "ListModelCardVersions", "UpdateModelCard",
        "DeleteModelCard",
    ),
    "search": ("Search",),
}  # fmt: skip
BOOKKEEPING_OPERATIONS = frozenset(name for names in BOOKKEEPING.values() for name in names)

# What to use instead, by the first word of an operation's resource; anything else: the aws target.
INSTEAD = {
    "Processing": "Run the processing code in your own process (it reads and writes S3 like any client), or use the "
                  "aws target.",
    "AutoML": "Tune the built-in XGBoost algorithm with CreateHyperParameterTuningJob, which the emulator runs, or "
              "use the aws target.",
    "Pipeline": "Run the steps yourself (the emulator runs training, tuning and transform jobs and endpoints), or "
                "use the aws target.",
    "Compilation": "Serve the model on an endpoint, which the emulator runs, or use the aws target.",
    "Monitoring": "Score the endpoint's captured requests yourself, or use the aws target.",
}


def refusal(operation: str) -> str:
    """The one-paragraph message a refused operation gets."""
    instead = next((text for word, text in INSTEAD.items() if word in operation), "Use the aws target for it.")
    return (
        f"{operation} is not executed by the local emulator. The local target runs training jobs, hyperparameter "
        "tuning jobs, batch transform jobs and endpoints of the built-in XGBoost algorithm and notebook instances "
        "(a JupyterLab each) for real, and keeps records such as models, endpoint configs, tags and experiments; it "
        "refuses what it "
        f"could only pretend to do. {instead}"
    )


def answered() -> frozenset[str]:
    return EXECUTED | BOOKKEEPING_OPERATIONS


def operations() -> list[str]:
    """Every operation of SageMaker's API, as botocore (the pinned version) defines it."""
    return list(get_session().get_service_model("sagemaker").operation_names)


@functools.cache
def refused() -> frozenset[str]:
    """The operations of SageMaker's API that the emulator refuses: checked once per request, at dispatch
    (sagemaker.SageMakerService.call_action)."""
    return frozenset(operations()) - answered()
