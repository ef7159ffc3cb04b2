"""SageMaker SDK v2's XGBoost framework estimator in script mode on two instances (the data sharded by S3 key, the
hosts joined by the container's rabit_run), and a HyperparameterTuner on the metric the script's logs print, as
AWS's samples write them. Arguments: the folder of the train and validation libsvm files. Prints one JSON line.
"""

import json
import os
import sys

import sagemaker
from sagemaker.inputs import TrainingInput
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner
from sagemaker.xgboost import XGBoost

folder = sys.argv[1]
source_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "script_mode")
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-script-hosts"
role = sagemaker.get_execution_role()

# Two objects per channel, so that each of two hosts gets one.
for channel in ("train", "validation"):
    lines = open(f"{folder}/{channel}.libsvm").read().splitlines()
    for part in range(2):
        name = f"{channel}-{part}.libsvm"
        with open(name, "w") as out:
            out.write("\n".join(lines[part::2]) + "\n")
        session.upload_data(name, bucket=bucket, key_prefix=f"{prefix}/{channel}")


def inputs(distribution):
    return {channel: TrainingInput(f"s3://{bucket}/{prefix}/{channel}", content_type="text/libsvm",
                                   distribution=distribution) for channel in ("train", "validation")}


def estimator(instance_count):
    return XGBoost(entry_point="train.py", source_dir=source_dir, framework_version="1.7-1",
                   hyperparameters={"max_depth": 3, "eta": 0.1, "num_round": 20}, role=role,
                   instance_count=instance_count, instance_type="ml.m5.xlarge",
                   output_path=f"s3://{bucket}/{prefix}/output", sagemaker_session=session)


distributed = estimator(2)
distributed.fit(inputs("ShardedByS3Key"))
distributed_job = distributed.latest_training_job.describe()

tuner = HyperparameterTuner(
    estimator(1),
    objective_metric_name="validation:auc",
    metric_definitions=[{"Name": "validation:auc", "Regex": r"validation-auc:([0-9\.]+)"}],
    hyperparameter_ranges={"eta": ContinuousParameter(0.05, 0.5)},
    max_jobs=2,
    max_parallel_jobs=2,
    # The SDK names a tuning job after the image and the minute (sagemaker/tuner.py, name_from_base(short=True)): a
    # second tuner on the same image in the same minute, such as another user's, would get ResourceInUse, on AWS too.
    base_tuning_job_name="sdk-v2-script-tuner",
)
tuner.fit(inputs("FullyReplicated"))
tuning = tuner.describe()
frame = tuner.analytics().dataframe()

print(json.dumps({
    "distributed_job": distributed_job["TrainingJobName"],
    "distributed_status": distributed_job["TrainingJobStatus"],
    "instances": distributed_job["ResourceConfig"]["InstanceCount"],
    "tuning_job": tuning["HyperParameterTuningJobName"],
    "tuning_status": tuning["HyperParameterTuningJobStatus"],
    "best": tuner.best_training_job(),
    "best_objective": tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    "objectives": sorted(frame["FinalObjectiveValue"].tolist()),
}))
