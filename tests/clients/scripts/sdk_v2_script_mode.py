"""SageMaker SDK v2's XGBoost framework estimator in script mode, as AWS's script-mode samples write it: a training
script of our own (script_mode/train.py, with a requirements.txt), fit, deploy with the script's model_fn, a batch
transform, and XGBoostModel with an inference script of its own (script_mode/inference.py, a custom output_fn).

Nothing here knows about the local target: it runs unchanged on AWS, with the SDK's own names. Arguments: the folder
of the train, validation and test libsvm files. Prints one JSON line.
"""

import json
import os
import sys

import numpy as np
import sagemaker
from sagemaker.deserializers import JSONDeserializer
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import LibSVMSerializer
from sagemaker.xgboost import XGBoost, XGBoostModel

folder = sys.argv[1]
source_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "script_mode")
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-script-mode"
role = sagemaker.get_execution_role()
for channel in ("train", "validation", "test"):
    session.upload_data(f"{folder}/{channel}.libsvm", bucket=bucket, key_prefix=f"{prefix}/{channel}")

estimator = XGBoost(
    entry_point="train.py",
    source_dir=source_dir,
    framework_version="1.7-1",
    hyperparameters={"max_depth": 3, "eta": 0.1, "subsample": 0.5, "scale_pos_weight": 2.0, "num_round": 100},
    role=role,
    instance_count=1,
    instance_type="ml.m5.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    metric_definitions=[{"Name": "validation:auc", "Regex": r"validation-auc:([0-9\.]+)"}],
    sagemaker_session=session,
)
estimator.fit({
    "train": TrainingInput(f"s3://{bucket}/{prefix}/train", content_type="text/libsvm"),
    "validation": TrainingInput(f"s3://{bucket}/{prefix}/validation", content_type="text/libsvm"),
})
job = estimator.latest_training_job.describe()

rows = open(f"{folder}/test.libsvm").read().splitlines()
labels = np.array([float(row.split()[0]) for row in rows])
features = [" ".join(["0"] + row.split()[1:]) for row in rows]  # the label column is not the model's to see

predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge")
try:
    answers = [predictor.predict("\n".join(batch)) for batch in np.array_split(features, 4)]
    scores = np.array([float(value) for answer in answers for line in answer for value in line])
finally:
    predictor.delete_endpoint()

transformer = estimator.transformer(instance_count=1, instance_type="ml.m5.xlarge", accept="text/csv",
                                    output_path=f"s3://{bucket}/{prefix}/transform")
transformer.transform(f"s3://{bucket}/{prefix}/test/", content_type="text/libsvm", split_type="Line")
transformer.wait()
output_key = f"{prefix}/transform/test.libsvm.out"
transformed = session.read_s3_file(bucket, output_key).split()

model = XGBoostModel(model_data=estimator.model_data, role=role, entry_point="inference.py", source_dir=source_dir,
                     framework_version="1.7-1", sagemaker_session=session)
custom = model.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge", serializer=LibSVMSerializer(),
                      deserializer=JSONDeserializer())
try:
    custom_answer = custom.predict("\n".join(features[:5]), initial_args={"Accept": "application/json"})
finally:
    custom.delete_endpoint()

print(json.dumps({
    "job": job["TrainingJobName"],
    "program": json.loads(job["HyperParameters"]["sagemaker_program"]),
    "final_metrics": {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])},
    "model_data": estimator.model_data,
    "rows": len(scores),
    "accuracy": float(np.mean((scores > 0.5) == labels)),
    "transformed_rows": len(transformed),
    "transform_matches_endpoint": bool(np.allclose(np.array(transformed, dtype=float), scores, atol=1e-6)),
    "custom_answer": custom_answer,
    "endpoint_first_scores": scores[:5].tolist(),
}))
