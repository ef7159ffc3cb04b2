"""Tuning jobs on the emulator run a real search: every training job they report is one it ran (boto3)."""

from __future__ import annotations

import copy
import io
import tarfile
import uuid

import boto3
import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from sklearn.datasets import dump_svmlight_file, make_classification
from sklearn.metrics import roc_auc_score

from vgsales.emulator import tuning_request
from vgsales.algorithm.tuning import ParameterRange
from vgsales.emulator.tuning_search import Search

from support.wait import wait_until

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
ROLE_ARN = "arn:aws:iam::123456789012:role/vgsales-test-sagemaker"
STATIC = {"num_round": "12", "objective": "binary:logistic", "eval_metric": "logloss", "seed": "7"}
RANGES = {
    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "6"}],
    "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}],
}
FEATURES, LABELS = make_classification(n_samples=600, n_features=6, n_informative=4, random_state=5)
TRAIN, VALIDATION = slice(0, 450), slice(450, 600)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # tuning job names: at most 32 characters


def libsvm(rows: slice) -> bytes:
    buffer = io.BytesIO()
    dump_svmlight_file(FEATURES[rows], LABELS[rows], buffer, zero_based=True)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bucket(make_bucket):
    return make_bucket("vgsales-tuning-test", {"train/data.libsvm": libsvm(TRAIN), "validation/data.libsvm": libsvm(VALIDATION)})


@pytest.fixture
def sagemaker(aws_env):
    return boto3.client("sagemaker")


def channel(bucket: str, name: str) -> dict:
    return {
        "ChannelName": name,
        "ContentType": "text/libsvm",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}/",
                                        "S3DataDistributionType": "FullyReplicated"}},
    }


def request(bucket: str, *, strategy="Random", jobs=4, parallel=2, ranges=None, static=None, metric="validation:auc",
            kind="Maximize", **config) -> dict:
    limits = {"MaxParallelTrainingJobs": parallel}
    if jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = jobs
    return {
        "HyperParameterTuningJobName": unique("tune"),
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": kind, "MetricName": metric},
            "ResourceLimits": limits,
            "ParameterRanges": copy.deepcopy(RANGES if ranges is None else ranges),
            **config,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": dict(STATIC if static is None else static),
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE_ARN,
            "InputDataConfig": [channel(bucket, "train"), channel(bucket, "validation")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
        "Tags": [{"Key": "vgsales:stack", "Value": "vgsales-test"}],
    }


def wait(sagemaker, name: str, timeout: float = 120) -> dict:
    def ended() -> dict | None:
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        return described if described["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped") else None

    return wait_until(ended, timeout=timeout, message=f"tuning job {name} to end")


def children(sagemaker, name: str, **kwargs) -> list[dict]:
    found, token = [], None
    while True:
        page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, **kwargs, **({"NextToken": token} if token else {})
        )
        found += page["TrainingJobSummaries"]
        token = page.get("NextToken")
        if not token:
            return found


def run(sagemaker, bucket, **kwargs) -> tuple[dict, dict]:
    body = request(bucket, **kwargs)
    sagemaker.create_hyper_parameter_tuning_job(**body)
    return body, wait(sagemaker, body["HyperParameterTuningJobName"])


def validation_auc_in_process(hyperparameters: dict[str, str]) -> float:
    """What xgboost.train gives for the same hyperparameters and data, outside the emulator."""
    params = {k: v for k, v in hyperparameters.items() if k not in ("num_round", "_tuning_objective_metric", "eval_metric")}
    booster = xgb.train(params, xgb.DMatrix(FEATURES[TRAIN], label=LABELS[TRAIN]),
                        num_boost_round=int(hyperparameters["num_round"]))
    return roc_auc_score(LABELS[VALIDATION], booster.predict(xgb.DMatrix(FEATURES[VALIDATION])))


# --- executed for real -------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_each_child_is_a_real_training_job_whose_metric_matches_xgboost(sagemaker, bucket, strategy):
    body, tuning = run(sagemaker, bucket, strategy=strategy, jobs=4, parallel=2)
    name = body["HyperParameterTuningJobName"]

    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning.get("FailureReason")
    assert tuning["TrainingJobStatusCounters"] == {"Completed": 4, "InProgress": 0, "RetryableError": 0,
                                                   "NonRetryableError": 0, "Stopped": 0}
    assert tuning["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    assert tuning["CreationTime"] < tuning["HyperParameterTuningEndTime"]
    listed = children(sagemaker, name)
    assert len(listed) == 4 and len({job["TrainingJobName"] for job in listed}) == 4
    all_jobs = {job["TrainingJobName"] for job in sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]}
    s3 = boto3.client("s3")
    for summary in listed:
        assert summary["TrainingJobName"].startswith(f"{name}-0")  # <tuning job>-<NNN>-<8 hex>, as SageMaker names them
        assert summary["TrainingJobName"] in all_jobs
        job = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        assert job["TuningJobArn"] == tuning["HyperParameterTuningJobArn"]
        assert job["HyperParameters"] == {**STATIC, **summary["TunedHyperParameters"],
                                          "_tuning_objective_metric": "validation:auc"}
        assert sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"] == body["Tags"]
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        # The algorithm adds the objective's metric to eval_metric, as the container does.
        assert set(metrics) == {"train:auc", "train:logloss", "validation:auc", "validation:logloss"}
        value = summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert value == metrics["validation:auc"]
        assert value == pytest.approx(validation_auc_in_process(job["HyperParameters"]), abs=1e-5)
        bucket_name, key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://").split("/", 1)
        archive = s3.get_object(Bucket=bucket_name, Key=key)["Body"].read()
        assert tarfile.open(fileobj=io.BytesIO(archive)).getnames() == ["xgboost-model"]
        streams = boto3.client("logs").describe_log_streams(
            logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{summary['TrainingJobName']}/"
        )["logStreams"]
        assert len(streams) == 1
    best = max(listed, key=lambda job: job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    assert tuning["BestTrainingJob"]["TrainingJobName"] == best["TrainingJobName"]
    assert tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    assert "OverallBestTrainingJob" not in tuning and "FakeTrainingJobName" not in str(tuning)


def test_ranges_are_sampled_within_bounds_and_scales(sagemaker, bucket):
    ranges = {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "4", "ScalingType": "Linear"}],
        "ContinuousParameterRanges": [
            {"Name": "subsample", "MinValue": "0.5", "MaxValue": "0.99", "ScalingType": "ReverseLogarithmic"},
            {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"},
        ],
        "CategoricalParameterRanges": [{"Name": "grow_policy", "Values": ["depthwise", "lossguide"]}],
    }
    body, tuning = run(sagemaker, bucket, jobs=6, parallel=2, ranges=ranges)
    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning.get("FailureReason")
    for job in children(sagemaker, body["HyperParameterTuningJobName"]):
        tuned = job["TunedHyperParameters"]
        assert set(tuned) == {"max_depth", "subsample", "learning_rate", "grow_policy"}
        assert tuned["max_depth"] in ("3", "4")
        assert 0.5 <= float(tuned["subsample"]) <= 0.99
        assert 0.01 <= float(tuned["learning_rate"]) <= 0.3
        assert tuned["grow_policy"] in ("depthwise", "lossguide")


def test_grid_runs_every_combination_once(sagemaker, bucket):
    ranges = {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["2", "3", "4"]},
                                             {"Name": "eta", "Values": ["0.1", "0.3"]}]}
    body, tuning = run(sagemaker, bucket, strategy="Grid", jobs=None, parallel=2, ranges=ranges)
    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning.get("FailureReason")
    assert tuning["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 6
    combinations = [tuple(sorted(job["TunedHyperParameters"].items())) for job in children(sagemaker, body["HyperParameterTuningJobName"])]
    assert len(combinations) == 6 and len(set(combinations)) == 6


def test_minimized_objective_picks_the_lowest(sagemaker, bucket):
    body, tuning = run(sagemaker, bucket, jobs=3, parallel=1, metric="validation:logloss", kind="Minimize")
    listed = children(sagemaker, body["HyperParameterTuningJobName"], SortBy="FinalObjectiveMetricValue", SortOrder="Ascending")
    values = [job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for job in listed]
    assert values == sorted(values) and len(values) == 3
    assert tuning["BestTrainingJob"]["TrainingJobName"] == listed[0]["TrainingJobName"]


def test_listing_sorts_filters_and_pages(sagemaker, bucket):
    body, _ = run(sagemaker, bucket, jobs=5, parallel=2)
    name = body["HyperParameterTuningJobName"]
    page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, MaxResults=2)
    assert len(page["TrainingJobSummaries"]) == 2 and page["NextToken"]
    everything = children(sagemaker, name, MaxResults=2)
    names = [job["TrainingJobName"] for job in everything]
    assert names == sorted(names) and len(names) == 5  # SortBy defaults to Name
    by_value = children(sagemaker, name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    values = [job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for job in by_value]
    assert values == sorted(values, reverse=True)
    assert children(sagemaker, name, StatusEquals="Failed") == []
    assert len(children(sagemaker, name, StatusEquals="Completed")) == 5
    summaries = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobStatus"] for s in summaries] == ["Completed"]
    assert summaries[0]["TrainingJobStatusCounters"]["Completed"] == 5


def test_tuning_jobs_are_listed_by_name_by_default(sagemaker, bucket):
    """ListHyperParameterTuningJobs' documented default is SortBy Name, Ascending (listing.DEFAULTS); moto (5.x)
    listed them oldest first. Created b then a, so that the two orders differ."""
    stem = unique("tune-listed")
    names = [f"{stem}-b", f"{stem}-a"]
    for name in names:
        sagemaker.create_hyper_parameter_tuning_job(**{**request(bucket, jobs=1, parallel=1), "HyperParameterTuningJobName": name})
    for name in names:
        wait(sagemaker, name)

    def listed(**kwargs) -> list[str]:
        found = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=stem, **kwargs)["HyperParameterTuningJobSummaries"]
        return [summary["HyperParameterTuningJobName"] for summary in found]

    assert listed() == sorted(names)
    assert listed(SortBy="CreationTime") == names
    assert listed(SortOrder="Descending") == sorted(names, reverse=True)


def test_parallel_jobs_run_concurrently(sagemaker, bucket):
    """Two at a time: some child starts before an earlier one ends (the machine has at least 2 cores)."""
    static = {**STATIC, "num_round": "300"}
    body, tuning = run(sagemaker, bucket, jobs=4, parallel=2, static=static)
    jobs = [sagemaker.describe_training_job(TrainingJobName=job["TrainingJobName"])
            for job in children(sagemaker, body["HyperParameterTuningJobName"], SortBy="CreationTime")]
    overlaps = [later["CreationTime"] < earlier["TrainingEndTime"] for earlier, later in zip(jobs, jobs[1:])]
    assert any(overlaps)
    # Never more than MaxParallelTrainingJobs at once.
    for index, job in enumerate(jobs[2:], start=2):
        assert job["CreationTime"] >= min(earlier["TrainingEndTime"] for earlier in jobs[:index])


def test_stop_ends_the_children_and_the_tuning_job(sagemaker, bucket):
    body = request(bucket, jobs=10, parallel=2, static={**STATIC, "num_round": "10000000"})
    name = body["HyperParameterTuningJobName"]
    sagemaker.create_hyper_parameter_tuning_job(**body)
    wait_until(lambda: children(sagemaker, name), timeout=30, message=f"a training job of tuning job {name}")
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    tuning = wait(sagemaker, name, timeout=60)
    assert tuning["HyperParameterTuningJobStatus"] == "Stopped"
    listed = children(sagemaker, name)
    assert 1 <= len(listed) <= 2  # no job starts after the stop
    assert {job["TrainingJobStatus"] for job in listed} == {"Stopped"}
    assert tuning["TrainingJobStatusCounters"]["InProgress"] == 0
    with pytest.raises(ClientError, match="Stopped and cannot be stopped"):
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def test_a_tuning_job_in_progress_cannot_be_deleted(sagemaker, bucket):
    body = request(bucket, jobs=2, parallel=1, static={**STATIC, "num_round": "10000000"})
    name = body["HyperParameterTuningJobName"]
    sagemaker.create_hyper_parameter_tuning_job(**body)
    with pytest.raises(ClientError, match="status InProgress"):
        sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    wait(sagemaker, name)
    sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    with pytest.raises(ClientError, match="can't find a tuning job called"):
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def test_children_that_all_fail_fail_the_tuning_job_with_their_reason(sagemaker, bucket):
    body = request(bucket, jobs=6, parallel=2)
    body["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{bucket}/missing/"
    sagemaker.create_hyper_parameter_tuning_job(**body)
    tuning = wait(sagemaker, body["HyperParameterTuningJobName"])
    assert tuning["HyperParameterTuningJobStatus"] == "Failed"
    assert "No S3 objects found" in tuning["FailureReason"]
    assert tuning["TrainingJobStatusCounters"]["NonRetryableError"] >= 3
    assert tuning["ObjectiveStatusCounters"]["Failed"] >= 3
    assert "BestTrainingJob" not in tuning


def test_target_objective_value_ends_the_search_early(sagemaker, bucket):
    body, tuning = run(sagemaker, bucket, jobs=20, parallel=1,
                       TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.5})
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert len(children(sagemaker, body["HyperParameterTuningJobName"])) == 1


def test_auto_early_stopping_stops_jobs_below_the_median(sagemaker, bucket):
    """A job with a far lower learning rate than the three before it falls below their median, round by round."""
    ranges = {"CategoricalParameterRanges": [{"Name": "eta", "Values": ["0.5", "0.4", "0.45", "0.0001"]}]}
    body = request(bucket, strategy="Grid", jobs=None, parallel=1, ranges=ranges,
                   static={**STATIC, "num_round": "60"}, TrainingJobEarlyStoppingType="Auto", RandomSeed=SLOW_LAST_SEED)
    sagemaker.create_hyper_parameter_tuning_job(**body)
    tuning = wait(sagemaker, body["HyperParameterTuningJobName"])
    listed = children(sagemaker, body["HyperParameterTuningJobName"], SortBy="CreationTime")
    assert [job["TunedHyperParameters"]["eta"] for job in listed][-1] == "0.0001"  # the seed's shuffled grid order
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert [job["TrainingJobStatus"] for job in listed] == ["Completed", "Completed", "Completed", "Stopped"]
    assert tuning["TrainingJobStatusCounters"]["Stopped"] == 1
    assert tuning["ObjectiveStatusCounters"]["Succeeded"] == 4  # its objective so far still counts
    slow = sagemaker.describe_training_job(TrainingJobName=listed[-1]["TrainingJobName"])
    assert slow["SecondaryStatus"] == "Stopped"
    bucket_name, key = slow["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://").split("/", 1)
    assert boto3.client("s3").head_object(Bucket=bucket_name, Key=key)  # an early-stopped job keeps its model


SLOW_LAST_SEED = 0


# --- refused before anything runs --------------------------------------------------------------------------


def _with(path: str, value):
    def change(body: dict) -> None:
        *parents, leaf = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return change


DELETE = object()
CONFIG = "HyperParameterTuningJobConfig"
DEFINITION = "TrainingJobDefinition"
REFUSALS = {
    "min above max": (_with(f"{CONFIG}.ParameterRanges.IntegerParameterRanges.0.MinValue", "7"), "minimum 7 above its maximum 6"),
    "unknown hyperparameter": (_with(f"{CONFIG}.ParameterRanges.IntegerParameterRanges.0.Name", "max_dept"),
                               "not a hyperparameter of the built-in XGBoost"),
    "integer range for a continuous one": (_with(f"{CONFIG}.ParameterRanges.IntegerParameterRanges.0.Name", "gamma"),
                                           "'gamma' is a continuous hyperparameter, so its range must be Continuous, not Integer"),
    "bound outside the algorithm's interval": (_with(f"{CONFIG}.ParameterRanges.ContinuousParameterRanges.0.MaxValue", "1.5"),
                                               "'eta' must be in"),
    "objective the algorithm does not emit": (_with(f"{CONFIG}.HyperParameterTuningJobObjective.MetricName", "validation:auc-pr"),
                                              "A metric is required for this hyperparameter tuning job objective"),
    "train metric as objective": (_with(f"{CONFIG}.HyperParameterTuningJobObjective.MetricName", "train:auc"),
                                  "A metric is required for this hyperparameter tuning job objective"),
    "minimising a maximised metric": (_with(f"{CONFIG}.HyperParameterTuningJobObjective.Type", "Minimize"),
                                      "declares for Maximize"),
    "Hyperband": (_with(f"{CONFIG}.Strategy", "Hyperband"), "Strategy Hyperband is not executed by the local emulator"),
    "warm start": (_with("WarmStartConfig", {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "x"}],
                                             "WarmStartType": "IdenticalDataAndAlgorithm"}), "WarmStartConfig"),
    "logarithmic from zero": (_with(f"{CONFIG}.ParameterRanges.ContinuousParameterRanges.0.MinValue", "0"),
                              "Logarithmic scaling works only for ranges that have values greater than 0"),
    "tuned and static": (_with(f"{DEFINITION}.StaticHyperParameters.eta", "0.2"), "both a static hyperparameter and tuned"),
    "tuned and static through an alias": (_with(f"{DEFINITION}.StaticHyperParameters.learning_rate", "0.2"),
                                          "both a static hyperparameter and tuned"),
    "another image": (_with(f"{DEFINITION}.AlgorithmSpecification.TrainingImage",
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-xgboost:1"), "is not executed by the local emulator"),
    "no job budget": (_with(f"{CONFIG}.ResourceLimits.MaxNumberOfTrainingJobs", DELETE), "MaxNumberOfTrainingJobs is required"),
    "grid with a budget": (_with(f"{CONFIG}.Strategy", "Grid"), "must not be given for the Grid strategy"),
    "static hyperparameters the algorithm rejects": (_with(f"{DEFINITION}.StaticHyperParameters.num_round", "0"),
                                                     "StaticHyperParameters"),
    "early stopping across several instances": (
        lambda body: (body[CONFIG].update(TrainingJobEarlyStoppingType="Auto"),
                      body[DEFINITION]["ResourceConfig"].update(InstanceCount=2)),
        "TrainingJobEarlyStoppingType Auto for training jobs of several instances",
    ),
    "convergence detection": (_with(f"{CONFIG}.TuningJobCompletionCriteria", {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}),
                              "ConvergenceDetected"),
    "checkpoints": (_with(f"{DEFINITION}.CheckpointConfig", {"S3Uri": "s3://somewhere/checkpoints"}),
                    "CheckpointConfig in a tuning job's training job definition is not executed by the local emulator"),
    "a hyperparameter of another image version": (_with(f"{DEFINITION}.StaticHyperParameters.silent", "0"),
                                                  "'silent' is not a hyperparameter of the built-in XGBoost algorithm in image"),
}


@pytest.mark.parametrize("change, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_requests_are_refused_by_name_and_nothing_is_created(sagemaker, bucket, change, message):
    body = request(bucket)
    change(body)
    before = len(sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"])
    with pytest.raises(ClientError, match=message) as raised:
        sagemaker.create_hyper_parameter_tuning_job(**body)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=body["HyperParameterTuningJobName"])
    assert len(sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]) == before


@pytest.mark.parametrize("scaling, low, high, accepted", [
    ("ReverseLogarithmic", "0.5", "0.99", True),
    ("ReverseLogarithmic", "0.5", "1.0", False),  # the boundary: SageMaker requires x < 1
    ("Logarithmic", "0.0001", "0.5", True),
    ("Logarithmic", "0", "0.5", False),
])  # fmt: skip
def test_scaling_boundaries(scaling, low, high, accepted):
    ranges = {"ContinuousParameterRanges": [{"Name": "subsample" if scaling == "ReverseLogarithmic" else "eta",
                                             "MinValue": low, "MaxValue": high, "ScalingType": scaling}]}
    body = request("bucket", ranges=ranges)
    validate = lambda: tuning_request.validate_request(body[CONFIG], body[DEFINITION], None, None, None)  # noqa: E731
    if accepted:
        assert validate().ranges[0].scaling == scaling
    else:
        with pytest.raises(Exception, match="scaling works only"):
            validate()


def test_zero_parallel_jobs_is_refused_even_past_the_client():
    """botocore refuses 0 itself; a client that does not validate (a raw HTTP request) meets the emulator's check."""
    body = request("bucket")
    body[CONFIG]["ResourceLimits"]["MaxParallelTrainingJobs"] = 0
    with pytest.raises(Exception, match="MaxParallelTrainingJobs is required and must be at least 1"):
        tuning_request.validate_request(body[CONFIG], body[DEFINITION], None, None, None)
    body[CONFIG]["ResourceLimits"]["MaxParallelTrainingJobs"] = 1
    assert tuning_request.validate_request(body[CONFIG], body[DEFINITION], None, None, None).max_parallel == 1


@pytest.mark.parametrize("runtime, accepted", [(120, True), (119, False)])
def test_a_tuning_job_may_run_for_two_minutes_but_not_less_even_past_the_client(runtime, accepted):
    """ResourceLimits.MaxRuntimeInSeconds is at least 120, the boundary included (botocore checks it too)."""
    body = request("bucket")
    body[CONFIG]["ResourceLimits"]["MaxRuntimeInSeconds"] = runtime
    validate = lambda: tuning_request.validate_request(body[CONFIG], body[DEFINITION], None, None, None)  # noqa: E731
    if accepted:
        assert validate().max_runtime == 120
    else:
        with pytest.raises(Exception, match="Member must have value greater than or equal to 120"):
            validate()


# --- the search itself -------------------------------------------------------------------------------------


def _synthetic_score(eta: float, depth: int) -> float:
    """A smooth surface with its peak at eta 0.08, depth 6, and a plateau elsewhere."""
    return -((np.log10(eta) - np.log10(0.08)) ** 2) - 0.05 * (depth - 6) ** 2


def _best_found(strategy: str, seed: int, budget: int = 24) -> float:
    ranges = [ParameterRange("eta", "Continuous", 0.0001, 1.0, "Logarithmic"), ParameterRange("max_depth", "Integer", 1, 12)]
    search = Search(strategy, ranges, maximize=True, seed=seed, max_jobs=budget, early_stopping=False)
    best = -np.inf
    for _ in range(budget):
        trial, tuned = search.propose()
        value = _synthetic_score(float(tuned["eta"]), int(tuned["max_depth"]))
        search.finish(trial, value, stopped_early=False)
        best = max(best, value)
    return best


def test_bayesian_search_beats_random_search_on_average():
    seeds = range(8)
    bayesian = np.mean([_best_found("Bayesian", seed) for seed in seeds])
    random = np.mean([_best_found("Random", seed) for seed in seeds])
    assert bayesian > random


def test_median_early_stopping_needs_three_ended_jobs_and_a_worse_value():
    search = Search("Random", [ParameterRange("eta", "Continuous", 0.1, 0.2)], maximize=True, seed=1, max_jobs=6,
                    early_stopping=True)
    for _ in range(3):
        trial, _ = search.propose()
        for round_index in range(10):
            assert not search.report_round(trial, round_index, 0.8)
        search.finish(trial, 0.8, stopped_early=False)
    better, _ = search.propose()
    worse, _ = search.propose()
    assert not search.report_round(better, 6, 0.81)
    assert not search.report_round(worse, 4, 0.5)  # still warming up (the first 5 rounds)
    assert search.report_round(worse, 6, 0.5)
