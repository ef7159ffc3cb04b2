"""Code written for AWS, unchanged, against the local target: SageMaker SDK v2, sagemaker-core (SDK v3), boto3
and the AWS CLI, each in a subprocess with only the environment that `invoke emulator.env` prints.

Each asserts real results: the model artifact in the stack's bucket and accuracy on the 803-row test split. The
scripts under scripts/ are written as each client's users write them and name nothing of the emulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from vgsales.context import Context
from vgsales.records import DataRecord, StackRecord, TrainingRecord

from support.clients import Flows, client_process_env

SCRIPTS = Path(__file__).resolve().parent / "scripts"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKSHOP_ACCURACY = 0.86


def run(command: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])
    assert result.returncode == 0, f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def last_json(output: str) -> dict:
    """The script's one JSON line (SDK v2 prints its progress marks, "-" and "!", on stdout without a newline)."""
    line = output.strip().splitlines()[-1]
    return json.loads(line[line.index("{") :])


def assert_artifact(ctx: Context, uri: str) -> None:
    stack = ctx.state.read(StackRecord)
    parts = urlsplit(uri)
    assert parts.netloc == stack.bucket_name and parts.path.endswith("/output/model.tar.gz"), uri
    size = ctx.aws.client("s3").head_object(Bucket=parts.netloc, Key=parts.path[1:])
    assert size["ContentLength"] > 1000, "a real model archive"


def data_dir(ctx: Context) -> Path:
    return Path(ctx.state.read(DataRecord).test_split).parent


def libsvm_test_split_and_folder(ctx: Context) -> list:
    return [data_dir(ctx) / "test.libsvm", data_dir(ctx)]


def bucket_prefix_and_folder(ctx: Context) -> list:
    return [ctx.state.read(StackRecord).bucket_name, ctx.settings.name_prefix, data_dir(ctx)]


def trained_job(ctx: Context) -> str:
    return ctx.state.read(TrainingRecord).training_job_name


# The client flow of each test: (script, the project's own Python rather than the client venv's, its arguments).
FLOWS = {
    "test_sdk_v2_runs_the_aws_workshop_notebook_flow": ("sdk_v2_workshop.py", False, libsvm_test_split_and_folder),
    "test_sdk_v2_csv_estimator_on_1_7_1_answers_a_line_per_row": ("sdk_v2_csv_estimator.py", False, lambda ctx: [data_dir(ctx)]),
    "test_sdk_v2_upload_data_writes_where_the_code_says": (
        "sdk_v2_upload_data.py", False, lambda ctx: [data_dir(ctx) / "validation.libsvm"]),
    "test_sdk_v2_hyperparameter_tuner_fits_attaches_analyses_and_deploys": ("sdk_v2_tuner.py", False, libsvm_test_split_and_folder),
    "test_sdk_v2_training_job_analytics_reads_the_training_curve": (
        "sdk_v2_training_analytics.py", False, lambda ctx: [trained_job(ctx)]),
    "test_sdk_v2_transformer_runs_a_real_batch_transform": (
        "sdk_v2_transformer.py", False, lambda ctx: [trained_job(ctx), data_dir(ctx) / "test.libsvm"]),
    "test_boto3_trains_deploys_and_predicts_with_waiters": ("boto3_flow.py", False, bucket_prefix_and_folder),
    "test_boto3_tunes_on_a_1_x_image_and_deploys_the_best_job": ("boto3_tuning_flow.py", False, bucket_prefix_and_folder),
    "test_sdk_v2_script_mode_trains_deploys_transforms_and_serves_an_inference_script": (
        "sdk_v2_script_mode.py", False, lambda ctx: [data_dir(ctx)]),
    "test_sdk_v2_script_mode_on_two_hosts_and_a_tuner_on_the_scripts_metric": (
        "sdk_v2_script_mode_hosts_and_tuner.py", False, lambda ctx: [data_dir(ctx)]),
    "test_sagemaker_core_trains_deploys_and_predicts": (
        "sdk_v3_core_flow.py", True, lambda ctx: [data_dir(ctx), ctx.settings.name_prefix]),
}


@pytest.fixture(scope="module")
def flows(request, client_stack, compat_python, tmp_path_factory):
    """The flows of this module's selected tests, started together when the first of them asks (support/clients.py
    says why), each with only the environment `invoke emulator.env` prints; a test waits for its own."""
    running = Flows()
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    try:
        for test in sorted(selected & FLOWS.keys()):
            script, own_python, arguments = FLOWS[test]
            python = Path(sys.executable) if own_python else compat_python
            env = client_process_env(client_stack, tmp_path_factory.mktemp("client"), python)
            running.start(test, [python, SCRIPTS / script, *arguments(client_stack)], env)
        yield running
    finally:
        running.close()


def flow_result(flows: Flows, request) -> dict:
    """The JSON line of the calling test's flow."""
    return last_json(flows.result(request.node.originalname))


def test_sdk_v2_runs_the_aws_workshop_notebook_flow(client_stack, flows, request):
    """Session().default_bucket(), get_execution_role(), image_uris.retrieve(..., "latest"), Estimator.fit,
    deploy with LibSVMSerializer, predict, delete_endpoint: the original notebook's calls."""
    result = flow_result(flows, request)
    stack = client_stack.state.read(StackRecord)
    assert result["role"] == stack.role_arn, "get_execution_role() names the stack's role, as on a notebook instance"
    assert result["bucket"] == stack.bucket_name, "default_bucket() is the stack's bucket, nothing is created"
    assert result["image"].endswith("/xgboost:latest")
    assert result["rows"] == 803 and result["accuracy"] >= WORKSHOP_ACCURACY, result
    assert_artifact(client_stack, result["model_data"])
    # The SDK's own names, no prefix of ours: the stack's tag, which the SDK config added, is what let them in.
    assert result["job"].startswith("xgboost-") and result["endpoint"].startswith("xgboost-"), result
    assert_tagged_for_the_stack(client_stack, "training-job", result["job"])
    assert_tagged_for_the_stack(client_stack, "model", result["endpoint"])  # deploy() names the model as the endpoint


def assert_tagged_for_the_stack(ctx, kind: str, name: str) -> None:
    sagemaker = ctx.aws.client("sagemaker")
    arn = f"arn:aws:sagemaker:{ctx.region}:123456789012:{kind}/{name}"
    assert {"Key": "vgsales:stack", "Value": ctx.settings.name_prefix} in sagemaker.list_tags(ResourceArn=arn)["Tags"], (kind, name)


def test_sdk_v2_csv_estimator_on_1_7_1_answers_a_line_per_row(flows, request):
    """CSV channels, CSVSerializer and `predict(...).decode().split("\n")[:-1]`, as AWS's samples for 1.x images
    parse answers: the 1.7-1 container writes one score per line, each ending with a newline (comma-joined,
    the answer would have split into one bad value and left the rows unmatched)."""
    result = flow_result(flows, request)
    assert result["image"].endswith("/sagemaker-xgboost:1.7-1") and result["job"].startswith("sagemaker-xgboost-"), result
    # Absent features are 0 in CSV, missing in libsvm (see test_a_csv_row_leaves_absent_features_empty_not_zero),
    # so the score differs a little from the libsvm flow's.
    assert result["rows"] == 803 and result["accuracy"] >= 0.8, result


def test_sdk_v2_upload_data_writes_where_the_code_says(flows, request):
    """No DefaultS3ObjectKeyPrefix in the SDK config emulator.env writes: upload_data(key_prefix=p) writes under p,
    where sample code that builds s3://<bucket>/<p>/... looks for it."""
    result = flow_result(flows, request)
    assert result["returned"] == result["built"], result
    assert result["objects_under_built_prefix"] == 1


def test_sdk_v2_hyperparameter_tuner_fits_attaches_analyses_and_deploys(client_stack, flows, request):
    """HyperparameterTuner.fit(), .attach(), .best_training_job(), .analytics().dataframe(), .deploy(): every
    training job it reports is one the emulator ran (no 'FakeTrainingJobName', no instant Completed)."""
    result = flow_result(flows, request)
    name = result["tuning_job"]
    assert name.startswith("sagemaker-xgboost-") and len(result["jobs"]) == 4  # the SDK's default name
    assert all(job.startswith(f"{name}-") for job in result["jobs"])
    for job in result["jobs"]:  # a tuning job's training jobs carry its tags
        assert_tagged_for_the_stack(client_stack, "training-job", job)
    assert result["best"] == result["attached_best"] == result["best_in_frame"] == result["endpoint"]
    assert result["attached_ranges"] == ["eta", "max_depth", "subsample"], "attach() reads the ranges back"
    assert {"FinalObjectiveValue", "TrainingJobName", "eta", "max_depth", "subsample"} <= set(result["frame_columns"])
    # The search maximised validation AUC, so the test split's AUC is the measure (accuracy at 0.5 may drop).
    assert result["rows"] == 803 and result["auc"] >= 0.85, result
    sagemaker = client_stack.aws.client("sagemaker")
    tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    best = sagemaker.describe_training_job(TrainingJobName=result["best"])
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 4
    assert best["TuningJobArn"] == tuning["HyperParameterTuningJobArn"]
    assert_artifact(client_stack, best["ModelArtifacts"]["S3ModelArtifacts"])


def test_sdk_v2_training_job_analytics_reads_the_training_curve(client_stack, flows, request):
    """TrainingJobAnalytics(...).dataframe() as the notebook identity: the stack's role may read what SageMaker
    published, and SageMaker published the job's metric once per round (moto alone published nothing)."""
    record = client_stack.state.read(TrainingRecord)
    result = flow_result(flows, request)
    assert result["columns"] == ["metric_name", "timestamp", "value"] and result["metrics"] == ["validation:auc"], result
    # Standard resolution: one point a minute, the average of the rounds logged in it (the job's rounds take
    # well under a minute here, as on AWS for a model this size).
    assert 1 <= result["rows"] <= 2 and all(0.5 < value <= 1.0 for value in result["values"]), result
    rounds = int(client_stack.settings.training.hyperparameters["num_round"])
    described = client_stack.aws.client("sagemaker").describe_training_job(TrainingJobName=record.training_job_name)
    counted = client_stack.aws.client("cloudwatch").get_metric_statistics(
        Namespace="/aws/sagemaker/TrainingJobs", MetricName="validation:auc", Statistics=["SampleCount"], Period=3600,
        Dimensions=[{"Name": "TrainingJobName", "Value": record.training_job_name}],
        StartTime=described["CreationTime"] - timedelta(minutes=1), EndTime=described["TrainingEndTime"] + timedelta(minutes=1),
    )["Datapoints"]  # fmt: skip
    assert sum(point["SampleCount"] for point in counted) == rounds


def test_sdk_v2_transformer_runs_a_real_batch_transform(flows, request):
    """Estimator.attach(job).transformer(...) with the SDK's defaults (no assemble_with, no accept), then
    transform(..., content_type="text/libsvm", split_type="Line") and wait(): moto reported Completed at once and
    wrote nothing; now the output holds one score per test row, each on its line."""
    result = flow_result(flows, request)
    assert result["status"] == "Completed" and result["job"].startswith("vgsales-")
    assert result["rows"] == 803 and result["accuracy"] >= WORKSHOP_ACCURACY, result


def test_sdk_v2_script_mode_trains_deploys_transforms_and_serves_an_inference_script(client_stack, flows, request):
    """XGBoost(entry_point="train.py", source_dir=...) fit, deploy (the script's model_fn, the container's default
    input and output functions), transformer, and XGBoostModel(entry_point="inference.py") with its own output_fn:
    scripts/script_mode/ runs as the framework image runs it, and every answer is the script's model's."""
    result = flow_result(flows, request)
    assert result["job"].startswith("sagemaker-xgboost-") and result["program"] == "train.py", result
    assert_artifact(client_stack, result["model_data"])
    assert 0.5 < result["final_metrics"]["validation:auc"] <= 1.0, "read from the script's own log lines"
    assert result["rows"] == 803 and result["accuracy"] >= 0.8, result
    assert result["transformed_rows"] == 803 and result["transform_matches_endpoint"], result
    custom = result["custom_answer"]["predictions"]
    assert [entry["score"] for entry in custom] == pytest.approx(result["endpoint_first_scores"], abs=1e-6)
    assert [entry["hit"] for entry in custom] == [score > 0.5 for score in result["endpoint_first_scores"]]


def test_sdk_v2_script_mode_on_two_hosts_and_a_tuner_on_the_scripts_metric(client_stack, flows, request):
    """instance_count=2 with ShardedByS3Key inputs: both hosts run train.py and join the container's rabit_run; a
    HyperparameterTuner over the estimator's metric definitions ranks the jobs by what their logs printed."""
    result = flow_result(flows, request)
    assert result["distributed_status"] == "Completed" and result["instances"] == 2, result
    sagemaker = client_stack.aws.client("sagemaker")
    logs = client_stack.aws.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                        logStreamNamePrefix=f"{result['distributed_job']}/")["logStreams"]
    assert len(streams) == 2, "one log stream per host"
    assert result["tuning_status"] == "Completed" and len(result["objectives"]) == 2, result
    assert result["best_objective"] == max(result["objectives"]) and 0.5 < result["best_objective"] <= 1.0
    best = sagemaker.describe_training_job(TrainingJobName=result["best"])
    assert best["FinalMetricDataList"][0]["Value"] == pytest.approx(result["best_objective"])


def test_boto3_trains_deploys_and_predicts_with_waiters(client_stack, flows, request):
    stack = client_stack.state.read(StackRecord)
    result = flow_result(flows, request)
    assert result["status"] == "Completed" and result["role"] == stack.role_arn
    assert result["metrics"]["validation:auc"] > 0.8
    assert result["rows"] == 803 and result["accuracy"] >= WORKSHOP_ACCURACY, result
    assert_artifact(client_stack, result["model_data"])


def test_boto3_tunes_on_a_1_x_image_and_deploys_the_best_job(client_stack, flows, request):
    """boto3 alone: a Bayesian tuning job on 1.5-1 named with the time, its best job deployed, answers split on
    newlines; the stack's tag on what it creates is what lets the role in, whatever the names."""
    result = flow_result(flows, request)
    assert result["status"] == "Completed" and result["completed"] == 4, result
    assert result["best"].startswith(result["tuning_job"] + "-"), result
    assert result["rows"] == 803 and result["accuracy"] >= WORKSHOP_ACCURACY - 0.02, result
    assert_tagged_for_the_stack(client_stack, "training-job", result["best"])  # the tuning job's tags, on its jobs


def test_sagemaker_core_trains_deploys_and_predicts(client_stack, flows, request):
    """SDK v3's core resources, in the project's own venv (sagemaker-core), with only the printed environment."""
    result = flow_result(flows, request)
    stack = client_stack.state.read(StackRecord)
    assert (result["role"], result["bucket"]) == (stack.role_arn, stack.bucket_name)
    assert result["rows"] == 803 and result["accuracy"] >= WORKSHOP_ACCURACY, result
    assert_artifact(client_stack, result["model_data"])


def test_the_aws_cli_sees_the_notebook_identity_and_the_stack(client_stack, compat_python, client_env, tmp_path):
    stack = client_stack.state.read(StackRecord)
    env = client_env(client_stack, compat_python)
    identity = json.loads(run(["aws", "sts", "get-caller-identity"], env))
    role = stack.role_arn.rsplit("/", 1)[1]
    assert identity["Arn"] == f"arn:aws:sts::{identity['Account']}:assumed-role/{role}/SageMaker"
    assert "train/train.libsvm" in run(["aws", "s3", "ls", "--recursive", f"s3://{stack.bucket_name}/"], env)
    payload = tmp_path / "payload.bin"
    payload.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, every byte value
    run(["aws", "s3", "cp", str(payload), f"s3://{stack.bucket_name}/cli/payload.bin"], env)
    run(["aws", "s3", "cp", f"s3://{stack.bucket_name}/cli/payload.bin", str(tmp_path / "back.bin")], env)
    assert (tmp_path / "back.bin").read_bytes() == payload.read_bytes()
    jobs = json.loads(run(["aws", "sagemaker", "list-training-jobs"], env))["TrainingJobSummaries"]
    assert any(job["TrainingJobStatus"] == "Completed" for job in jobs)
    endpoint = json.loads(run(["aws", "sagemaker", "describe-endpoint", "--endpoint-name", "vgsales-endpoint"], env))
    assert endpoint["EndpointStatus"] == "InService"


def test_the_deploy_tasks_sample_commands_work_as_printed(client_stack, compat_python, client_env):
    """The lines `invoke deploy` prints, pasted into a shell (after the eval it names), with the AWS CLI v1."""
    from vgsales.pipeline import deploy

    row = deploy.sample_row(Path(client_stack.state.read(DataRecord).test_split))
    text = deploy.usage_snippets("vgsales-endpoint", client_stack.region, row, client_setup=None)
    lines = [line.strip() for line in text.splitlines()]
    cli = lines[lines.index("# AWS CLI (v1 or v2)") + 1 :]
    python = lines[lines.index("# Python (boto3)") + 1]
    env = client_env(client_stack, compat_python)
    score = run(["sh", "-c", " && ".join(line for line in cli if line)], env)
    assert 0.0 <= float(score.strip().splitlines()[-1].rpartition("}")[2] or score.split()[-1]) <= 1.0, score
    assert 0.0 <= float(run(["sh", "-c", python.replace("python3", str(compat_python), 1)], env).strip()) <= 1.0


# sagemaker-core's role check, as SDK v3's ModelTrainer and ModelBuilder call it, on each role named (none: the
# caller's own, as a notebook resolves it). One process per identity: importing sagemaker.core alone takes 3.6 CPU-s.
V3_ROLE_CHECK = """
import json, sys
from sagemaker.core.helper.iam_role_resolver import RoleValidationError, resolve_and_validate_role
verdicts = {}
for role in sys.argv[1:] or [None]:
    answers = {}
    for role_type in ("training", "serving"):
        try:
            answers[role_type] = resolve_and_validate_role(provided_role=role, role_type=role_type)
        except RoleValidationError as error:
            answers[role_type] = "refused: " + str(error)
    verdicts[role or "caller"] = answers
print(json.dumps(verdicts))
"""

# Near misses of the module's policy, each a role one statement short: (what changed, the permission it lacks).
ONE_STATEMENT_SHORT = [("drop VpcPlacedJobs", "ec2:CreateNetworkInterface"),
                       ("strict metric namespace", "cloudwatch:PutMetricData")]


def one_statement_short(policy: dict, change: str) -> dict:
    policy = json.loads(json.dumps(policy))
    if change == "drop VpcPlacedJobs":
        policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "VpcPlacedJobs"]
    else:
        for statement in policy["Statement"]:
            if statement["Sid"] == "SageMakerMetrics":
                statement["Condition"] = {"StringLike": statement["Condition"]["StringLikeIfExists"]}
    return policy


@pytest.fixture(scope="module")
def role_verdicts(client_stack, tmp_path_factory):
    """The role check's verdicts, by identity ("as the notebook", "as an administrator") and then by role ("caller",
    the stack's role, each near miss's ARN by its change): a notebook resolves the role from its caller identity; an
    administrator (an IAM user) names it, as a platform engineer checking roles does (the notebook identity may
    simulate only its own role). A caller that may not simulate gets only a warning ("verdict unknown"), which
    would make every role pass: the stack's role may simulate itself (OwnRoleCheck), so each verdict is real."""
    stack = client_stack.state.read(StackRecord)
    iam = client_stack.aws.client("iam")
    trust = iam.get_role(RoleName=stack.role_name)["Role"]["AssumeRolePolicyDocument"]
    near_misses: dict[str, str] = {}
    try:
        for change, _ in ONE_STATEMENT_SHORT:
            name = f"vgsales-near-miss-{len(change)}"
            near_misses[change] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            policy = one_statement_short(json.loads(stack.role_policy_json), change)
            iam.put_role_policy(RoleName=name, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))
        verdicts = {}
        for identity, admin, roles in (("as the notebook", False, []),
                                       ("as an administrator", True, [stack.role_arn, *near_misses.values()])):
            env = client_process_env(client_stack, tmp_path_factory.mktemp("role-check"), Path(sys.executable), admin)
            result = subprocess.run([sys.executable, "-c", V3_ROLE_CHECK, *roles], env=env, capture_output=True,
                                    text=True, timeout=300, cwd=env["HOME"])
            assert result.returncode == 0, result.stderr
            assert "verdict unknown" not in result.stderr and "Cannot simulate" not in result.stderr, result.stderr
            verdicts[identity] = last_json(result.stdout)
        return verdicts, near_misses
    finally:
        for change, arn in near_misses.items():
            name = arn.rsplit("/", 1)[1]
            iam.delete_role_policy(RoleName=name, PolicyName="least-privilege")
            iam.delete_role(RoleName=name)


@pytest.mark.parametrize("identity", ["as the notebook", "as an administrator"])
def test_the_execution_role_passes_the_sdk_v3_role_check(client_stack, role_verdicts, identity):
    """SDK v3's ModelTrainer and ModelBuilder call sagemaker-core's resolve_and_validate_role (validation on)
    before they submit anything; it simulates the role's policy with SimulatePrincipalPolicy, here and on AWS."""
    verdicts, _ = role_verdicts
    role = client_stack.state.read(StackRecord).role_arn
    asked = "caller" if identity == "as the notebook" else role
    assert verdicts[identity][asked] == {"training": role, "serving": role}


@pytest.mark.parametrize(("change", "missing"), ONE_STATEMENT_SHORT)
def test_the_role_check_refuses_a_role_one_statement_short(role_verdicts, change, missing):
    """Near misses of the module's policy: the check is real, so each one is refused for what it lacks."""
    verdicts, near_misses = role_verdicts
    arn = near_misses[change]
    answers = verdicts["as an administrator"][arn]
    assert answers["training"].startswith("refused: ") and missing in answers["training"], answers
    assert answers["serving"] == arn


def test_a_csv_row_leaves_absent_features_empty_not_zero(client_stack):
    """README, 'Call the endpoint': the same rows as libsvm and as CSV with empty fields score the same; written
    with zeros for the absent features, some get the opposite class."""
    from vgsales.pipeline import deploy

    data = client_stack.state.read(DataRecord)
    rows = [line.partition(" ")[2] for line in Path(data.test_split).read_text().splitlines()[:40]]
    runtime = client_stack.aws.client("sagemaker-runtime")

    def scores(body: str, content_type: str) -> list[float]:
        answer = runtime.invoke_endpoint(EndpointName="vgsales-endpoint", ContentType=content_type, Body=body.encode())
        return [float(value) for value in answer["Body"].read().decode().replace("\n", ",").split(",") if value]

    libsvm = scores("\n".join(rows), "text/libsvm")
    empty = scores("\n".join(deploy.csv_row(row, data.n_features) for row in rows), "text/csv")
    with_zeros = [",".join(field or "0" for field in deploy.csv_row(row, data.n_features).split(",")) for row in rows]
    zeros = scores("\n".join(with_zeros), "text/csv")
    assert empty == pytest.approx(libsvm, abs=1e-6)
    flipped = [i for i, (a, b) in enumerate(zip(libsvm, zeros)) if (a > 0.5) != (b > 0.5)]
    assert flipped, "zeros for absent features change some predictions"
