"""SageMaker SDK v2's HyperparameterTuner over the workshop's XGBoost estimator, as its users write it.

Nothing here knows about the local target: it runs unchanged on AWS. fit(), attach(), best_training_job(),
analytics().dataframe() and deploy(), then predictions on the held-out test split. Arguments: the test split
(libsvm) and the folder of the train and validation files. Prints one JSON line.

As in sdk_v2_workshop.py, the SDK chooses every name ("sagemaker-xgboost-<time>" for the tuning job, which
SageMaker's training jobs extend); the SDK config tags them with the stack's tag (a tuning job and its training
jobs take TrainingJob's tags), and the stack's execution role allows resources of any name that carry it.
"""

import json
import sys

import boto3
import numpy as np
import sagemaker
from sagemaker.deserializers import CSVDeserializer
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import LibSVMSerializer
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

test_split = sys.argv[1]
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-tuner"
role = sagemaker.get_execution_role()
region = boto3.Session().region_name

s3 = boto3.client("s3")
for channel in ("train", "validation"):
    s3.upload_file(f"{sys.argv[2]}/{channel}.libsvm", bucket, f"{prefix}/{channel}/{channel}.libsvm")

estimator = sagemaker.estimator.Estimator(
    sagemaker.image_uris.retrieve("xgboost", region, "1.7-1"),
    role,
    instance_count=1,
    instance_type="ml.m5.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=session,
)
estimator.set_hyperparameters(eval_metric="auc", scale_pos_weight=2.0, objective="binary:logistic", num_round=50)
tuner = HyperparameterTuner(
    estimator,
    objective_metric_name="validation:auc",
    hyperparameter_ranges={
        "max_depth": IntegerParameter(2, 8),
        "eta": ContinuousParameter(0.02, 0.4, scaling_type="Logarithmic"),
        "subsample": ContinuousParameter(0.5, 1.0),
    },
    max_jobs=4,
    max_parallel_jobs=2,
)
tuner.fit({
    "train": TrainingInput(f"s3://{bucket}/{prefix}/train", content_type="libsvm"),
    "validation": TrainingInput(f"s3://{bucket}/{prefix}/validation", content_type="libsvm"),
}, include_cls_metadata=False)

name = tuner.latest_tuning_job.name
best = tuner.best_training_job()
attached = HyperparameterTuner.attach(name, sagemaker_session=session)
frame = tuner.analytics().dataframe()
predictor = attached.deploy(initial_instance_count=1, instance_type="ml.m5.large",
                            serializer=LibSVMSerializer(), deserializer=CSVDeserializer())
try:
    lines = open(test_split).read().splitlines()
    labels = np.array([float(line.split(" ", 1)[0]) for line in lines])
    rows = [line.split(" ", 1)[1] if " " in line else "" for line in lines]
    scores = []
    for start in range(0, len(rows), 100):
        answer = predictor.predict("\n".join(rows[start:start + 100]))
        scores.extend(float(value) for row in answer for value in row)
    accuracy = float(np.mean((np.array(scores) > 0.5) == labels))
    # ROC AUC as the Mann-Whitney statistic: the chance that a hit scores above a non-hit (ties count half).
    hits, misses = np.array(scores)[labels == 1], np.array(scores)[labels == 0]
    auc = float(np.mean((hits[:, None] > misses[None, :]) + 0.5 * (hits[:, None] == misses[None, :])))
finally:
    predictor.delete_endpoint()

print(json.dumps({
    "tuning_job": name, "best": best, "attached_best": attached.best_training_job(),
    "attached_ranges": sorted(r["Name"] for kind in attached.hyperparameter_ranges().values() for r in kind),
    "jobs": sorted(frame["TrainingJobName"]), "best_in_frame": frame.sort_values("FinalObjectiveValue").iloc[-1]["TrainingJobName"],
    "frame_columns": sorted(frame.columns), "endpoint": predictor.endpoint_name, "rows": len(scores), "accuracy": accuracy, "auc": auc,
}))
