"""What each console page shows, read through the AWS APIs with the invocation's context.

The stack's resources are the ones carrying its tag (discovery.is_ours), as for `status` and `teardown`: lists are
read a page at a time (PAGE_SIZE per request, newest first, SageMaker's NextToken carried in the page's link) and
only the stack's rows are shown (see ``listing``), so a page stays quick with hundreds of jobs in the account. The
evaluation is the one thing read from this machine: `invoke evaluate` writes it here, not to AWS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .. import discovery
from ..context import Context
from ..errors import WorkshopError
from ..evaluation.metrics import Metrics
from ..infra import stack as infra_stack
from ..pipeline.job_logs import (
    CLOUDWATCH_TAB, TRAINING_LOG_GROUP, TRANSFORM_LOG_GROUP, LogFollower, container_line, host_of,
)
from ..features import Manifest
from ..pipeline import deploy
from ..records import DataRecord, EvaluationRecord, StackRecord

PAGE_SIZE = 50
MAX_PAGES = 10  # SageMaker pages read for one console page at most
TAG_READERS = 8
S3_PAGE_SIZE = 100
# A round line of the algorithm's log, as CloudWatch shows it: "[3]#011train-auc:0.875#011validation-auc:0.852".
ROUND_LINE = re.compile(r"^\[(\d+)\]" + CLOUDWATCH_TAB + r"(.*)$")
ENDPOINT_METRICS = (  # AWS/SageMaker's per-variant metrics, as the endpoint's page charts them
    ("Invocations", "Sum"),
    ("ModelLatency", "Average"),
    ("Invocation4XXErrors", "Sum"),
    ("Invocation5XXErrors", "Sum"),
)
METRICS_HOURS = 3


class NotFound(Exception):
    """The page's resource does not exist, or is not the stack's."""


@dataclass(frozen=True)
class Listing:
    """One page of a list: the stack's rows of it, and the token of the next page (None on the last)."""

    rows: list[dict[str, Any]]
    next_token: str | None


@dataclass(frozen=True)
class Kind:
    """How SageMaker lists one kind of resource."""

    method: str
    key: str  # the list in the answer
    arn: str  # each summary's ARN field
    name: str
    sort_by: str = "CreationTime"
    extra: dict[str, Any] = field(default_factory=dict)


KINDS = {
    "training-jobs": Kind("list_training_jobs", "TrainingJobSummaries", "TrainingJobArn", "TrainingJobName"),
    "tuning-jobs": Kind("list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries",
                        "HyperParameterTuningJobArn", "HyperParameterTuningJobName"),
    "transform-jobs": Kind("list_transform_jobs", "TransformJobSummaries", "TransformJobArn", "TransformJobName"),
    "models": Kind("list_models", "Models", "ModelArn", "ModelName"),
    "endpoint-configs": Kind("list_endpoint_configs", "EndpointConfigs", "EndpointConfigArn", "EndpointConfigName"),
    "endpoints": Kind("list_endpoints", "Endpoints", "EndpointArn", "EndpointName"),
}  # fmt: skip


def stack_record(ctx: Context) -> StackRecord:
    if not ctx.state.has(StackRecord):
        raise WorkshopError(f"There is no stack to show on the {ctx.target.name} target: run `invoke setup` first.")
    return ctx.state.read(StackRecord)


def listing(ctx: Context, kind: str, token: str | None = None) -> Listing:
    """One page of a kind's list, newest first, with the stack's rows only: SageMaker's pages are read until they
    hold PAGE_SIZE of the stack's rows, the list ends, or MAX_PAGES were read (a neighbour's hundreds of jobs cost
    a bounded wait, and the next link goes on from there)."""
    spec = KINDS[kind]
    sagemaker = ctx.aws.client("sagemaker")
    rows: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        # Never more than the page still needs: the next link goes on after the last row read.
        request: dict[str, Any] = {"MaxResults": PAGE_SIZE - len(rows), "SortBy": spec.sort_by, "SortOrder": "Descending"}
        if token:
            request["NextToken"] = token
        answer = getattr(sagemaker, spec.method)(**request)
        summaries = answer[spec.key]
        with ThreadPoolExecutor(TAG_READERS) as readers:  # one ListTags a row: read them side by side
            ours = list(readers.map(lambda summary: _is_ours(ctx, summary[spec.arn]), summaries))
        rows += [{**summary, "Name": summary[spec.name], "Duration": _duration(summary)}
                 for summary, mine in zip(summaries, ours) if mine]  # fmt: skip
        token = answer.get("NextToken")
        if not token or len(rows) >= PAGE_SIZE:
            break
    return Listing(rows, token)


def _is_ours(ctx: Context, arn: str) -> bool:
    try:
        tags = ctx.aws.client("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    except ClientError as exc:
        if discovery.is_gone(exc):
            return False  # gone since the list was read
        raise  # throttled or denied: a page that silently left rows out would say something untrue
    return discovery.is_ours(tags, ctx.settings)


# Each job summary's status field and end time; a job that ended without one ended at its last change.
_JOB_TIMES = {
    "TrainingJobStatus": "TrainingEndTime",
    "TransformJobStatus": "TransformEndTime",
    "HyperParameterTuningJobStatus": "HyperParameterTuningEndTime",
}
_ENDED = frozenset({"Completed", "Failed", "Stopped"})


def _duration(summary: dict[str, Any]) -> timedelta | None:
    """How long a job ran, or has run so far; None for what is not a job."""
    for status, end in _JOB_TIMES.items():
        if status in summary:
            ended = summary.get(end) or (summary.get("LastModifiedTime") if summary[status] in _ENDED else None)
            return (ended or datetime.now(timezone.utc)) - summary["CreationTime"]
    return None


def _described(ctx: Context, method: str, arn_field: str, **request: str) -> dict[str, Any]:
    """A resource's description, if it is the stack's; NotFound otherwise (a neighbour's page is not shown)."""
    try:
        described = getattr(ctx.aws.client("sagemaker"), method)(**request)
    except ClientError as exc:
        if discovery.is_gone(exc):
            raise NotFound(str(exc)) from None
        raise
    if not _is_ours(ctx, described[arn_field]):
        raise NotFound(f"{next(iter(request.values()))} is not a resource of the stack {ctx.settings.name_prefix}")
    return described


# --- training jobs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobLog:
    lines: list[str]  # as the terminal shows them (tabs as tabs), the host first when there are several
    rounds: dict[str, list[tuple[int, float]]]  # metric -> (round, value), from the first host's round lines


def training_job(ctx: Context, name: str) -> dict[str, Any]:
    return _described(ctx, "describe_training_job", "TrainingJobArn", TrainingJobName=name)


def job_log(ctx: Context, name: str, group: str = TRAINING_LOG_GROUP) -> JobLog:
    """The job's whole log (every host's streams, oldest first), and the per-round metrics its round lines carry."""
    events = LogFollower(ctx.aws.client("logs"), group, name).new_events()
    hosts = sorted({host_of(stream) for stream, _ in events})
    lines = [container_line(stream, message, len(hosts)) for stream, message in events]
    rounds: dict[str, list[tuple[int, float]]] = {}
    for stream, message in events:
        if hosts and host_of(stream) != hosts[0]:
            continue  # every host logs the same rounds
        for metric, value in round_metrics(message):
            rounds.setdefault(metric, []).append(value)
    return JobLog(lines, rounds)


def round_metrics(message: str) -> Iterator[tuple[str, tuple[int, float]]]:
    """(metric, (round, value)) of each metric on a round line; nothing for any other line."""
    found = ROUND_LINE.match(message)
    if not found:
        return
    number = int(found.group(1))
    for pair in found.group(2).split(CLOUDWATCH_TAB):
        metric, _, value = pair.partition(":")
        try:
            parsed = float(value)
        except ValueError:
            continue
        if math.isfinite(parsed):  # XGBoost logs nan or inf for a metric it cannot compute: no point to draw
            yield metric.strip(), (number, parsed)


def transform_log(ctx: Context, name: str) -> JobLog:
    return job_log(ctx, name, TRANSFORM_LOG_GROUP)


# --- tuning jobs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tuning:
    described: dict[str, Any]
    leaderboard: list[dict[str, Any]]  # best first
    objective: str
    over_time: list[tuple[int, float]]  # (order of completion, objective value)


def tuning_job(ctx: Context, name: str) -> Tuning:
    described = _described(ctx, "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobArn",
                           HyperParameterTuningJobName=name)  # fmt: skip
    sagemaker = ctx.aws.client("sagemaker")
    jobs: list[dict[str, Any]] = []
    for page in sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name
    ):
        jobs.extend(page["TrainingJobSummaries"])
    spec = described["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    maximize = spec["Type"] == "Maximize"
    scored = [job for job in jobs if job.get("FinalHyperParameterTuningJobObjectiveMetric")]
    leaderboard = sorted(scored, key=lambda job: job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
                         reverse=maximize)  # fmt: skip
    leaderboard += [job for job in jobs if job not in scored]
    finished = sorted(scored, key=lambda job: job.get("TrainingEndTime") or job["CreationTime"])
    over_time = [(index + 1, job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]) for index, job in enumerate(finished)]
    return Tuning(described, leaderboard, f"{spec['Type']} {spec['MetricName']}", over_time)


# --- transform jobs, models, endpoint configurations, endpoints ---------------------------------------------------


def transform_job(ctx: Context, name: str) -> dict[str, Any]:
    return _described(ctx, "describe_transform_job", "TransformJobArn", TransformJobName=name)


def model(ctx: Context, name: str) -> dict[str, Any]:
    return _described(ctx, "describe_model", "ModelArn", ModelName=name)


def endpoint_config(ctx: Context, name: str) -> dict[str, Any]:
    return _described(ctx, "describe_endpoint_config", "EndpointConfigArn", EndpointConfigName=name)


def endpoint(ctx: Context, name: str) -> dict[str, Any]:
    return _described(ctx, "describe_endpoint", "EndpointArn", EndpointName=name)


def endpoint_metrics(ctx: Context, described: dict[str, Any]) -> dict[str, list[tuple[datetime, float]]]:
    """Each of ENDPOINT_METRICS for the endpoint's first variant over the last METRICS_HOURS, by minute."""
    variants = described.get("ProductionVariants") or [{}]
    dimensions = [{"Name": "EndpointName", "Value": described["EndpointName"]},
                  {"Name": "VariantName", "Value": variants[0].get("VariantName", "AllTraffic")}]  # fmt: skip
    cloudwatch = ctx.aws.client("cloudwatch")
    end = datetime.now(timezone.utc)
    series = {}
    for metric, statistic in ENDPOINT_METRICS:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, Dimensions=dimensions, StartTime=end - timedelta(hours=METRICS_HOURS),
            EndTime=end, Period=60, Statistics=[statistic],
        )["Datapoints"]  # fmt: skip
        series[metric] = sorted((point["Timestamp"], float(point[statistic])) for point in points)
    return series


def sample_rows(ctx: Context) -> dict[str, str]:
    """The first row of the test split, by content type, as `invoke deploy`'s sample command sends it (libsvm) and
    as CSV; nothing before `invoke data`."""
    if not ctx.state.has(DataRecord):
        return {}
    data = ctx.state.read(DataRecord)
    row = deploy.sample_row(Path(data.test_split))
    return {"text/x-libsvm": row, "text/csv": deploy.csv_row(row, Manifest.from_json(Path(data.manifest)).n_features)}


def invoke(ctx: Context, name: str, content_type: str, body: str) -> str:
    """The endpoint's answer to one request, as text."""
    endpoint(ctx, name)  # the stack's own endpoints only
    answer = ctx.aws.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, ContentType=content_type,
                                                                  Body=body.encode("utf-8"))  # fmt: skip
    return answer["Body"].read().decode("utf-8", "replace")


# --- the stack ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: list[str]
    resources: list[str]
    condition: str  # JSON, empty when there is none


@dataclass(frozen=True)
class StackView:
    record: StackRecord
    bucket: dict[str, Any]
    role: dict[str, Any]
    policies: dict[str, list[Statement]]  # policy name (inline) or ARN (attached) -> its statements
    notebook: dict[str, Any] | None
    costing: list[discovery.Resource]  # what bills now (empty on a target that costs nothing)


def stack_view(ctx: Context) -> StackView:
    record = stack_record(ctx)
    s3, iam = ctx.aws.client("s3"), ctx.aws.client("iam")
    bucket: dict[str, Any] = {"name": record.bucket_name}
    try:
        rules = s3.get_bucket_encryption(Bucket=record.bucket_name)["ServerSideEncryptionConfiguration"]["Rules"]
        bucket["encryption"] = ", ".join(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules)
    except ClientError:
        bucket["encryption"] = None
    try:
        block = s3.get_public_access_block(Bucket=record.bucket_name)["PublicAccessBlockConfiguration"]
        bucket["public_access_blocked"] = all(block.values())
    except ClientError:
        bucket["public_access_blocked"] = False
    bucket["versioning"] = s3.get_bucket_versioning(Bucket=record.bucket_name).get("Status", "Disabled")
    role_name = record.role_name or record.role_arn.rsplit("/", 1)[1]
    role = iam.get_role(RoleName=role_name)["Role"]
    policies: dict[str, list[Statement]] = {}
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        policies[policy_name] = statements(document)
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
        policies[attached["PolicyArn"]] = statements(document)
    notebook = None
    if record.notebook_instance_name:
        try:
            notebook = ctx.aws.client("sagemaker").describe_notebook_instance(
                NotebookInstanceName=record.notebook_instance_name)
        except ClientError:
            notebook = None
    costing = [item for item in discovery.find(ctx) if item.costs_money] if ctx.target.costs_money else []
    return StackView(record, bucket, role, policies, notebook, costing)


def statements(document: str | dict[str, Any]) -> list[Statement]:
    """A policy's statements, readable: each field a list, whichever form the document gives it in."""
    if isinstance(document, str):
        document = json.loads(document)
    found = document.get("Statement", [])
    if isinstance(found, dict):
        found = [found]
    return [
        Statement(
            effect=item.get("Effect", ""),
            actions=_as_list(item.get("Action") or item.get("NotAction")),
            resources=_as_list(item.get("Resource") or item.get("NotResource")),
            condition=json.dumps(item["Condition"], indent=1, sort_keys=True) if item.get("Condition") else "",
        )
        for item in found
    ]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- S3 ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    bucket: str
    prefix: str
    folders: list[str]
    objects: list[dict[str, Any]]
    next_token: str | None


def folder(ctx: Context, prefix: str = "", token: str | None = None) -> Folder:
    """One page of the stack's bucket under ``prefix``: its subfolders and objects."""
    bucket = stack_record(ctx).bucket_name
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": S3_PAGE_SIZE}
    if token:
        request["ContinuationToken"] = token
    answer = ctx.aws.client("s3").list_objects_v2(**request)
    return Folder(
        bucket, prefix,
        [item["Prefix"] for item in answer.get("CommonPrefixes", [])],
        [item for item in answer.get("Contents", []) if item["Key"] != prefix],
        answer.get("NextContinuationToken"),
    )  # fmt: skip


def download(ctx: Context, key: str) -> dict[str, Any]:
    """The object's GetObject answer (its Body streams), from the stack's bucket only."""
    try:
        return ctx.aws.client("s3").get_object(Bucket=stack_record(ctx).bucket_name, Key=key)
    except ClientError as exc:
        raise NotFound(str(exc)) from None


# --- the evaluation and the clean-up -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    metrics: Metrics
    report: str
    images: dict[str, Path]  # "confusion-matrix", "roc-curve"


def evaluation(ctx: Context) -> Evaluation | None:
    """The latest `invoke evaluate` on this machine, or None before the first."""
    if not ctx.state.has(EvaluationRecord):
        return None
    record = ctx.state.read(EvaluationRecord)
    return Evaluation(
        Metrics.from_json(Path(record.metrics_json)),
        Path(record.report_md).read_text(encoding="utf-8"),
        {"confusion-matrix": Path(record.confusion_matrix_png), "roc-curve": Path(record.roc_curve_png)},
    )


def cleanup(ctx: Context) -> infra_stack.TeardownPlan:
    return infra_stack.teardown_plan(ctx)
