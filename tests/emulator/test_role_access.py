"""Jobs and endpoints act as their execution role (role_access.py): what the role may not read or write in S3 fails
them with SageMaker's message, as on AWS, and what it may not log leaves them without logs.

One role, `actor`, may list, read and write the bucket `vgsales-data-<hex>` and nothing else in S3; the near miss
`vgsales-data-<hex>-other` has the same objects and a name that starts like the allowed one; `vgsales-guarded-<hex>`
is allowed by the role's policy too, but its bucket policy denies the role reads and writes (an explicit Deny
wins). The clients are the emulator's administrative identity, which may do everything: only the role decides.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid

import boto3
import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import dump_svmlight_file, make_classification

from support.wait import wait_until

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
HYPERPARAMETERS = {"num_round": "5", "objective": "binary:logistic", "max_depth": "3"}
WHERE = ("allowed", "near", "guarded")
# A data object whose bytes the job quotes when it parses them (the libsvm reader's error names what it could not
# read): it must never reach a FailureReason unless the role may read it.
SECRET = b"hunter2-not-for-this-role 0:1\n"
ACCESS_DENIED = "(AccessDenied: Access Denied)"
TERMINAL = ("Completed", "Failed", "Stopped")

features, labels = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=5)
FEATURES = np.round(features, 3).astype(np.float32)
FEATURES[FEATURES == 0] = 0.001


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def libsvm_rows() -> bytes:
    buffer = io.BytesIO()
    dump_svmlight_file(FEATURES, labels, buffer, zero_based=True)
    return buffer.getvalue()


def csv_rows() -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in FEATURES[:20]).encode() + b"\n"


def model_archive(tmp_path) -> bytes:
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(FEATURES, label=labels), 3)
    model_file = tmp_path / "xgboost-model.ubj"
    booster.save_model(str(model_file))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(model_file, arcname="xgboost-model")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(emulator, make_bucket, make_role, tmp_path_factory):
    objects = {
        "train/rows.libsvm": libsvm_rows(),
        "test/rows.csv": csv_rows(),
        "model/model.tar.gz": model_archive(tmp_path_factory.mktemp("model")),
    }
    allowed = make_bucket("vgsales-data", objects)
    guarded = make_bucket("vgsales-guarded", objects)
    listable = make_bucket("vgsales-listable", {"secret/rows.libsvm": SECRET})
    unlisted = make_bucket("vgsales-unlisted", {"train/rows.libsvm": libsvm_rows()})
    buckets = {"allowed": allowed, "near": f"{allowed}-other", "guarded": guarded}
    actor = make_role("vgsales-actor", [
        {"Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": [f"arn:aws:s3:::{name}" for name in (allowed, guarded, listable)]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{allowed}/*", f"arn:aws:s3:::{guarded}/*"]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{unlisted}/*"},
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
    ])  # fmt: skip
    silent = make_role("vgsales-silent", [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{allowed}"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{allowed}/*"},
    ])  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name, value in emulator.client_env().items():
            patch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=buckets["near"])
        for key, body in objects.items():
            s3.put_object(Bucket=buckets["near"], Key=key, Body=body)
        manifest = [{"prefix": f"s3://{unlisted}/train/"}, "rows.libsvm", "missing.libsvm"]
        s3.put_object(Bucket=unlisted, Key="train.manifest", Body=json.dumps(manifest).encode())
        s3.put_bucket_policy(Bucket=guarded, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{guarded}/*", "Condition": {"ArnEquals": {"aws:PrincipalArn": actor}}}]}))
    return {"buckets": buckets, "listable": listable, "unlisted": unlisted, "actor": actor, "silent": silent}


def train(
    sagemaker, role: str, input_uri: str, output_uri: str, name: str | None = None, data_type: str = "S3Prefix"
) -> dict:
    name = name or unique("vgsales-role")
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        RoleArn=role,
        HyperParameters=HYPERPARAMETERS,
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
            "S3DataType": data_type, "S3Uri": input_uri, "S3DataDistributionType": "FullyReplicated"}}}],
        OutputDataConfig={"S3OutputPath": output_uri},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )  # fmt: skip
    return wait(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")


def create_model(sagemaker, role: str, model_data_url: str) -> str:
    name = unique("vgsales-role-model")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=role,
                           PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data_url})
    return name


def transform(sagemaker, model: str, input_uri: str, output_uri: str) -> dict:
    name = unique("vgsales-role-transform")
    sagemaker.create_transform_job(
        TransformJobName=name, ModelName=model,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": output_uri, "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )  # fmt: skip
    return wait(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")


def deploy(sagemaker, model: str) -> dict:
    name = unique("vgsales-role-endpoint")
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return wait(lambda: sagemaker.describe_endpoint(EndpointName=name), "EndpointStatus", ("InService", "Failed"))


def wait(describe, status_key: str, final: tuple[str, ...] = TERMINAL, timeout: float = 60) -> dict:
    def settled() -> dict | None:
        description = describe()
        return description if description[status_key] in final else None

    return wait_until(settled, timeout=timeout, message=f"{status_key} to be one of {', '.join(final)}")


def keys(s3, bucket: str, prefix: str) -> list[str]:
    return [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def no_objects_found(uri: str, bucket: str, role: str) -> str:
    return (f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the '
            f"bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, and that the "
            f'role "{role}" has "s3:ListBucket" permissions on bucket "{bucket}".')


# --- training ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_training_reads_its_channels_as_its_role(aws_env, world, where):
    bucket, allowed, actor = world["buckets"][where], world["buckets"]["allowed"], world["actor"]
    job = train(boto3.client("sagemaker"), actor, f"s3://{bucket}/train/", f"s3://{allowed}/output")
    expected = {
        "allowed": None,
        "near": no_objects_found(f"s3://{bucket}/train/", bucket, actor),  # may not list it
        "guarded": f"ClientError: Data download failed:Unable to download object s3://{bucket}/train/rows.libsvm "
                   f"{ACCESS_DENIED}",  # may list it; the bucket policy's Deny beats the role's Allow to read
    }[where]  # fmt: skip
    assert job.get("FailureReason") == expected
    assert job["TrainingJobStatus"] == ("Completed" if where == "allowed" else "Failed")


@pytest.mark.parametrize("where", WHERE)
def test_training_writes_its_model_as_its_role(aws_env, world, where):
    bucket, allowed = world["buckets"][where], world["buckets"]["allowed"]
    name = unique("vgsales-role-output")
    job = train(boto3.client("sagemaker"), world["actor"], f"s3://{allowed}/train/", f"s3://{bucket}/output", name)
    artifact = f"s3://{bucket}/output/{name}/output/model.tar.gz"
    written = keys(boto3.client("s3"), bucket, f"output/{name}/")
    if where == "allowed":
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        assert written == [f"output/{name}/output/model.tar.gz"]
    else:
        assert job["TrainingJobStatus"] == "Failed"
        assert job["FailureReason"] == f"ClientError: Artifact upload failed:Unable to upload object {artifact} {ACCESS_DENIED}"
        assert written == [], "a model the role may not write is not written"


def test_a_failure_never_quotes_data_the_role_may_not_read(aws_env, world):
    """The object would fail the job with its bytes quoted (it is not libsvm); the role may list its bucket but
    not read it, so the job fails at the download and never sees them."""
    listable, allowed = world["listable"], world["buckets"]["allowed"]
    job = train(boto3.client("sagemaker"), world["actor"], f"s3://{listable}/secret/", f"s3://{allowed}/output")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        f"ClientError: Data download failed:Unable to download object s3://{listable}/secret/rows.libsvm {ACCESS_DENIED}"
    )
    assert "hunter2" not in job["FailureReason"]


def test_a_missing_object_is_access_denied_to_a_role_that_may_not_list_the_bucket(aws_env, world):
    """S3 answers 403, not 404, to whoever may read objects but not list the bucket: which keys exist is not theirs
    to learn. The manifest names one object that exists and one that does not."""
    unlisted, allowed = world["unlisted"], world["buckets"]["allowed"]
    job = train(boto3.client("sagemaker"), world["actor"], f"s3://{unlisted}/train.manifest", f"s3://{allowed}/output",
                data_type="ManifestFile")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        f"ClientError: Data download failed:Unable to download object s3://{unlisted}/train/missing.libsvm {ACCESS_DENIED}"
    )


def test_a_tuning_jobs_training_jobs_act_as_its_role(aws_env, world):
    sagemaker, bucket, actor = boto3.client("sagemaker"), world["buckets"]["near"], world["actor"]
    name = unique("vgsales-role-tune")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ParameterRanges": {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "4"}]},
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"num_round": "5", "objective": "binary:logistic", "eval_metric": "auc"},
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": actor,
            "InputDataConfig": [{"ChannelName": channel, "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train/", "S3DataDistributionType": "FullyReplicated"}}}
                for channel in ("train", "validation")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{world['buckets']['allowed']}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )  # fmt: skip
    tuning = wait(lambda: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                  "HyperParameterTuningJobStatus")
    assert tuning["HyperParameterTuningJobStatus"] == "Failed"
    assert no_objects_found(f"s3://{bucket}/train/", bucket, actor) in tuning["FailureReason"]


# --- batch transform -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_transform_reads_its_input_as_its_models_role(aws_env, world, where):
    sagemaker, bucket, allowed, actor = boto3.client("sagemaker"), world["buckets"][where], world["buckets"]["allowed"], world["actor"]
    model = create_model(sagemaker, actor, f"s3://{allowed}/model/model.tar.gz")
    job = transform(sagemaker, model, f"s3://{bucket}/test/", f"s3://{allowed}/out/{unique('t')}")
    expected = {
        "allowed": None,
        "near": no_objects_found(f"s3://{bucket}/test/", bucket, actor),
        "guarded": f"ClientError: Data download failed:Unable to download object s3://{bucket}/test/rows.csv {ACCESS_DENIED}",
    }[where]  # fmt: skip
    assert job.get("FailureReason") == expected
    assert job["TransformJobStatus"] == ("Completed" if where == "allowed" else "Failed")


@pytest.mark.parametrize("where", WHERE)
def test_transform_writes_its_output_as_its_models_role(aws_env, world, where):
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    bucket, allowed = world["buckets"][where], world["buckets"]["allowed"]
    model = create_model(sagemaker, world["actor"], f"s3://{allowed}/model/model.tar.gz")
    folder = unique("out")
    job = transform(sagemaker, model, f"s3://{allowed}/test/", f"s3://{bucket}/{folder}")
    if where == "allowed":
        assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
        assert keys(s3, bucket, f"{folder}/") == [f"{folder}/rows.csv.out"]
    else:
        assert job["TransformJobStatus"] == "Failed"
        assert job["FailureReason"] == (
            f"ClientError: Failed to upload the output s3://{bucket}/{folder}/rows.csv.out {ACCESS_DENIED}"
        )
        assert keys(s3, bucket, f"{folder}/") == []


# --- endpoints -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_an_endpoint_downloads_its_model_as_the_models_role(aws_env, world, where):
    sagemaker, bucket = boto3.client("sagemaker"), world["buckets"][where]
    url = f"s3://{bucket}/model/model.tar.gz"
    endpoint = deploy(sagemaker, create_model(sagemaker, world["actor"], url))
    if where == "allowed":
        assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    else:
        assert endpoint["EndpointStatus"] == "Failed"
        assert endpoint["FailureReason"] == (
            f'Failed to download model data for container "container_1" from URL: "{url}". Please ensure that there is '
            "an object located at the URL and that the role passed to CreateModel has permissions to download the object."
        )


# --- the role itself -----------------------------------------------------------------------------------------


def assume_failure(role: str) -> str:
    return (f"SageMaker was unable to assume the role '{role}'. Please ensure that the role exists and allows principal "
            "'sagemaker.amazonaws.com' to assume the role.")


def test_a_deleted_role_fails_the_job_and_the_endpoint(aws_env, world, make_role):
    sagemaker, iam, allowed = boto3.client("sagemaker"), boto3.client("iam"), world["buckets"]["allowed"]
    role = make_role("vgsales-gone", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    model = create_model(sagemaker, role, f"s3://{allowed}/model/model.tar.gz")
    name = role.rsplit("/", 1)[1]
    iam.delete_role_policy(RoleName=name, PolicyName="job")
    iam.delete_role(RoleName=name)

    job = train(sagemaker, role, f"s3://{allowed}/train/", f"s3://{allowed}/output")
    assert (job["TrainingJobStatus"], job["FailureReason"]) == ("Failed", f"ClientError: {assume_failure(role)}")
    endpoint = deploy(sagemaker, model)
    assert (endpoint["EndpointStatus"], endpoint["FailureReason"]) == ("Failed", assume_failure(role))


def test_a_job_never_acts_as_the_administrative_user(aws_env, world):
    """A user's ARN is no execution role, even the emulator's all-powerful one that created the job."""
    admin = boto3.client("sts").get_caller_identity()["Arn"]
    allowed = world["buckets"]["allowed"]
    job = train(boto3.client("sagemaker"), admin, f"s3://{allowed}/train/", f"s3://{allowed}/output")
    assert (job["TrainingJobStatus"], job["FailureReason"]) == ("Failed", f"ClientError: {assume_failure(admin)}")


def test_the_service_reaches_s3_over_tls(aws_env, world, make_role):
    """A role may be held to TLS (the stack's bucket policy holds everyone to it): SageMaker's own S3 traffic is."""
    allowed = world["buckets"]["allowed"]
    role = make_role("vgsales-tls", [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{allowed}", f"arn:aws:s3:::{allowed}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ])  # fmt: skip
    job = train(boto3.client("sagemaker"), role, f"s3://{allowed}/train/", f"s3://{allowed}/output")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")


def test_a_role_that_may_not_log_still_runs_without_logs(aws_env, world):
    """On AWS the job runs and its log streams stay empty or missing; it does not fail for them."""
    allowed, name = world["buckets"]["allowed"], unique("vgsales-role-silent")
    job = train(boto3.client("sagemaker"), world["silent"], f"s3://{allowed}/train/", f"s3://{allowed}/output", name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    streams = boto3.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=name)
    assert streams["logStreams"] == []
