"""Faults of the pipeline's stages on the shared local stack, injected in-process, each followed by the recovery
a user would run; after each, the emulator must hold exactly what the stack should.

Each test starts from whatever state the other tests left the shared stack in (with or without an endpoint,
trained once or many times), brings it to the starting point its fault needs, and leaves it recovered: after a
deploy, the one endpoint, config and model that the endpoint record names and no other; after a training, what
the stack held before. A fault breaks something a record names (the uploaded split, a model's artifact); if the
test fails before its recovery, that record is forgotten, so that the next test builds it again instead of
tripping over the fault.
"""

from __future__ import annotations

import contextlib
import json
import re
from urllib.parse import urlsplit

import pytest

from vgsales.errors import WorkshopError
from vgsales.pipeline import data, deploy, evaluate, train
from vgsales.records import DataRecord, EndpointRecord, TrainingRecord

NOT_LIBSVM = b"this is not libsvm\n\x00\x01\x02 neither is this\n"
NOT_A_TARBALL = b"a model.tar.gz that is not a tar archive at all"


def _overwrite(shared_stack, uri: str, body: bytes) -> None:
    parts = urlsplit(uri)
    with shared_stack.aws() as aws:
        aws.s3.put_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"), Body=body)


def _pipeline_resources(shared_stack, harness) -> dict[str, list[str]]:
    found = shared_stack.inventory()
    return {
        kind: harness.of_kind(found, kind) for kind in ("model", "endpoint-config", "endpoint", "running-training-job")
    }


def _endpoint(shared_stack) -> dict:
    with shared_stack.aws() as aws:
        return aws.sagemaker.describe_endpoint(EndpointName=deploy.endpoint_name(shared_stack.settings))


def _predict(shared_stack, rows: list[str]) -> list[float]:
    with shared_stack.aws() as aws:
        response = aws.runtime.invoke_endpoint(
            EndpointName=deploy.endpoint_name(shared_stack.settings),
            ContentType="text/x-libsvm",
            Body="\n".join(rows).encode(),
        )
    return [float(score) for score in response["Body"].read().decode().splitlines()]  # 3.2-0: a line per score


def _record_text(shared_stack, kind) -> str | None:
    path = shared_stack.state().path(kind)
    return path.read_text() if path.is_file() else None


@contextlib.contextmanager
def _forgotten_if_it_fails(shared_stack, *records):
    """The records that a fault leaves naming something broken until its recovery replaces them."""
    try:
        yield
    except BaseException:
        shared_stack.state().forget(*records)
        raise


def test_a_training_job_that_fails(shared_stack, trust_doc):
    shared_stack.ready()
    ctx = shared_stack.context()
    data.run(ctx)
    # Training touches no endpoint: after the recovery the stack must hold what it held before, and nothing more
    # (an endpoint serving an earlier model stays, and `invoke deploy` would update it).
    before = shared_stack.pipeline_resources()
    with _forgotten_if_it_fails(shared_stack, DataRecord):
        _overwrite(shared_stack, shared_stack.state().read(DataRecord).train_uri + "train.libsvm", NOT_LIBSVM)
        trained_before = _record_text(shared_stack, TrainingRecord)
        with pytest.raises(WorkshopError) as failed:
            train.run(ctx)
        message = str(failed.value)
        assert re.search(r"Training job vgsales-xgb-[0-9a-f-]+ ended Failed: ClientError: .*libsvm", message), message
        assert "Fix the cause and run `invoke train` again. The last log lines were:" in message
        assert _record_text(shared_stack, TrainingRecord) == trained_before, "a failed job must not be recorded"
        assert shared_stack.running_training_jobs() == []

        # `invoke train` again: its `data` pre-task uploads the split again.
        data.run(ctx)
    record = train.run(ctx)
    assert record.final_metrics["validation:auc"] > 0.8
    trust_doc.fault("train-fails", stray=sorted(set(shared_stack.pipeline_resources()) - set(before)))


def test_an_endpoint_that_fails_to_come_up(shared_stack, harness, trust_doc):
    shared_stack.ensure("training")
    shared_stack.remove_endpoint()
    ctx = shared_stack.context()
    assert _pipeline_resources(shared_stack, harness)["endpoint"] == [], "this fault needs a stack without an endpoint"
    with _forgotten_if_it_fails(shared_stack, TrainingRecord, EndpointRecord):
        _overwrite(shared_stack, shared_stack.state().read(TrainingRecord).model_data_url, NOT_A_TARBALL)
        with pytest.raises(WorkshopError) as failed:
            deploy.run(ctx)
        message = str(failed.value)
        assert "Endpoint vgsales-endpoint failed to come up: " in message
        assert "is not a valid model.tar.gz" in message and "run `invoke deploy` again" in message, message
        assert _endpoint(shared_stack)["EndpointStatus"] == "Failed"

        # Recovery: a new model, then deploy again, which replaces the failed endpoint.
        train.run(ctx)
    deploy.run(ctx)
    assert _endpoint(shared_stack)["EndpointStatus"] == "InService"
    libsvm, _ = shared_stack.test_rows(3)
    assert all(0.0 <= score <= 1.0 for score in _predict(shared_stack, libsvm))
    trust_doc.fault("endpoint-fails", stray=shared_stack.serving_exactly())


def test_deploy_twice_changes_nothing(shared_stack, trust_doc):
    shared_stack.ensure("training")
    first = deploy.run(shared_stack.context())  # the stack's endpoint may serve an older training until now
    before, resources_before = _endpoint(shared_stack), shared_stack.inventory()
    record = deploy.run(shared_stack.context())
    after = _endpoint(shared_stack)
    assert after["EndpointConfigName"] == before["EndpointConfigName"] == record.endpoint_config_name
    assert record == first
    assert after["LastModifiedTime"] == before["LastModifiedTime"], "the endpoint must not be updated"
    assert shared_stack.inventory() == resources_before
    trust_doc.fault("deploy-twice", stray=shared_stack.serving_exactly())


def test_an_update_to_a_model_that_cannot_load_rolls_back(shared_stack, harness, trust_doc):
    shared_stack.ensure("endpoint")
    assert shared_stack.serving_exactly() == [], "this fault starts from a stack that serves one model"
    ctx = shared_stack.context()
    serving = shared_stack.state().read(EndpointRecord)
    libsvm, _ = shared_stack.test_rows(5)
    scores = _predict(shared_stack, libsvm)
    with _forgotten_if_it_fails(shared_stack, TrainingRecord):
        training = train.run(ctx)
        _overwrite(shared_stack, training.model_data_url, NOT_A_TARBALL)
        with pytest.raises(WorkshopError) as failed:
            deploy.run(ctx)
        message = str(failed.value)
        assert "failed: " in message and "is not a valid model.tar.gz" in message, message
        assert f"still serves its previous configuration {serving.endpoint_config_name}" in message
        endpoint = _endpoint(shared_stack)
        assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == (
            "InService",
            serving.endpoint_config_name,
        )
        assert _predict(shared_stack, libsvm) == scores, "the endpoint keeps serving the previous model"
        resources = _pipeline_resources(shared_stack, harness)
        assert resources["model"] == [serving.model_name] and resources["endpoint-config"] == [
            serving.endpoint_config_name
        ]

        # Recovery: `invoke train deploy`.
        train.run(ctx)
    record = deploy.run(ctx)
    assert record.endpoint_config_name != serving.endpoint_config_name
    assert _endpoint(shared_stack)["EndpointConfigName"] == record.endpoint_config_name
    trust_doc.fault("update-fails", stray=shared_stack.serving_exactly())


def test_the_shared_stack_runs_the_whole_workshop(shared_stack):
    """Whatever faults the other tests injected and recovered from before, the stack runs the workshop to the end
    with the workshop's numbers, and holds exactly what its records say."""
    shared_stack.ensure("endpoint")
    record = evaluate.run(shared_stack.context())
    metrics = json.loads((shared_stack.state().evaluation_dir / "metrics.json").read_text())
    assert metrics["n"] == 803 and metrics["accuracy"] >= 0.86, metrics
    assert record.run_dir == str(shared_stack.state().evaluation_dir)
    assert shared_stack.serving_exactly() == []
