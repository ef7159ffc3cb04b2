"""Endpoints on the emulator load the model for real and serve predictions like the built-in XGBoost container."""

from __future__ import annotations

import inspect
import io
import json
import os
import tarfile
import threading
import uuid

import boto3
import numpy as np
import pytest
import scipy.sparse
import xgboost as xgb
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker import responses as sagemaker_responses
from moto.sagemakerruntime import responses as runtime_responses
from sklearn.datasets import dump_svmlight_file, make_classification
from werkzeug.test import Client

from vgsales.algorithm import serving as xgboost_serving
from vgsales.emulator import hosting
from vgsales.emulator.sagemaker import SageMakerBackend, SageMakerService

from support.wait import wait_until

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"


def as_scores(body: bytes) -> np.ndarray:
    """The 3.2-0 image's real-time text/csv answer: one score per line, each ending with a newline (serve.py
    invocations() → sagemaker-containers' array_to_csv)."""
    text = body.decode()
    assert text.endswith("\n") and "," not in text, text[:200]
    return np.array(text.splitlines(), dtype=float)
ROLE_ARN = "arn:aws:iam::123456789012:role/vgsales-test-sagemaker"
FEATURES = 5

features, labels = make_classification(n_samples=300, n_features=FEATURES, n_informative=3, random_state=11)
ROWS = np.round(features, 3).astype(np.float32)
ROWS[ROWS == 0] = 0.001  # libsvm leaves zeros out (as missing values); keep both formats equal
LABELS = labels.astype(np.float32)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def train(rounds: int, seed: int) -> xgb.Booster:
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": seed, "subsample": 0.9}
    return xgb.train(params, xgb.DMatrix(ROWS, label=LABELS), num_boost_round=rounds)


def archive(booster: xgb.Booster, tmp_path) -> bytes:
    """model.tar.gz as the algorithm writes it, built without the emulator's code."""
    model_file = tmp_path / "xgboost-model.ubj"  # the format the algorithm writes, named so XGBoost need not guess
    booster.save_model(str(model_file))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(model_file, arcname="xgboost-model")
    return buffer.getvalue()


def as_csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows)


def as_libsvm(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    dump_svmlight_file(rows, np.zeros(len(rows)), buffer, zero_based=True)
    return buffer.getvalue()


def wait_for_endpoint(sagemaker, name: str, timeout: float = 30) -> dict:
    def settled() -> dict | None:
        description = sagemaker.describe_endpoint(EndpointName=name)
        return description if description["EndpointStatus"] not in ("Creating", "Updating") else None

    return wait_until(settled, timeout=timeout, message=f"endpoint {name} to leave Creating and Updating")


class Stack:
    """Creates models, endpoint configs and endpoints against the emulator, as a deploy step would."""

    def __init__(self, bucket: str) -> None:
        self.s3 = boto3.client("s3")
        self.sagemaker = boto3.client("sagemaker")
        self.runtime = boto3.client("sagemaker-runtime")
        self.bucket = bucket

    def upload(self, content: bytes) -> str:
        key = f"models/{unique('model')}/model.tar.gz"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=content)
        return f"s3://{self.bucket}/{key}"

    def config(self, model_data_url: str, image: str = XGBOOST_IMAGE, serverless: bool = False,
               environment: dict[str, str] | None = None) -> str:
        model = unique("model")
        container = {"Image": image, "ModelDataUrl": model_data_url}
        if environment is not None:
            container["Environment"] = environment
        self.sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container)
        variant = {"VariantName": "AllTraffic", "ModelName": model}
        if serverless:
            variant["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        else:
            variant.update(InitialInstanceCount=1, InstanceType="ml.m5.large", InitialVariantWeight=1.0)
        config = unique("config")
        self.sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant])
        return config

    def endpoint(self, config: str) -> tuple[str, dict]:
        name = unique("endpoint")
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
        return name, wait_for_endpoint(self.sagemaker, name)

    def invoke(self, endpoint: str, body, content_type: str = "text/csv", **extra) -> tuple[bytes, dict]:
        response = self.runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType=content_type, **extra)
        return response["Body"].read(), response


@pytest.fixture(scope="module")
def served(emulator, tmp_path_factory):
    """One endpoint serving a known booster, shared by the module's read-only tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in emulator.client_env().items():
            patch.setenv(name, value)
        bucket = unique("vgsales-hosting-test")
        boto3.client("s3").create_bucket(Bucket=bucket)
        stack = Stack(bucket)
        booster = train(rounds=12, seed=1)
        url = stack.upload(archive(booster, tmp_path_factory.mktemp("model")))
        name, description = stack.endpoint(stack.config(url))
        assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    return {"bucket": bucket, "endpoint": name, "booster": booster, "url": url}


@pytest.fixture
def stack(aws_env, served):
    return Stack(served["bucket"])


def expected(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    return booster.predict(xgb.DMatrix(rows))


# --- real predictions ----------------------------------------------------------------------------------


def test_csv_predictions_equal_booster_predict(stack, served):
    body, response = stack.invoke(served["endpoint"], as_csv(ROWS[:50]))
    assert response["ContentType"].startswith("text/csv")
    assert response["InvokedProductionVariant"] == "AllTraffic"
    scores = as_scores(body)
    np.testing.assert_allclose(scores, expected(served["booster"], ROWS[:50]), rtol=1e-6)


@pytest.mark.parametrize("content_type", ["text/libsvm", "text/x-libsvm"])
def test_libsvm_predictions_equal_booster_predict(stack, served, content_type):
    body, _ = stack.invoke(served["endpoint"], as_libsvm(ROWS[:100]), content_type)
    np.testing.assert_allclose(as_scores(body), expected(served["booster"], ROWS[:100]), rtol=1e-6)


def test_sparse_libsvm_rows_treat_absent_features_as_missing(stack, served):
    body, _ = stack.invoke(served["endpoint"], b"1 0:0.5 3:-1.25\n0\n0 4:2", "text/x-libsvm")
    sparse = scipy.sparse.csr_matrix(([0.5, -1.25, 2.0], [0, 3, 4], [0, 2, 2, 3]), shape=(3, FEATURES))
    np.testing.assert_allclose(as_scores(body), expected(served["booster"], sparse), rtol=1e-6)


def test_json_accept_gives_the_containers_json(stack, served):
    body, response = stack.invoke(served["endpoint"], as_csv(ROWS[:3]), Accept="application/json")
    assert response["ContentType"] == "application/json"
    scores = [p["score"] for p in json.loads(body)["predictions"]]
    np.testing.assert_allclose(scores, expected(served["booster"], ROWS[:3]), rtol=1e-6)


@pytest.mark.parametrize(("image", "accept", "wanted"), [
    ("sagemaker-xgboost:1.0-1-cpu-py3", None, "comma"), ("sagemaker-xgboost:1.2-1", "application/json", "comma"),
    ("xgboost:latest", None, "comma"), ("xgboost:1", "application/json", "comma"),
    ("sagemaker-xgboost:1.2-2", None, "lines"), ("sagemaker-xgboost:1.7-1", "text/csv", "lines"),
    ("sagemaker-xgboost:3.0-5", "*/*", "lines"), ("sagemaker-xgboost:1.7-1", "application/json", "json"),
], ids=lambda value: str(value))
def test_each_image_tag_answers_in_its_own_format(stack, served, image, accept, wanted):
    """Up to 1.2-1 (and the legacy image) the container joins the scores with commas whatever the Accept; from
    1.2-2 on it writes text/csv with sagemaker-containers' array_to_csv, a line per score (serve.py)."""
    name, description = stack.endpoint(stack.config(served["url"], image=f"683313688378.dkr.ecr.us-east-1.amazonaws.com/{image}"))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    extra = {"Accept": accept} if accept else {}
    body, response = stack.invoke(name, as_csv(ROWS[:3]), **extra)
    want = expected(served["booster"], ROWS[:3])
    if wanted == "comma":
        assert response["ContentType"].startswith("text/csv") and b"\n" not in body
        np.testing.assert_allclose(np.array(body.decode().split(","), dtype=float), want, rtol=1e-6)
    elif wanted == "lines":
        assert response["ContentType"].startswith("text/csv")
        np.testing.assert_allclose(as_scores(body), want, rtol=1e-6)
    else:
        assert response["ContentType"] == "application/json"
        np.testing.assert_allclose([p["score"] for p in json.loads(body)["predictions"]], want, rtol=1e-6)


def test_the_models_default_accept_applies_when_the_request_names_none(stack, served):
    model = unique("model")
    stack.sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer={
        "Image": XGBOOST_IMAGE, "ModelDataUrl": served["url"],
        "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"}})
    config = unique("config")
    stack.sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    name, _ = stack.endpoint(config)
    body, response = stack.invoke(name, as_csv(ROWS[:2]))
    assert response["ContentType"] == "application/json" and len(json.loads(body)["predictions"]) == 2
    body, response = stack.invoke(name, as_csv(ROWS[:2]), Accept="text/csv")  # a named Accept still wins
    assert len(as_scores(body)) == 2


def test_concurrent_requests_share_the_model(stack, served):
    batches = [ROWS[i:i + 20] for i in range(0, 200, 20)]
    wanted = [expected(served["booster"], batch) for batch in batches]
    failures: list[Exception] = []

    def client(offset: int) -> None:
        runtime = boto3.client("sagemaker-runtime")
        try:
            for round_ in range(10):
                index = (offset + round_) % len(batches)
                body = runtime.invoke_endpoint(
                    EndpointName=served["endpoint"], Body=as_libsvm(batches[index]), ContentType="text/libsvm"
                )["Body"].read()
                np.testing.assert_allclose(as_scores(body), wanted[index], rtol=1e-6)
        except (AssertionError, ClientError) as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]


def test_a_serverless_variant_serves(stack, served):
    name, description = stack.endpoint(stack.config(served["url"], serverless=True))
    assert description["EndpointStatus"] == "InService"
    assert "CurrentServerlessConfig" in description["ProductionVariants"][0]
    body, _ = stack.invoke(name, as_csv(ROWS[:4]))
    np.testing.assert_allclose(as_scores(body), expected(served["booster"], ROWS[:4]), rtol=1e-6)


# --- errors as AWS gives them ----------------------------------------------------------------------------


BAD_REQUESTS = {
    "csv with too few features": ("1.0,2.0", "text/csv", None, 400),
    "csv with a label column too": (as_csv(np.column_stack([LABELS[:2], ROWS[:2]])), "text/csv", None, 400),
    "libsvm feature beyond the model": ("0 0:1.0 9:2.5", "text/libsvm", None, 400),
    "non-numeric csv": ("1,2,three,4,5", "text/csv", None, 415),
    "ragged csv": ("1,2,3,4,5\n1,2", "text/csv", None, 415),
    "malformed libsvm": ("0 1:2 x:y", "text/libsvm", None, 415),
    "garbage bytes": (bytes(range(128, 256)) * 4, "text/csv", None, 415),
    "unsupported content type": ('{"instances": [[1, 2, 3, 4, 5]]}', "application/json", None, 415),
    "empty body": (b"", "text/csv", None, 400),
    "unsupported accept": ("1,2,3,4,5", "text/csv", "text/plain", 406),
    # Listed by the container, but sagemaker-containers' encoders.encode cannot write them: UnsupportedFormatError.
    "an accept its encoder cannot write": ("1,2,3,4,5", "text/csv", "application/jsonlines", 500),
    "recordio-protobuf": ("1,2,3,4,5", "text/csv", "application/x-recordio-protobuf", 500),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_bad_request_is_a_model_error_and_the_endpoint_keeps_serving(stack, served, case):
    body, content_type, accept, original_status = BAD_REQUESTS[case]
    extra = {"Accept": accept} if accept else {}
    with pytest.raises(ClientError) as refused:
        stack.invoke(served["endpoint"], body, content_type, **extra)
    error = refused.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == original_status
    assert error["OriginalMessage"] in error["Error"]["Message"]
    kind = "server" if original_status >= 500 else "client"
    assert error["Error"]["Message"].startswith(f"Received {kind} error ({original_status}) from primary with message")
    assert error["LogStreamArn"].endswith(f"log-group:/aws/sagemaker/Endpoints/{served['endpoint']}")
    good, _ = stack.invoke(served["endpoint"], as_csv(ROWS[:1]))
    assert float(good) == pytest.approx(float(expected(served["booster"], ROWS[:1])[0]), rel=1e-6)


def test_endpoints_are_listed_newest_first_ten_at_a_time_by_default(stack, served):
    """ListEndpoints' documented defaults are CreationTime, Descending, and a page of 10 (listing.DEFAULTS): a
    client that takes the first endpoint listed as the newest, or reads one page. moto (5.x) listed them oldest
    first, 100 at a time. Eleven, created c, a, b, then d to k, so that no two orders agree."""
    config = stack.config(served["url"])
    stem = unique("listed")
    names = [f"{stem}-{letter}" for letter in "cabdefghijk"]
    try:
        for name in names:
            stack.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
        for name in names:
            wait_for_endpoint(stack.sagemaker, name)

        def listed(**request) -> list[str]:
            pages = stack.sagemaker.get_paginator("list_endpoints").paginate(NameContains=stem, **request)
            return [item["EndpointName"] for page in pages for item in page["Endpoints"]]

        first = stack.sagemaker.list_endpoints(NameContains=stem)
        assert [item["EndpointName"] for item in first["Endpoints"]] == names[::-1][:10] and first["NextToken"]
        assert listed() == names[::-1]
        assert listed(SortOrder="Ascending") == names
        assert listed(SortBy="Name") == sorted(names, reverse=True)
    finally:
        for name in names:
            try:
                stack.sagemaker.delete_endpoint(EndpointName=name)
            except ClientError:
                pass  # never created: the assertion above says why


def test_an_unknown_endpoint_is_a_validation_error(stack):
    with pytest.raises(ClientError) as refused:
        stack.invoke(unique("missing"), "1,2,3,4,5")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "not found" in refused.value.response["Error"]["Message"]


def test_a_body_of_exactly_the_limit_is_served(stack, served):
    """InvokeEndpoint's limit is 6 MiB inclusive: a body of exactly MAX_PAYLOAD_BYTES is answered (the test
    below refuses MAX + 1). Blank lines pad one row to the limit: the container skips them."""
    row = as_csv(ROWS[:1]) + "\n"
    body = row.encode() + b"\n" * (xgboost_serving.MAX_PAYLOAD_BYTES - len(row))
    assert len(body) == xgboost_serving.MAX_PAYLOAD_BYTES
    answer, _ = stack.invoke(served["endpoint"], body)
    assert float(answer) == pytest.approx(float(expected(served["booster"], ROWS[:1])[0]), rel=1e-6)


def test_an_oversize_body_is_refused_before_the_model(stack, served):
    too_big = b"1" * (xgboost_serving.MAX_PAYLOAD_BYTES + 1)
    with pytest.raises(ClientError) as refused:
        stack.invoke(served["endpoint"], too_big)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


# --- endpoint lifecycle ----------------------------------------------------------------------------------


def test_a_missing_artifact_fails_the_endpoint(stack):
    name, description = stack.endpoint(stack.config(f"s3://{stack.bucket}/nowhere/model.tar.gz"))
    assert description["EndpointStatus"] == "Failed"
    assert description["FailureReason"].startswith('Failed to download model data for container "container_1"')
    with pytest.raises(ClientError) as refused:
        stack.invoke(name, "1,2,3,4,5")
    assert refused.value.response["Error"]["Code"] == "ValidationError"


@pytest.mark.parametrize(
    "content",
    [os.urandom(2048), b"not a tarball at all", "garbage-in-a-tar"],
    ids=["random bytes", "text", "tar of a non-model"],
)
def test_a_corrupt_artifact_fails_the_endpoint(stack, content):
    if content == "garbage-in-a-tar":
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            member = tarfile.TarInfo("xgboost-model")
            member.size = 64
            tar.addfile(member, io.BytesIO(os.urandom(64)))
        content = buffer.getvalue()
    _, description = stack.endpoint(stack.config(stack.upload(content)))
    assert description["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check: Unable to load model" in description["FailureReason"]


def test_an_image_the_emulator_cannot_run_fails_the_endpoint(stack, served):
    _, description = stack.endpoint(stack.config(served["url"], image="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1"))
    assert description["EndpointStatus"] == "Failed"
    assert "cannot run the inference image" in description["FailureReason"]


def test_a_model_with_an_inference_script_is_served_by_the_script_never_by_the_algorithm(stack, served):
    """XGBoostModel(entry_point="inference.py") sets SAGEMAKER_PROGRAM: the container then answers with the script's
    output (tests/emulator/script_mode/test_serving.py), which the built-in algorithm must never replace with its
    own. Here the script's code is missing, so the endpoint fails instead of falling back to the algorithm."""
    environment = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/sourcedir.tar.gz"}
    _, description = stack.endpoint(stack.config(served["url"], environment=environment))
    assert description["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in description["FailureReason"]
    assert "SAGEMAKER_SUBMIT_DIRECTORY s3://b/sourcedir.tar.gz" in description["FailureReason"]


@pytest.mark.parametrize("environment", [
    {"SAGEMAKER_PROGRAM": ""},  # set but empty: the container's module_name is None
    {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/sourcedir.tar.gz", "SAGEMAKER_PROGRAM_NOTE": "x"},  # neighbours only
], ids=["empty", "neighbours"])
def test_a_model_without_a_script_is_served_by_the_algorithm(stack, served, environment):
    _, description = stack.endpoint(stack.config(served["url"], environment=environment))
    assert description["EndpointStatus"] == "InService", description.get("FailureReason")


def test_update_loads_the_new_model_and_a_failed_update_keeps_the_old(stack, served, tmp_path):
    name, _ = stack.endpoint(stack.config(served["url"]))
    other = train(rounds=3, seed=5)
    new_config = stack.config(stack.upload(archive(other, tmp_path)))

    stack.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=new_config)
    assert stack.sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] in ("Updating", "InService")
    description = wait_for_endpoint(stack.sagemaker, name)
    assert description["EndpointStatus"] == "InService" and description["EndpointConfigName"] == new_config
    body, _ = stack.invoke(name, as_csv(ROWS[:5]))
    np.testing.assert_allclose(as_scores(body), expected(other, ROWS[:5]), rtol=1e-6)

    broken_config = stack.config(stack.upload(b"corrupt"))
    stack.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=broken_config)
    description = wait_for_endpoint(stack.sagemaker, name)
    assert description["EndpointStatus"] == "InService"
    assert description["EndpointConfigName"] == new_config
    assert "Unable to load model" in description["FailureReason"]
    body, _ = stack.invoke(name, as_csv(ROWS[:5]))
    np.testing.assert_allclose(as_scores(body), expected(other, ROWS[:5]), rtol=1e-6)


def test_update_refuses_unknown_names(stack, served):
    with pytest.raises(ClientError) as unknown_endpoint:
        stack.sagemaker.update_endpoint(EndpointName=unique("missing"), EndpointConfigName=unique("c"))
    assert unknown_endpoint.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as unknown_config:
        stack.sagemaker.update_endpoint(EndpointName=served["endpoint"], EndpointConfigName=unique("missing"))
    assert "Could not find endpoint configuration" in unknown_config.value.response["Error"]["Message"]


def test_delete_unloads_the_model(stack, served):
    name, description = stack.endpoint(stack.config(served["url"]))
    stack.invoke(name, as_csv(ROWS[:1]))

    stack.sagemaker.delete_endpoint(EndpointName=name)
    account, region = description["EndpointArn"].split(":")[4], description["EndpointArn"].split(":")[3]
    assert description["EndpointArn"] not in sagemaker_models.sagemaker_backends[account][region].loaded
    with pytest.raises(ClientError) as refused:
        stack.invoke(name, as_csv(ROWS[:1]))
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_a_duplicate_endpoint_name_is_refused(stack, served):
    with pytest.raises(ClientError) as refused:
        stack.sagemaker.create_endpoint(EndpointName=served["endpoint"], EndpointConfigName=unique("any"))
    assert "Cannot create already existing endpoint" in refused.value.response["Error"]["Message"]


# --- the shortcut past moto's pipeline answers as moto's handler does ------------------------------------


RUNTIME_URL = "https://runtime.sagemaker.us-east-1.amazonaws.com"


def signed(path: str, body: bytes, content_type: str, access_key: str, secret: str) -> dict[str, str]:
    """Headers of a runtime request signed with the given key."""
    request = AWSRequest(
        method="POST", url=f"{RUNTIME_URL}{path}", data=body,
        headers={"Content-Type": content_type},
    )
    SigV4Auth(Credentials(access_key, secret), "sagemaker", "us-east-1").add_auth(request)
    return {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}


@pytest.mark.parametrize(
    ("endpoint", "body", "content_type"),
    [
        (None, as_libsvm(ROWS[:10]), "text/libsvm"),
        (None, as_csv(ROWS[:3]).encode(), "text/csv"),
        (None, b"1,2", "text/csv"),
        (None, b"", "text/csv"),
        ("missing-endpoint", b"1,2,3,4,5", "text/csv"),
    ],
    ids=["libsvm", "csv", "wrong feature count", "empty", "unknown endpoint"],
)
def test_serve_invocations_answers_as_the_moto_handler(emulator, served, endpoint, body, content_type):
    moto_app = DomainDispatcherApplication(create_backend_app)
    fast_app = hosting.serve_invocations(moto_app)
    path = f"/endpoints/{endpoint or served['endpoint']}/invocations"
    admin = emulator.credentials
    headers = signed(path, body, content_type, admin.access_key_id, admin.secret_access_key)
    through_moto = Client(moto_app).post(path, data=body, headers=headers, base_url=RUNTIME_URL)
    shortcut = Client(fast_app).post(path, data=body, headers=headers, base_url=RUNTIME_URL)

    assert shortcut.status_code == through_moto.status_code
    for header in ("Content-Type", "x-amzn-ErrorType", "x-Amzn-Invoked-Production-Variant"):
        assert shortcut.headers.get(header) == through_moto.headers.get(header), header
    assert shortcut.headers["x-amzn-RequestId"]
    assert shortcut.data == through_moto.data


@pytest.mark.parametrize("key", ["unknown key", "wrong secret", "role without InvokeEndpoint"])
def test_serve_invocations_refuses_as_the_moto_handler(emulator, served, aws_env, key):
    """The shortcut authenticates and authorises as moto's handler does with access.py (same refusal)."""
    moto_app = DomainDispatcherApplication(create_backend_app)
    fast_app = hosting.serve_invocations(moto_app)
    path = f"/endpoints/{served['endpoint']}/invocations"
    body = as_libsvm(ROWS[:2])
    admin = emulator.credentials
    if key == "role without InvokeEndpoint":
        iam = boto3.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName=unique("no-invoke"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        session = boto3.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="SageMaker")["Credentials"]
        credentials = Credentials(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    else:
        secret = admin.secret_access_key if key == "unknown key" else "y" * 40
        credentials = Credentials("AKIAZZZZZZZZZZZZZZZZ" if key == "unknown key" else admin.access_key_id, secret)
    request = AWSRequest(method="POST", url=f"{RUNTIME_URL}{path}", data=body, headers={"Content-Type": "text/libsvm"})
    SigV4Auth(credentials, "sagemaker", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    through_moto = Client(moto_app).post(path, data=body, headers=headers, base_url=RUNTIME_URL)
    shortcut = Client(fast_app).post(path, data=body, headers=headers, base_url=RUNTIME_URL)

    expected = {"unknown key": "InvalidClientTokenId", "wrong secret": "SignatureDoesNotMatch"}.get(key, "AccessDeniedException")
    assert json.loads(shortcut.data)["__type"] == expected
    assert (shortcut.status_code, shortcut.data) == (through_moto.status_code, through_moto.data)


def test_serve_invocations_leaves_other_requests_to_moto(emulator):
    seen = []

    def app(environ, start_response):
        seen.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return [b""]

    wrapped = hosting.serve_invocations(app)
    Client(wrapped).get("/endpoints/e/invocations")
    Client(wrapped).post("/", data=b"{}", headers=signed("/", b"{}", "application/x-amz-json-1.1", "AKIAZZZZZZZZZZZZZZZZ", "x"))
    Client(wrapped).post("/endpoints/e/invocations", data=b"x")  # unsigned
    assert seen == ["/endpoints/e/invocations", "/", "/endpoints/e/invocations"]


# --- the moto internals the patches rely on --------------------------------------------------------------


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_moto_endpoint_internals_are_as_subclassed():
    backend_class = sagemaker_models.SageMakerModelBackend
    assert _parameters(backend_class.create_endpoint) == ["self", "endpoint_name", "endpoint_config_name", "tags"]
    assert _parameters(backend_class.delete_endpoint) == ["self", "endpoint_name"]
    # hosting.HostingBackend.create_endpoint repeats moto's, with its own endpoint class.
    assert "endpoint = FakeEndpoint(" in inspect.getsource(backend_class.create_endpoint)
    backend = SageMakerBackend("us-east-1", "123456789012")
    assert backend.endpoints == {} and backend.endpoint_configs == {} and backend._models == {}
    endpoint = hosting.Endpoint(
        account_id="123456789012", region_name="us-east-1", endpoint_name="shape", endpoint_config_name="c",
        production_variants=[{"VariantName": "AllTraffic", "ServerlessConfig": {"MemorySizeInMB": 1024}}],
        data_capture_config={}, tags=[],
    )
    assert endpoint.endpoint_status == "Creating"
    for attribute in ("failure_reason", "endpoint_config_name", "production_variants", "last_modified_time", "arn"):
        assert hasattr(endpoint, attribute), attribute
    endpoint.failure_reason = "why"
    assert endpoint.response_object["FailureReason"] == "why"
    assert endpoint._process_production_variants([{"VariantName": "v", "InitialInstanceCount": 2}]) == [
        {"VariantName": "v", "CurrentInstanceCount": 2, "DesiredInstanceCount": 2}
    ]
    model = sagemaker_models.Model("123456789012", "us-east-1", "m", "role", {"Image": "i"}, {})
    assert model.primary_container == {"Image": "i"} and model.containers == []


def test_moto_runtime_response_gives_what_invoke_reads(emulator):
    from moto.sagemakerruntime import urls as runtime_urls

    assert issubclass(hosting.RuntimeService, runtime_responses.SageMakerRuntimeResponse)
    assert {handler.__self__ for handler in runtime_urls.url_paths.values()} == {hosting.RuntimeService}
    assert hosting.RuntimeService.use_raw_body is True
    setup = inspect.getsource(BaseResponse.setup_class)
    for needed in ("self.raw_body = self.body", "use_raw_body", "self.path = ", "self.headers"):
        assert needed in setup, needed
    # A plain (body, headers) answer takes its HTTP status from the "status" header.
    status, _, body = BaseResponse._transform_response({}, ("x", {"status": "424"}))
    assert status == 424 and body == "x"


def test_update_endpoint_is_dispatched_to_our_handler(emulator):
    assert "update_endpoint" in vars(SageMakerService) and "update_endpoint" in vars(hosting.HostingBackend)
    # moto lacks both, so nothing but the emulator's classes could answer it.
    assert not hasattr(sagemaker_responses.SageMakerResponse, "update_endpoint")
    assert not hasattr(sagemaker_models.SageMakerModelBackend, "update_endpoint")
    assert isinstance(sagemaker_models.sagemaker_backends["123456789012"]["us-east-1"], hosting.HostingBackend)


# --- CloudWatch metrics (emulator/metrics.py) ----------------------------------------------------------------


def endpoint_statistics(endpoint: str, metric: str) -> dict:
    """The metric's statistics over the last hour, summed over the per-minute points, as a dashboard reads them."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    points = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName=metric, StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1),
        Period=3600, Statistics=["Sum", "SampleCount", "Maximum"],
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
    )["Datapoints"]  # fmt: skip
    return {key: sum(point[key] for point in points) for key in ("Sum", "SampleCount")} | {
        "Maximum": max((point["Maximum"] for point in points), default=0.0)
    }


def test_each_invocation_is_counted_in_cloudwatch_with_its_latency_and_errors(stack, served, tmp_path):
    """Invocations, ModelLatency, OverheadLatency and the 4XX/5XX errors, per endpoint and variant, in AWS/SageMaker."""
    url = stack.upload(archive(served["booster"], tmp_path))
    name, _ = stack.endpoint(stack.config(url))
    for _ in range(3):
        stack.invoke(name, as_csv(ROWS[:5]))
    for body, accept in (("1.0,2.0", None), ("1,2,3,4,5", "application/x-recordio-protobuf")):  # a 400, a 500
        with pytest.raises(ClientError):
            stack.invoke(name, body, **({"Accept": accept} if accept else {}))
    assert endpoint_statistics(name, "Invocations")["Sum"] == 5
    assert endpoint_statistics(name, "Invocation4XXErrors")["Sum"] == 1
    assert endpoint_statistics(name, "Invocation5XXErrors")["Sum"] == 1
    latency = endpoint_statistics(name, "ModelLatency")
    assert latency["SampleCount"] == 5 and latency["Maximum"] > 0  # microseconds the model really took
    assert endpoint_statistics(name, "OverheadLatency")["SampleCount"] == 5
    points = [p for p in boto3.client("cloudwatch").list_metrics(Namespace="AWS/SageMaker")["Metrics"]
              if {"Name": "EndpointName", "Value": name} in p["Dimensions"]]  # fmt: skip
    assert sorted(p["MetricName"] for p in points) == sorted(
        ["Invocations", "ModelLatency", "OverheadLatency", "Invocation4XXErrors", "Invocation5XXErrors"]
    )


def test_a_minute_of_invocations_is_one_point_per_metric(stack, served, tmp_path):
    """Memory does not grow with the number of requests: each minute's invocations update one point per metric."""
    from moto.cloudwatch.models import cloudwatch_backends

    url = stack.upload(archive(served["booster"], tmp_path))
    name, _ = stack.endpoint(stack.config(url))
    for _ in range(20):
        stack.invoke(name, as_csv(ROWS[:1]))
    points = [datum for datum in cloudwatch_backends["123456789012"]["us-east-1"].metric_data
              if datum.namespace == "AWS/SageMaker" and any(d.value == name for d in datum.dimensions)]  # fmt: skip
    assert 5 <= len(points) <= 10, f"{len(points)} points for 20 requests (five metrics, in one minute or two)"
    assert sum(point.sample_count for point in points if point.name == "Invocations") == 20
