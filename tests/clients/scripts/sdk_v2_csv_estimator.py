"""SageMaker SDK v2's Estimator on CSV data and a 1.7-1 image, with CSVSerializer, as AWS's XGBoost samples write it:
the training CSV has the label first and no header, predictions come back as text and are split on newlines.

Nothing here knows about the local target: it runs unchanged on AWS, with the SDK's own names. Arguments: the folder
of the train, validation and test libsvm files (turned into CSV here, as a sample prepares its data with pandas).
Prints one JSON line.
"""

import json
import sys

import numpy as np
import pandas as pd
import sagemaker
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer


def frame(path):
    """A libsvm file as a dense frame, label first (absent features are 0 here, as a CSV writer would leave them)."""
    rows = []
    for line in open(path).read().splitlines():
        label, *pairs = line.split()
        row = {0: float(label)}
        row.update({int(index) + 1: float(value) for index, value in (pair.split(":") for pair in pairs)})
        rows.append(row)
    return pd.DataFrame(rows).fillna(0.0).sort_index(axis=1)


folder = sys.argv[1]
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-csv"
train, validation, test = (frame(f"{folder}/{name}.libsvm") for name in ("train", "validation", "test"))
columns = sorted(set(train.columns) | set(validation.columns) | set(test.columns))
train, validation, test = (part.reindex(columns=columns, fill_value=0.0) for part in (train, validation, test))
train.to_csv("train.csv", header=False, index=False)
validation.to_csv("validation.csv", header=False, index=False)
session.upload_data("train.csv", bucket=bucket, key_prefix=f"{prefix}/train")
session.upload_data("validation.csv", bucket=bucket, key_prefix=f"{prefix}/validation")

container = sagemaker.image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1")
xgb = sagemaker.estimator.Estimator(
    container,
    sagemaker.get_execution_role(),
    instance_count=1,
    instance_type="ml.m5.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=session,
)
xgb.set_hyperparameters(objective="binary:logistic", num_round=100, max_depth=3, eta=0.1, subsample=0.5,
                        scale_pos_weight=2.0, eval_metric="auc")
xgb.fit({
    "train": TrainingInput(f"s3://{bucket}/{prefix}/train", content_type="text/csv"),
    "validation": TrainingInput(f"s3://{bucket}/{prefix}/validation", content_type="text/csv"),
})

predictor = xgb.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge", serializer=CSVSerializer())
try:
    features = test.drop(columns=[0]).to_numpy()
    predictions = []
    for batch in np.array_split(features, 5):
        answer = predictor.predict(batch).decode("utf-8")
        predictions.extend(answer.split("\n")[:-1])  # one score per line, each line ending with "\n"
    scores = np.array(predictions, dtype=float)
    accuracy = float(np.mean((scores > 0.5) == test[0].to_numpy()))
finally:
    predictor.delete_endpoint()
print(json.dumps({"job": xgb.latest_training_job.name, "image": container, "rows": len(scores), "accuracy": accuracy}))
