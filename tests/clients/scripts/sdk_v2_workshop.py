"""The AWS workshop notebook's flow, written as a learner would for a notebook instance, with SageMaker SDK v2.

Nothing here knows about the local target: it runs unchanged on AWS. The test runs it with only the
environment that `invoke emulator.env` prints. Arguments: the held-out test split (libsvm) and the folder of
the train and validation files. Prints one JSON line.

Nothing differs from the AWS notebook's calls: the SDK names the job, model and endpoint after the image
("xgboost-<time>"), and the SDK config that `emulator.env` writes (on AWS: the notebook instance's start script)
tags each with the stack's tag, which is what lets the stack's execution role create and use them.
"""

import json
import sys

import boto3
import numpy as np
import sagemaker
from sagemaker.deserializers import CSVDeserializer
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import LibSVMSerializer

test_split = sys.argv[1]
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-workshop"
role = sagemaker.get_execution_role()
region = boto3.Session().region_name

s3 = boto3.client("s3")
for channel in ("train", "validation"):
    s3.upload_file(f"{sys.argv[2]}/{channel}.libsvm", bucket, f"{prefix}/{channel}/{channel}.libsvm")

container = sagemaker.image_uris.retrieve("xgboost", region, "latest")
xgb = sagemaker.estimator.Estimator(
    container,
    role,
    instance_count=1,
    instance_type="ml.m4.xlarge",
    volume_size=10,
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=session,
)
xgb.set_hyperparameters(max_depth=3, eta=0.1, eval_metric="auc", scale_pos_weight=2.0, subsample=0.5,
                        objective="binary:logistic", num_round=100)
xgb.fit({
    "train": TrainingInput(f"s3://{bucket}/{prefix}/train", content_type="libsvm"),
    "validation": TrainingInput(f"s3://{bucket}/{prefix}/validation", content_type="libsvm"),
}, logs=False)

predictor = xgb.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge",
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
finally:
    predictor.delete_endpoint()

artifact = xgb.model_data
print(json.dumps({"role": role, "bucket": bucket, "image": container, "model_data": artifact,
                  "job": xgb.latest_training_job.name, "endpoint": predictor.endpoint_name,
                  "rows": len(scores), "accuracy": accuracy}))
