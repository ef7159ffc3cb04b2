"""Every SageMaker operation is executed, answered as a record that is true, or refused by name: never faked."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.utils import camelcase_to_underscores
from vgsales.emulator import catalogue
from vgsales.emulator.sagemaker import SageMakerService

TESTS = Path(__file__).resolve().parents[1]
REFUSED = sorted(set(catalogue.operations()) - catalogue.answered())
# What moto 5.2.5 answered with a state it never reached; each is refused now.
MOTO_FAKES = ("CreateProcessingJob", "CreateAutoMLJobV2", "CreateCompilationJob", "CreatePipeline",
              "StartPipelineExecution", "CreateCluster", "CreateDomain", "CreateFeatureGroup",
              "CreateModelPackage", "CreateDataQualityJobDefinition", "UpdateEndpointWeightsAndCapacities")


def test_the_catalogue_names_only_real_operations():
    unknown = (catalogue.answered()) - set(catalogue.operations())
    assert not unknown, f"not SageMaker operations (typos?): {sorted(unknown)}"
    assert not catalogue.EXECUTED & catalogue.BOOKKEEPING_OPERATIONS


def test_every_answered_operation_is_implemented(emulator):
    for operation in sorted(catalogue.answered()):
        method = getattr(SageMakerService, camelcase_to_underscores(operation), None)
        assert method is not None, f"{operation} is in the catalogue but nothing answers it"
        assert operation not in catalogue.refused(), f"{operation} is in the catalogue but refused"


def test_every_executed_operation_is_covered_by_a_test():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in TESTS.rglob("*.py"))
    for operation in sorted(catalogue.EXECUTED):
        snake = camelcase_to_underscores(operation)
        assert re.search(rf"\b({snake}|{operation})\b", sources), f"no test calls {operation}"


def test_moto_fakes_are_among_the_refused():
    assert set(MOTO_FAKES) <= set(REFUSED)


def test_every_other_operation_is_refused_by_name(aws_env):
    """Called with no parameters (botocore's own validation off), so it is the emulator that answers."""
    client = boto3.client("sagemaker", config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    wrong = {}
    for operation in REFUSED:
        try:
            client._make_api_call(operation, {})
        except ClientError as exc:
            error = exc.response["Error"]
            if not (error["Code"] == "ValidationException" and error["Message"].startswith(
                    f"{operation} is not executed by the local emulator")):
                wrong[operation] = f"{error['Code']}: {error['Message'][:120]}"
        else:
            wrong[operation] = "answered"
    assert not wrong, wrong


@pytest.mark.parametrize("operation, instead", [
    ("CreateProcessingJob", "in your own process"),
    ("CreateAutoMLJobV2", "CreateHyperParameterTuningJob"),
    ("StartPipelineExecution", "Run the steps yourself"),
    ("CreateCluster", "Use the aws target for it"),
])  # fmt: skip
def test_a_refusal_says_what_to_use_instead(operation, instead):
    message = catalogue.refusal(operation)
    assert message.startswith(f"{operation} is not executed by the local emulator") and instead in message
    assert "\n" not in message


def test_a_well_formed_processing_job_is_refused_and_leaves_nothing(aws_env):
    sagemaker = boto3.client("sagemaker")
    with pytest.raises(ClientError, match="CreateProcessingJob is not executed by the local emulator"):
        sagemaker.create_processing_job(
            ProcessingJobName="vgsales-processing",
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}},
            AppSpecification={"ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1"},
            RoleArn="arn:aws:iam::123456789012:role/vgsales-sagemaker-execution",
        )
    with pytest.raises(ClientError, match="ListProcessingJobs is not executed"):
        sagemaker.list_processing_jobs()
