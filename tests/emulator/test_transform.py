"""Batch transform jobs on the emulator run the model for real: the same predictions as the endpoint, in order."""

from __future__ import annotations

import io
import json
import uuid

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import dump_svmlight_file, make_classification

from support.wait import wait_until

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
ROLE_ARN = "arn:aws:iam::123456789012:role/vgsales-test-sagemaker"
FEATURES, LABELS = make_classification(n_samples=500, n_features=5, n_informative=3, random_state=11)
FEATURES = np.round(FEATURES, 4)
FEATURES[FEATURES == 0] = 0.0001  # libsvm leaves zeros out; keep CSV and libsvm the same numbers
TEST = slice(400, 460)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def libsvm(rows: slice, labels: bool = True) -> bytes:
    buffer = io.BytesIO()
    dump_svmlight_file(FEATURES[rows], LABELS[rows] if labels else np.zeros(len(LABELS[rows])), buffer, zero_based=True)
    return buffer.getvalue()


def csv(rows: slice, with_id: bool = False) -> bytes:
    lines = []
    for index, row in zip(range(rows.start, rows.stop), FEATURES[rows]):
        fields = ([str(index)] if with_id else []) + [repr(float(v)) for v in row]
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def served(emulator):
    """A trained model, a model record and an endpoint serving it; the bucket holds the test rows three ways."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in emulator.client_env().items():
            patch.setenv(name, value)
        s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
        bucket = unique("vgsales-transform-test")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="train/data.libsvm", Body=libsvm(slice(0, 400)))
        s3.put_object(Bucket=bucket, Key="test-libsvm/part-0.libsvm", Body=libsvm(slice(400, 430)))
        s3.put_object(Bucket=bucket, Key="test-libsvm/part-1.libsvm", Body=libsvm(slice(430, 460)))
        s3.put_object(Bucket=bucket, Key="test-csv/rows.csv", Body=csv(TEST))
        s3.put_object(Bucket=bucket, Key="test-csv-id/rows.csv", Body=csv(TEST, with_id=True))
        job = unique("vgsales-train")
        sagemaker.create_training_job(
            TrainingJobName=job,
            AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            RoleArn=ROLE_ARN,
            HyperParameters={"num_round": "20", "objective": "binary:logistic", "max_depth": "3"},
            InputDataConfig=[{"ChannelName": "train", "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train/", "S3DataDistributionType": "FullyReplicated"}}}],
            OutputDataConfig={"S3OutputPath": f"s3://{bucket}/model"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
        )
        artifact = sagemaker.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
        model = unique("vgsales-model")
        sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN,
                               PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact})
        endpoint = unique("vgsales-endpoint")
        sagemaker.create_endpoint_config(EndpointConfigName=endpoint, ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
        body = boto3.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="text/libsvm", Body=libsvm(TEST)
        )["Body"].read()
        expected = [float(score) for score in body.decode().splitlines()]  # 3.2-0: a line per score
    return {"bucket": bucket, "model": model, "expected": expected}


def transform(sagemaker, served, source: str, content_type: str, *, wait: bool = True, **options) -> tuple[str, dict]:
    name = options.pop("name", None) or unique("vgsales-transform")
    output = f"s3://{served['bucket']}/out/{name}"
    request = {
        "TransformJobName": name,
        "ModelName": options.pop("model", served["model"]),
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": options.pop("data_type", "S3Prefix"),
                                                           "S3Uri": f"s3://{served['bucket']}/{source}"}},
                           "ContentType": content_type, "SplitType": options.pop("split", "Line")},
        "TransformOutput": {"S3OutputPath": output, "AssembleWith": options.pop("assemble", "Line"),
                            **({"Accept": options.pop("accept")} if "accept" in options else {})},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": options.pop("instances", 1)},
        **options,
    }
    sagemaker.create_transform_job(**request)
    if not wait:
        return output, {}
    return output, wait_for_end(sagemaker, name, timeout=60)


def wait_for_end(sagemaker, name: str, timeout: float) -> dict:
    def ended() -> dict | None:
        job = sagemaker.describe_transform_job(TransformJobName=name)
        return job if job["TransformJobStatus"] not in ("InProgress", "Stopping") else None

    return wait_until(ended, timeout=timeout, message=f"transform job {name} to end")


def read(s3, uri: str) -> str:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def scores(text: str) -> list[float]:
    return [float(line) for line in text.splitlines()]


@pytest.fixture
def sagemaker(aws_env):
    return boto3.client("sagemaker")


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_a_transform_job_predicts_what_the_endpoint_predicts(sagemaker, served, strategy):
    s3 = boto3.client("s3")
    output, job = transform(sagemaker, served, "test-libsvm/", "text/libsvm", BatchStrategy=strategy)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["TransformStartTime"] <= job["TransformEndTime"]
    listed = sagemaker.list_transform_jobs(NameContains=job["TransformJobName"])["TransformJobSummaries"]
    assert [(j["TransformJobName"], j["TransformJobStatus"]) for j in listed] == [(job["TransformJobName"], "Completed")]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=served["bucket"], Prefix=output.split("/", 3)[3])["Contents"])
    assert [key.rsplit("/", 1)[1] for key in keys] == ["part-0.libsvm.out", "part-1.libsvm.out"]
    predicted = scores(read(s3, f"{output}/part-0.libsvm.out")) + scores(read(s3, f"{output}/part-1.libsvm.out"))
    assert predicted == pytest.approx(served["expected"], abs=1e-6)


def test_csv_and_a_small_payload_limit_give_the_same_predictions(sagemaker, served):
    output, job = transform(sagemaker, served, "test-csv/", "text/csv", MaxPayloadInMB=1, MaxConcurrentTransforms=2)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert scores(read(boto3.client("s3"), f"{output}/rows.csv.out")) == pytest.approx(served["expected"], abs=1e-6)


def test_split_none_sends_each_object_whole(sagemaker, served):
    output, job = transform(sagemaker, served, "test-csv/rows.csv", "text/csv", split="None", assemble="None")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert scores(read(boto3.client("s3"), f"{output}/rows.csv.out")) == pytest.approx(served["expected"], abs=1e-6)


def test_in_batch_the_container_writes_a_line_per_score_whatever_the_accept(sagemaker, served):
    """serve.py's SAGEMAKER_BATCH branch (every tag) joins the scores with newlines before it looks at Accept."""
    output, job = transform(sagemaker, served, "test-csv/", "text/csv", accept="application/json")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert scores(read(boto3.client("s3"), f"{output}/rows.csv.out")) == pytest.approx(served["expected"], abs=1e-6)


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_assemble_with_none_keeps_each_answer_on_its_line(sagemaker, served, strategy):
    """The SDK's default (AssembleWith unset): the container ends each answer with a newline, so the answers
    never run together into one number."""
    output, job = transform(sagemaker, served, "test-csv/", "text/csv", assemble="None", BatchStrategy=strategy)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    text = read(boto3.client("s3"), f"{output}/rows.csv.out")
    assert text.endswith("\n") and scores(text) == pytest.approx(served["expected"], abs=1e-6)


def test_in_batch_from_1_2_2_an_accept_the_container_does_not_list_fails_the_job(sagemaker, served):
    output, job = transform(sagemaker, served, "test-csv/", "text/csv", accept="text/plain")
    assert job["TransformJobStatus"] == "Failed"


def test_manifest_input_and_two_instances(sagemaker, served):
    s3 = boto3.client("s3")
    manifest = [{"prefix": f"s3://{served['bucket']}/test-libsvm/"}, "part-0.libsvm", "part-1.libsvm"]
    s3.put_object(Bucket=served["bucket"], Key="manifests/test.manifest", Body=json.dumps(manifest).encode())
    output, job = transform(sagemaker, served, "manifests/test.manifest", "text/libsvm", data_type="ManifestFile", instances=2)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    predicted = scores(read(s3, f"{output}/part-0.libsvm.out")) + scores(read(s3, f"{output}/part-1.libsvm.out"))
    assert predicted == pytest.approx(served["expected"], abs=1e-6)
    streams = boto3.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=f"{job['TransformJobName']}/"
    )["logStreams"]
    workers = sorted(s["logStreamName"] for s in streams if not s["logStreamName"].endswith("/data-log"))
    assert len(workers) == 2, "one log stream per instance"
    logs = boto3.client("logs")
    shares = [[e["message"] for e in logs.get_log_events(logGroupName="/aws/sagemaker/TransformJobs", logStreamName=w)["events"]]
              for w in workers]
    # Each instance transformed its own share: one of the two objects each, not both on one.
    assert all(any("batch transform of 1 object(s)" in line for line in lines) for lines in shares), shares


def test_data_processing_filters_and_joins_csv_records(sagemaker, served):
    """The id column is filtered out before the model, joined back with the input, then kept with the score."""
    output, job = transform(sagemaker, served, "test-csv-id/", "text/csv",
                            DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"})
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    rows = [line.split(",") for line in read(boto3.client("s3"), f"{output}/rows.csv.out").splitlines()]
    assert [int(row[0]) for row in rows] == list(range(TEST.start, TEST.stop))
    assert [float(row[1]) for row in rows] == pytest.approx(served["expected"], abs=1e-6)


def test_a_bad_record_fails_the_job_and_the_log_names_the_object_and_line(sagemaker, served):
    s3 = boto3.client("s3")
    lines = libsvm(TEST).decode().splitlines()
    lines[6] = "1 3:oops"
    s3.put_object(Bucket=served["bucket"], Key="bad/rows.libsvm", Body=("\n".join(lines) + "\n").encode())
    _, job = transform(sagemaker, served, "bad/", "text/libsvm", BatchStrategy="SingleRecord")
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"] == "ClientError: See job logs for more information"
    logs = boto3.client("logs")
    stream = next(s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=f"{job['TransformJobName']}/")["logStreams"]
        if s["logStreamName"].endswith("/data-log"))
    messages = [e["message"] for e in logs.get_log_events(logGroupName="/aws/sagemaker/TransformJobs", logStreamName=stream)["events"]]
    assert any(f"s3://{served['bucket']}/bad/rows.libsvm, line 7" in m and "libsvm" in m for m in messages), messages


def test_a_model_with_an_inference_script_is_run_through_it_never_through_the_algorithm(sagemaker, served):
    """SAGEMAKER_PROGRAM makes the container serve the script (tests/emulator/script_mode/test_serving.py); without
    SAGEMAKER_SUBMIT_DIRECTORY its module is not there, so the job fails rather than answer with the algorithm."""
    model = unique("vgsales-script")
    container = sagemaker.describe_model(ModelName=served["model"])["PrimaryContainer"]
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer={
        "Image": container["Image"], "ModelDataUrl": container["ModelDataUrl"],
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}})
    output, job = transform(sagemaker, served, "test-csv/", "text/csv", model=model)
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        "ClientError: The model server could not import the inference script inference.py (module inference in "
        "/opt/ml/code): ImportModuleError: ModuleNotFoundError: No module named 'inference'.")
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=served["bucket"], Prefix=output.split("/", 3)[3])


def test_stop_ends_a_running_job_as_stopped(sagemaker, served):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=served["bucket"], Key="big/rows.libsvm", Body=libsvm(TEST) * 2000)  # 120,000 records, one request each
    name_output, _ = transform(sagemaker, served, "big/", "text/libsvm", wait=False, BatchStrategy="SingleRecord")
    name = name_output.rsplit("/", 1)[1]
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "InProgress"
    sagemaker.stop_transform_job(TransformJobName=name)
    assert wait_for_end(sagemaker, name, timeout=30)["TransformJobStatus"] == "Stopped"


REFUSALS = {
    "another image": ({"model": "image"}, "built-in XGBoost algorithm only"),
    "gzip input": ({"TransformInput.CompressionType": "Gzip"}, "CompressionType Gzip"),
    "RecordIO split": ({"TransformInput.SplitType": "RecordIO"}, "SplitType 'RecordIO'"),
    "filters on libsvm": ({"DataProcessing": {"InputFilter": "$[1:]"}}, "text/csv input only"),
    "a JSONPath it does not apply": ({"content_type": "text/csv", "DataProcessing": {"InputFilter": "$.features"}},
                                     "JSONPath index selections"),
}


@pytest.mark.parametrize("changes, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_what_it_does_not_run_is_refused_before_the_job_exists(sagemaker, served, changes, message):
    model = served["model"]
    if changes.get("model") == "image":
        model = unique("vgsales-other")
        sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer={
            "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-model:1", "ModelDataUrl": "s3://x/model.tar.gz"})
    name = unique("vgsales-refused")
    request = {
        "TransformJobName": name, "ModelName": model,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{served['bucket']}/test-csv/"}},
                           "ContentType": changes.get("content_type", "text/libsvm"), "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": f"s3://{served['bucket']}/refused"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in changes.items():
        if key.startswith("TransformInput."):
            request["TransformInput"][key.split(".", 1)[1]] = value
        elif key == "DataProcessing":
            request["DataProcessing"] = value
    with pytest.raises(ClientError, match=message):
        sagemaker.create_transform_job(**request)
    with pytest.raises(ClientError):
        sagemaker.describe_transform_job(TransformJobName=name)


@pytest.mark.parametrize("limit", [0, 100], ids=["0, no limit", "100, SageMaker's largest"])
def test_the_payload_limit_takes_sagemakers_whole_range(sagemaker, served, limit):
    _, job = transform(sagemaker, served, "test-libsvm/", "text/libsvm", MaxPayloadInMB=limit)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")


def test_a_payload_limit_over_100_mb_is_refused_even_past_the_client(aws_env, served):
    """botocore refuses 101 itself; a client that does not validate meets the emulator's own check."""
    from botocore.config import Config

    unchecked = boto3.client("sagemaker", config=Config(parameter_validation=False))
    with pytest.raises(ClientError, match="Member must have value less than or equal to 100"):
        transform(unchecked, served, "test-libsvm/", "text/libsvm", MaxPayloadInMB=101)


def test_transform_jobs_are_listed_newest_first_filtered_then_paged(sagemaker, served):
    """ListTransformJobs as SageMaker answers it: CreationTime, Descending by default; NameContains applied before
    the page is cut (moto 5.x cuts first, so a match on a later page was lost), and NextToken goes on from there."""
    stem = unique("listed-transform")
    names = [f"{stem}-{number}" for number in range(3)]
    for name in names:
        transform(sagemaker, served, "test-csv/rows.csv", "text/csv", name=name)

    def listed(**request) -> list[str]:
        return [job["TransformJobName"] for job in sagemaker.list_transform_jobs(NameContains=stem, **request)["TransformJobSummaries"]]

    assert listed() == names[::-1], "CreationTime, Descending by default"
    assert listed(SortOrder="Ascending") == names
    assert listed(SortBy="Name", SortOrder="Ascending") == sorted(names)
    first = sagemaker.list_transform_jobs(NameContains=stem, MaxResults=2)
    rest = sagemaker.list_transform_jobs(NameContains=stem, MaxResults=2, NextToken=first["NextToken"])
    assert [job["TransformJobName"] for job in first["TransformJobSummaries"] + rest["TransformJobSummaries"]] == names[::-1]
    assert "NextToken" not in rest
