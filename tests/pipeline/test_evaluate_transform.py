"""`workshop.evaluate.via: transform`: the test split scored by a batch transform job, with no endpoint at all,
gives exactly what the endpoint gives."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest

from vgsales import target
from vgsales.errors import Interrupted
from vgsales.infra import stack
from vgsales.pipeline import batch_transform, data, deploy, evaluate, train
from vgsales.records import DataRecord, StackRecord
from vgsales.state import RunState


@pytest.fixture(scope="module")
def settings(terraform_available, make_settings, synthetic_dataset_path, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("state"), data_source=str(synthetic_dataset_path),
                             data_sha256="any", name_prefix="vgtransform",
                             **{"terraform.create_notebook_instance": False, "training.hyperparameters.num_round": 20})
    try:
        stack.setup(settings)
        data.run(settings)
        train.run(settings)
        yield settings
    finally:
        stack.teardown(settings)


def test_transform_scores_without_an_endpoint_and_matches_the_endpoint(settings):
    via_transform = replace(settings, evaluate=replace(settings.evaluate, via="transform"))
    by_transform = evaluate.run(via_transform)
    transform_metrics = json.loads(open(by_transform.metrics_json).read())
    bucket = RunState(settings).read(StackRecord).bucket_name
    with target.activate(settings):
        sagemaker = boto3.client("sagemaker")
        assert sagemaker.list_endpoints()["Endpoints"] == [], "no endpoint was needed"
        jobs = sagemaker.list_transform_jobs()["TransformJobSummaries"]
        keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert [job["TransformJobStatus"] for job in jobs] == ["Completed"]
    assert jobs[0]["TransformJobName"] in open(by_transform.report_md).read()
    assert any(key.endswith("/input/test.libsvm") for key in keys), "the test split is uploaded when evaluate runs"

    deploy.run(settings)
    by_endpoint = json.loads(open(evaluate.run(settings).metrics_json).read())
    assert transform_metrics["confusion_matrix"] == by_endpoint["confusion_matrix"]
    assert transform_metrics["roc_auc"] == by_endpoint["roc_auc"]
    assert transform_metrics["n"] == by_endpoint["n"] == RunState(settings).read(DataRecord).counts["test"]["rows"]


def test_ctrl_c_while_the_transform_job_runs_is_an_interrupt(settings, monkeypatch):
    """Exit 130 like every interrupted task: the command line maps Interrupted to it, so evaluate raises that."""
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_transform.TransformJob, "wait", interrupted)
    via_transform = replace(settings, evaluate=replace(settings.evaluate, via="transform"))
    with pytest.raises(Interrupted, match=r"^Interrupted: transform job vgtransform-transform-\S+ "):
        evaluate.run(via_transform)
