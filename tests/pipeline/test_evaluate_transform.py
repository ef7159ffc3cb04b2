"""`workshop.evaluate.via: transform`: the test split scored by a batch transform job, with no endpoint at all,
gives exactly what the endpoint gives."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from vgsales.context import Context
from vgsales.errors import Interrupted
from vgsales.infra import stack
from vgsales.pipeline import batch_transform, data, deploy, evaluate, train
from vgsales.records import DataRecord, StackRecord

from support.stacks import discard


@pytest.fixture(scope="module")
def ctx(terraform_available, make_settings, synthetic_dataset_path, tmp_path_factory):
    ctx = Context.of(make_settings(tmp_path_factory.mktemp("state"), data_source=str(synthetic_dataset_path),
                                   data_sha256="any", name_prefix="vgtransform",
                                   **{"terraform.create_notebook_instance": False,
                                      "training.hyperparameters.num_round": 20}))
    try:
        stack.setup(ctx)
        data.run(ctx)
        train.run(ctx)
        yield ctx
    finally:
        discard(ctx)


def via_transform(ctx) -> Context:
    """The same stack and records, with `workshop.evaluate.via: transform`."""
    return Context.of(replace(ctx.settings, evaluate=replace(ctx.settings.evaluate, via="transform")))


def test_transform_scores_without_an_endpoint_and_matches_the_endpoint(ctx):
    sagemaker = ctx.aws.client("sagemaker")
    earlier = {job["TransformJobName"] for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]}
    by_transform = evaluate.run(via_transform(ctx))
    transform_metrics = json.loads(open(by_transform.metrics_json).read())
    bucket = ctx.state.read(StackRecord).bucket_name
    assert sagemaker.list_endpoints()["Endpoints"] == [], "no endpoint was needed"
    # This evaluation's job: one, and completed (an interrupted one of another test may be listed too).
    jobs = [job for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]
            if job["TransformJobName"] not in earlier]
    keys = [o["Key"] for o in ctx.aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert [job["TransformJobStatus"] for job in jobs] == ["Completed"]
    assert jobs[0]["TransformJobName"] in open(by_transform.report_md).read()
    assert any(key.endswith("/input/test.libsvm") for key in keys), "the test split is uploaded when evaluate runs"

    deploy.run(ctx)
    by_endpoint = json.loads(open(evaluate.run(ctx).metrics_json).read())
    assert transform_metrics["confusion_matrix"] == by_endpoint["confusion_matrix"]
    assert transform_metrics["roc_auc"] == by_endpoint["roc_auc"]
    assert transform_metrics["n"] == by_endpoint["n"] == ctx.state.read(DataRecord).counts["test"]["rows"]


def test_ctrl_c_while_the_transform_job_runs_is_an_interrupt(ctx, monkeypatch):
    """Exit 130 like every interrupted task: the command line maps Interrupted to it, so evaluate raises that."""
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_transform.TransformJob, "wait", interrupted)
    with pytest.raises(Interrupted, match=r"^Interrupted: transform job vgtransform-transform-\S+ "):
        evaluate.run(via_transform(ctx))
