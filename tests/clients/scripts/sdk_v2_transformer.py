"""SageMaker SDK v2's batch transform, as its users write it: attach to a finished training job, make a
transformer, transform the held-out test split split by line, wait, read the output.

Nothing here knows about the local target: it runs unchanged on AWS. Arguments: the training job's name and the
test split (libsvm). Prints one JSON line.
"""

import json
import sys

import boto3
import numpy as np
import sagemaker
from sagemaker.estimator import Estimator

training_job, test_split = sys.argv[1], sys.argv[2]
session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-transformer"
boto3.client("s3").upload_file(test_split, bucket, f"{prefix}/input/test.libsvm")

estimator = Estimator.attach(training_job, sagemaker_session=session)
# The SDK's defaults: no assemble_with (AssembleWith None), no accept; the container ends each answer with a newline.
transformer = estimator.transformer(
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/{prefix}/output",
)
transformer.transform(f"s3://{bucket}/{prefix}/input/", content_type="text/libsvm", split_type="Line")
transformer.wait(logs=False)

output = boto3.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/output/test.libsvm.out")["Body"].read().decode()
scores = np.array([float(line) for line in output.splitlines()])
labels = np.array([float(line.split(" ", 1)[0]) for line in open(test_split).read().splitlines()])
job = session.sagemaker_client.describe_transform_job(TransformJobName=transformer.latest_transform_job.name)
print(json.dumps({"job": job["TransformJobName"], "status": job["TransformJobStatus"], "rows": len(scores),
                  "accuracy": float(np.mean((scores > 0.5) == labels)),
                  "seconds": (job["TransformEndTime"] - job["TransformStartTime"]).total_seconds()}))
