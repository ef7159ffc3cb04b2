"""Training jobs in script mode: the user's own script, run as the XGBoost framework image runs it (script_mode/).

Each test uploads a sourcedir.tar.gz as SDK v2 does and calls CreateTrainingJob with the hyperparameters the SDK
writes for `XGBoost(entry_point=...)` (every value JSON-encoded, sagemaker_program and sagemaker_submit_directory).
"""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
import uuid
from pathlib import Path

import boto3
import psutil
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import make_classification

from vgsales.emulator.script_mode import host as script_host
from vgsales.emulator.training import download_denied

from support.script_mode import sourcedir
from support import datasets
from support.wait import wait_until

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/vgsales-test-sagemaker"
FEATURES, LABELS = make_classification(n_samples=1200, n_features=5, n_informative=3, random_state=4)
AUC_DEFINITION = {"Name": "validation:auc", "Regex": r"validation-auc:([0-9\.]+)"}

# A training script as AWS's XGBoost script-mode samples write one (build_and_train_models/sm-regression_xgboost/
# abalone.py): argparse over the hyperparameters and SM_* defaults, get_dmatrix, rabit_run on several hosts.
TRAIN_SCRIPT = textwrap.dedent('''
    import argparse, json, os, pickle, sys

    import xgboost as xgb
    from sagemaker_xgboost_container import distributed
    from sagemaker_xgboost_container.data_utils import get_dmatrix


    def _xgb_train(params, dtrain, evals, num_boost_round, model_dir, is_master):
        booster = xgb.train(params=params, dtrain=dtrain, evals=evals, num_boost_round=num_boost_round)
        if is_master:
            pickle.dump(booster, open(os.path.join(model_dir, "xgboost-model"), "wb"))


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--max_depth", type=int)
        parser.add_argument("--eta", type=float)
        parser.add_argument("--num_round", type=int)
        parser.add_argument("--label", type=str)
        parser.add_argument("--model_dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
        parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
        parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
        parser.add_argument("--sm_hosts", type=str, default=os.environ.get("SM_HOSTS"))
        parser.add_argument("--sm_current_host", type=str, default=os.environ.get("SM_CURRENT_HOST"))
        args, _ = parser.parse_known_args()
        print("arguments:", json.dumps(sys.argv[1:]))
        hosts = json.loads(args.sm_hosts)
        dtrain = get_dmatrix(args.train, "libsvm")
        dval = get_dmatrix(args.validation, "libsvm")
        params = {"max_depth": args.max_depth, "eta": args.eta, "objective": "binary:logistic", "eval_metric": "auc"}
        train_args = dict(params=params, dtrain=dtrain, evals=[(dtrain, "train"), (dval, "validation")],
                          num_boost_round=args.num_round, model_dir=args.model_dir)
        if len(hosts) > 1:
            distributed.rabit_run(exec_fun=_xgb_train, args=train_args, include_in_training=(dtrain is not None),
                                  hosts=hosts, current_host=args.sm_current_host, update_rabit_args=True)
        else:
            _xgb_train(is_master=True, **train_args)
''')

# What the process sees: its environment and identity, written to SM_OUTPUT_DATA_DIR (output.tar.gz).
PROBE_SCRIPT = textwrap.dedent('''
    import json, os, sys

    import boto3

    seen = dict(os.environ)
    seen["caller"] = boto3.client("sts").get_caller_identity()["Arn"]
    seen["argv"] = sys.argv[1:]
    seen["cwd"] = os.getcwd()
    import tempfile
    seen["tmpdir"] = tempfile.gettempdir()
    try:
        import vgsales  # noqa: F401
        seen["vgsales_importable"] = True
    except ImportError:
        seen["vgsales_importable"] = False
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as out:
        json.dump(seen, out)
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("a model of my own")
    print("[3]#011validation-auc:0.71")
    print("[4]#011validation-auc:0.75")
''')


def libsvm(rows: slice) -> bytes:
    return datasets.libsvm(FEATURES[rows], LABELS[rows])


@pytest.fixture(scope="module")
def bucket(make_bucket):
    return make_bucket("vgsales-script", {
        "train/part-0.libsvm": libsvm(slice(0, 450)), "train/part-1.libsvm": libsvm(slice(450, 900)),
        "validation/part-0.libsvm": libsvm(slice(900, 1050)), "validation/part-1.libsvm": libsvm(slice(1050, 1200)),
    })


def upload_code(bucket: str, files: dict[str, str]) -> str:
    key = f"code-{uuid.uuid4().hex[:8]}/source/sourcedir.tar.gz"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=sourcedir(files))
    return f"s3://{bucket}/{key}"


def sdk_hyperparameters(program: str, code_uri: str, **values) -> dict[str, str]:
    """What SDK v2's Framework estimator sends: every value JSON-encoded (estimator.py, _json_encode_hyperparameters)."""
    return {name: json.dumps(value) for name, value in
            {**values, "sagemaker_program": program, "sagemaker_submit_directory": code_uri,
             "sagemaker_container_log_level": 20, "sagemaker_region": "us-east-1"}.items()}  # fmt: skip


def channels(bucket: str, distribution: str = "FullyReplicated") -> list[dict]:
    return [{"ChannelName": name, "ContentType": "text/libsvm", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}", "S3DataDistributionType": distribution}}}
        for name in ("train", "validation")]  # fmt: skip


def start(bucket: str, files: dict[str, str], program: str = "train.py", instances: int = 1, runtime: int = 600,
          role: str = ROLE, distribution: str = "FullyReplicated", name: str | None = None,
          environment: dict[str, str] | None = None, **hyperparameters) -> str:
    name = name or f"script-{uuid.uuid4().hex[:10]}"
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name, **({"Environment": environment} if environment else {}),
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File", "MetricDefinitions": [AUC_DEFINITION]},
        RoleArn=role,
        HyperParameters=sdk_hyperparameters(program, upload_code(bucket, files), **hyperparameters),
        InputDataConfig=channels(bucket, distribution),
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": runtime},
    )
    return name


def ended(name: str, timeout: float = 120) -> dict:
    sagemaker = boto3.client("sagemaker")

    def settled() -> dict | None:
        job = sagemaker.describe_training_job(TrainingJobName=name)
        return job if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped") else None

    return wait_until(settled, timeout=timeout, message=f"training job {name} to end")


def logs(name: str) -> dict[str, list[str]]:
    client = boto3.client("logs")
    found = client.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/")["logStreams"]
    return {s["logStreamName"].split("/", 1)[1].rsplit("-", 1)[0]: [e["message"] for e in client.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=s["logStreamName"], startFromHead=True)["events"]]
        for s in found}  # fmt: skip


def archive(uri: str) -> dict[str, bytes]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def script_processes(job_name: str) -> list[psutil.Process]:
    """The processes still marked as the job's (host.MARK is their folder, named after the job)."""
    found = []
    for process in psutil.process_iter():
        try:
            if f"/{script_host.folder_prefix('training', job_name)}" in process.environ().get(script_host.MARK, ""):
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_a_script_trains_with_its_hyperparameters_and_its_model_is_the_jobs_artifact(aws_env, bucket):
    import pickle

    name = start(bucket, {"train.py": TRAIN_SCRIPT}, max_depth=3, eta=0.3, num_round=8, label="a b")
    job = ended(name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    streams = logs(name)
    lines = streams["algo-1"]
    assert any("Invoking user training script." in line for line in lines)
    # The container's command line: every hyperparameter but the SDK's own, decoded from JSON, in name order.
    arguments = json.loads(next(line for line in lines if line.startswith("arguments:")).split(":", 1)[1])
    assert arguments == ["--eta", "0.3", "--label", "a b", "--max_depth", "3", "--num_round", "8"]
    assert sum("validation-auc" in line for line in lines) == 8
    booster = pickle.loads(archive(job["ModelArtifacts"]["S3ModelArtifacts"])["xgboost-model"])
    assert booster.num_boosted_rounds() == 8
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    last = float([line for line in lines if "validation-auc" in line][-1].split("validation-auc:")[1].split()[0])
    assert final == {"validation:auc": pytest.approx(last)}, "the last value the job's MetricDefinitions found"


def test_a_script_sees_the_containers_layout_and_acts_as_the_jobs_role_only(aws_env, bucket, emulator, monkeypatch):
    # What the emulator's own process has must not reach a script: a variable of its own, the user's proxy.
    monkeypatch.setenv("VGSALES_TEST_SENTINEL", "emulator-only")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    name = start(bucket, {"probe.py": PROBE_SCRIPT}, program="probe.py", environment={"MY_SETTING": "on"}, eta=0.2)
    job = ended(name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    output_uri = job["ModelArtifacts"]["S3ModelArtifacts"].rsplit("/", 1)[0] + "/output.tar.gz"
    seen = json.loads(archive(output_uri)["seen.json"])
    assert archive(job["ModelArtifacts"]["S3ModelArtifacts"]) == {"model.txt": b"a model of my own"}
    assert seen["caller"] == "arn:aws:sts::123456789012:assumed-role/vgsales-test-sagemaker/SageMaker"
    assert seen["AWS_ACCESS_KEY_ID"].startswith("ASIA") and seen["AWS_ACCESS_KEY_ID"] != emulator.credentials.access_key_id
    assert seen["vgsales_importable"] is False, "the project's own package is not on a script's path"
    assert "VGSALES_TEST_SENTINEL" not in seen
    assert seen["HTTPS_PROXY"] == emulator.proxy_url, "the emulator's proxy for AWS hostnames, not the user's"
    assert emulator.credentials.secret_access_key not in json.dumps(seen)
    assert seen["MY_SETTING"] == "on", "CreateTrainingJob's Environment reaches the script"
    assert job["Environment"] == {"MY_SETTING": "on"}
    assert seen["HOME"].startswith(seen["cwd"].rsplit("/algo-1/", 1)[0]), "a home of the job's own"
    assert json.loads(seen["SM_HOSTS"]) == ["algo-1"] and seen["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(seen["SM_CHANNELS"]) == ["train", "validation"]
    assert seen["SM_CHANNEL_TRAIN"].endswith("/algo-1/input/data/train") and seen["SM_MODEL_DIR"].endswith("/algo-1/model")
    assert json.loads(seen["SM_HPS"]) == {"eta": 0.2} and seen["SM_HP_ETA"] == "0.2"
    assert seen["SM_USER_ENTRY_POINT"] == "probe.py" and seen["SM_MODULE_NAME"] == "probe"
    assert seen["cwd"].endswith("/algo-1/code")
    assert seen["tmpdir"].startswith(seen["cwd"].rsplit("/algo-1/", 1)[0]), "a /tmp of the job's own, gone with it"
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final == {"validation:auc": 0.75}, "the last of two lines, not the first"
    # The job's session ends with the job: its key is refused afterwards.
    sts = boto3.client("sts", aws_access_key_id=seen["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=seen["AWS_SECRET_ACCESS_KEY"], aws_session_token=seen["AWS_SESSION_TOKEN"])
    with pytest.raises(ClientError):
        sts.get_caller_identity()
    assert not script_processes(name)


def test_two_hosts_join_the_collective_and_share_the_data(aws_env, bucket):
    name = start(bucket, {"train.py": TRAIN_SCRIPT}, instances=2, distribution="ShardedByS3Key",
                 max_depth=3, eta=0.3, num_round=5)
    job = ended(name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    streams = logs(name)
    assert set(streams) == {"algo-1", "algo-2"}
    # Both ran the script and joined one collective, algo-2 as rank 1; XGBoost prints the evaluation on rank 0 only.
    assert any(line.startswith("arguments:") for line in streams["algo-2"])
    assert any(line.endswith("Task 1 got rank 1") for line in streams["algo-2"]), streams["algo-2"][-5:]
    assert sum("validation-auc" in line for line in streams["algo-1"]) == 5
    assert not any("validation-auc" in line for line in streams["algo-2"])
    assert "xgboost-model" in archive(job["ModelArtifacts"]["S3ModelArtifacts"])


def test_a_host_that_never_joins_the_collective_fails_the_job_with_the_reason(aws_env, bucket):
    lonely = TRAIN_SCRIPT.replace('if __name__ == "__main__":', 'if os.environ["SM_CURRENT_HOST"] == "algo-2":\n    sys.exit(0)\n\nif __name__ == "__main__":')
    name = start(bucket, {"train.py": lonely}, instances=2, distribution="ShardedByS3Key", max_depth=3, eta=0.3, num_round=5)
    job = ended(name, timeout=60)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: host algo-2 exited without joining XGBoost's collective, "
                                           "which algo-1 waited for"), job["FailureReason"]
    assert not script_processes(name)


def test_a_crashing_script_fails_the_job_with_what_the_container_reports(aws_env, bucket):
    name = start(bucket, {"train.py": "raise ValueError('no good data here')\n"})
    job = ended(name)
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError"), reason
    assert "-m train" in reason
    assert any("ValueError: no good data here" in line for line in logs(name)["algo-1"])


def test_a_script_past_its_runtime_is_stopped_and_leaves_no_process(aws_env, bucket):
    name = start(bucket, {"train.py": "import time\nprint('started', flush=True)\ntime.sleep(120)\n"}, runtime=3)
    job = ended(name, timeout=60)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert any(line == "started" for line in logs(name)["algo-1"])
    assert not script_processes(name)


def test_stop_training_job_ends_the_script(aws_env, bucket):
    name = start(bucket, {"train.py": "import time\nprint('started', flush=True)\ntime.sleep(120)\n"})
    wait_until(lambda: any(line == "started" for line in logs(name).get("algo-1", [])), timeout=60,
               message="the script to start")
    boto3.client("sagemaker").stop_training_job(TrainingJobName=name)
    job = ended(name, timeout=30)
    assert job["TrainingJobStatus"] == "Stopped"
    assert not script_processes(name)


def test_a_script_that_saves_no_model_completes_and_uploads_none_as_on_sagemaker(aws_env, bucket):
    """SageMaker completes the job and uploads nothing (aws/sagemaker-python-sdk#608, #3455): a deploy of it then
    fails to download the model, not the training job."""
    name = start(bucket, {"train.py": "print('nothing to save')\n"})
    job = ended(name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    bucket_name, key = uri.removeprefix("s3://").split("/", 1)
    with pytest.raises(ClientError, match="Not Found|NoSuchKey|404"):
        boto3.client("s3").head_object(Bucket=bucket_name, Key=key)
    assert any("No model artifact is saved under SM_MODEL_DIR" in line for line in logs(name)["algo-1"])


def test_requirements_go_into_the_jobs_own_environment(aws_env, bucket, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: numpy is satisfied from what the image has
    script = "import numpy\nprint('numpy', numpy.__version__)\n"
    done = ended(start(bucket, {"train.py": script, "requirements.txt": "numpy\n"}))
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    assert any("Requirement already satisfied: numpy" in line for line in logs(done["TrainingJobName"])["algo-1"])
    failed = ended(start(bucket, {"train.py": script, "requirements.txt": "vgsales-no-such-package==1.0\n"}))
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["FailureReason"].startswith("AlgorithmError: InstallModuleError")
    assert "vgsales-no-such-package" in failed["FailureReason"]


def test_a_role_that_may_not_read_the_code_fails_the_job(aws_env, bucket, make_role):
    """The code is fetched as the job's role, as the container downloads it with the role's credentials; the data
    next to it stays readable, so only the code is refused (a near miss: the same bucket, another prefix)."""
    role = make_role("vgsales-no-code", [
        {"Effect": "Allow", "Action": ["s3:*", "logs:*", "cloudwatch:PutMetricData"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/code-*"},
    ])
    job = ended(start(bucket, {"train.py": "print('never runs')\n"}, role=role))
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: Unable to download the training code s3://"), job["FailureReason"]
    assert not any(line == "never runs" for line in logs(job["TrainingJobName"])["algo-1"])


def test_what_script_mode_does_not_execute_is_refused_at_create(aws_env, bucket):
    sagemaker = boto3.client("sagemaker")
    request = dict(
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"}, RoleArn=ROLE,
        HyperParameters=sdk_hyperparameters("train.py", f"s3://{bucket}/code/sourcedir.tar.gz"),
        InputDataConfig=channels(bucket), OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    with pytest.raises(ClientError, match="CheckpointConfig for a script-mode training job is not executed"):
        sagemaker.create_training_job(TrainingJobName=f"script-{uuid.uuid4().hex[:8]}", **request,
                                      CheckpointConfig={"S3Uri": f"s3://{bucket}/checkpoints"})
    piped = {**request, "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "Pipe"}}
    with pytest.raises(ClientError, match="TrainingInputMode Pipe for a script-mode training job is not executed"):
        sagemaker.create_training_job(TrainingJobName=f"script-{uuid.uuid4().hex[:8]}", **piped)
    with pytest.raises(ClientError, match="EnableNetworkIsolation for a script-mode training job is not executed"):
        sagemaker.create_training_job(TrainingJobName=f"script-{uuid.uuid4().hex[:8]}", **request,
                                      EnableNetworkIsolation=True)


def tuning_request(bucket: str, objective: str = "validation:auc", early_stopping: str = "Off") -> dict:
    """What SDK v2's HyperparameterTuner sends for a framework estimator: the static hyperparameters JSON-encoded,
    the estimator's metric definitions, the tuned values as plain strings."""
    return dict(
        HyperParameterTuningJobName=f"script-tune-{uuid.uuid4().hex[:8]}",
        HyperParameterTuningJobConfig={
            "Strategy": "Random", "TrainingJobEarlyStoppingType": early_stopping,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": objective},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}]},
        },
        TrainingJobDefinition={
            "StaticHyperParameters": sdk_hyperparameters("train.py", upload_code(bucket, {"train.py": TRAIN_SCRIPT}),
                                                         num_round=6, max_depth=3),
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File", "MetricDefinitions": [AUC_DEFINITION]},
            "RoleArn": ROLE, "InputDataConfig": channels(bucket), "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )  # fmt: skip


def test_a_tuning_job_tunes_a_script_on_the_metric_its_logs_print(aws_env, bucket):
    sagemaker = boto3.client("sagemaker")
    request = tuning_request(bucket)
    sagemaker.create_hyper_parameter_tuning_job(**request)
    name = request["HyperParameterTuningJobName"]

    def done() -> dict | None:
        job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        return job if job["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped") else None

    tuning = wait_until(done, timeout=120, message=f"tuning job {name} to end")
    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning.get("FailureReason")
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 2
    scores = {}
    for child in sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobSummaries"]:
        lines = [line for line in logs(child["TrainingJobName"])["algo-1"] if "validation-auc" in line]
        scores[child["TrainingJobName"]] = float(lines[-1].split("validation-auc:")[1].split()[0])
        assert child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(scores[child["TrainingJobName"]])
    best = tuning["BestTrainingJob"]
    assert scores[best["TrainingJobName"]] == max(scores.values()), scores  # two jobs may tie
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize", "MetricName": "validation:auc", "Value": pytest.approx(max(scores.values()))}


def test_a_script_tuning_job_is_refused_for_what_it_cannot_measure(aws_env, bucket):
    sagemaker = boto3.client("sagemaker")
    with pytest.raises(ClientError, match="Provide a metric in the metric definitions. The training job definition "
                                          "defines: validation:auc"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_request(bucket, objective="validation:rmse"))
    with pytest.raises(ClientError, match="TrainingJobEarlyStoppingType Auto for a script-mode training job definition"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_request(bucket, early_stopping="Auto"))


def test_a_job_name_is_never_a_path(aws_env, bucket):
    """moto checks no name pattern, and a job's folder is named after the job: what is not a letter, a digit or a
    hyphen becomes a hyphen, so that '../' cannot put the folder outside the emulator's own."""
    name = f"escape/../../../x-{uuid.uuid4().hex[:6]}"
    job = ended(start(bucket, {"probe.py": PROBE_SCRIPT}, program="probe.py", name=name))
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    seen = json.loads(archive(job["ModelArtifacts"]["S3ModelArtifacts"].rsplit("/", 1)[0] + "/output.tar.gz")["seen.json"])
    root = script_host.current_host().root.resolve()
    assert Path(seen["cwd"]).resolve().is_relative_to(root), seen["cwd"]
    assert Path(seen["cwd"]).relative_to(root).parts[0].startswith("training-escape----------x-"), seen["cwd"]


def test_an_environment_sagemaker_would_refuse_is_refused_at_create(aws_env, bucket):
    for key in ("1BAD", "BAD-KEY", "K" * 513):  # a digit first; a valid start then a hyphen; one character too long
        with pytest.raises(ClientError, match="Member must satisfy regular expression pattern"):
            start(bucket, {"train.py": "pass\n"}, environment={key: "x"})
    with pytest.raises(ClientError, match="less than or equal to 512"):
        start(bucket, {"train.py": "pass\n"}, environment={"LONG": "x" * 513})
    with pytest.raises(ClientError, match="Member must have length less than or equal to 100"):
        start(bucket, {"train.py": "pass\n"}, environment={f"K{index}": "x" for index in range(101)})
    done = ended(start(bucket, {"train.py": "pass\n"},
                       environment={"_OK_1": "x" * 512, "K" * 512: "y", **{f"K{index}": "z" for index in range(98)}}))
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")


def test_a_channel_the_role_may_not_read_fails_the_job_as_sagemaker_says(aws_env, bucket, make_role):
    role = make_role("vgsales-no-validation", [
        {"Effect": "Allow", "Action": ["s3:*", "logs:*", "cloudwatch:PutMetricData"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/validation/*"},
    ])
    job = ended(start(bucket, {"train.py": "print('never runs')\n"}, role=role))
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "ClientError: " + download_denied(f"s3://{bucket}/validation/part-0.libsvm")


def test_a_code_archive_with_a_member_outside_its_folder_is_refused(aws_env, bucket):
    key = f"code-{uuid.uuid4().hex[:8]}/sourcedir.tar.gz"
    archive_ = sourcedir({"train.py": "print('never runs')\n", "../outside.py": "x = 1\n"})
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=archive_)
    name = f"script-{uuid.uuid4().hex[:10]}"
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name, RoleArn=ROLE, HyperParameters=sdk_hyperparameters("train.py", f"s3://{bucket}/{key}"),
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"}, InputDataConfig=channels(bucket),
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )  # fmt: skip
    job = ended(name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(f"ClientError: sagemaker_submit_directory s3://{bucket}/{key}: a member of "
                                           "the archive is refused"), job["FailureReason"]
    assert "outside.py" in job["FailureReason"]


@pytest.mark.parametrize(("keys", "refused"), [
    (["part-0", "sub/part-1"], None),
    (["a/../b"], "cannot be written"),
    (["train/.."], "cannot be written"),
    (["./x"], "cannot be written"),
    (["a//b"], "cannot be written"),
    ([""], "cannot be written"),
    (["a", "a/b"], "collides"),
    (["a/b", "a"], "collides"),
])
def test_where_an_objects_file_goes_under_its_channel(tmp_path, keys, refused):
    from vgsales.emulator.lifecycle import JobFailure
    from vgsales.emulator.script_mode.training import _write_under

    def write_all() -> None:
        for key in keys:
            _write_under(tmp_path, key, b"data", "train")

    if refused is None:
        write_all()
        assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted(keys)
    else:
        with pytest.raises(JobFailure, match=refused):
            write_all()


def test_what_a_script_starts_in_a_session_of_its_own_ends_with_the_job(aws_env, bucket):
    """A process group's end does not reach a child that left the group (setsid); the job's mark does."""
    script = textwrap.dedent('''
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        print("child", child.pid, flush=True)
    ''')
    name = start(bucket, {"train.py": script})
    job = ended(name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    pid = int(next(line for line in logs(name)["algo-1"] if line.startswith("child ")).split()[1])
    wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
               timeout=10, message=f"the script's child {pid} to end")
    assert not script_processes(name)
