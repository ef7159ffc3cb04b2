"""Train, deploy, predict and clean up with boto3 alone, using its waiters, as CI code of another project would.

Nothing here knows about the local target. The stack's tag goes on what the code creates, as a team's tagging
rule would ask: it is what lets the stack's role create and use them. Arguments: the stack's bucket, its tag
value, the folder with train/validation/test libsvm files. Prints one JSON line.
"""

import json
import sys
import time

import boto3
import numpy as np

bucket, stack, data = sys.argv[1], sys.argv[2], sys.argv[3]
tags = [{"Key": "vgsales:stack", "Value": stack}]
region = boto3.Session().region_name
account = boto3.client("sts").get_caller_identity()["Account"]
role = boto3.client("sts").get_caller_identity()["Arn"]
role = "arn:aws:iam::{}:role/{}".format(account, role.split("/")[1])  # the session's role, as a notebook sees it
image = f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:3.2-0"
name = f"xgboost-boto3-{int(time.time())}"  # any name: the tag, not the name, makes it the stack's
fast = {"Delay": 1, "MaxAttempts": 120}  # boto's default training waiter polls every 120 s

s3 = boto3.client("s3")
for channel in ("train", "validation"):
    s3.upload_file(f"{data}/{channel}.libsvm", bucket, f"boto3/{channel}/{channel}.libsvm")
sagemaker = boto3.client("sagemaker")
sagemaker.create_training_job(
    TrainingJobName=name,
    AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
    RoleArn=role,
    HyperParameters={"max_depth": "3", "eta": "0.1", "eval_metric": "auc", "scale_pos_weight": "2.0",
                     "subsample": "0.5", "objective": "binary:logistic", "num_round": "100"},
    InputDataConfig=[
        {"ChannelName": channel, "ContentType": "text/libsvm",
         "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/boto3/{channel}/",
                                         "S3DataDistributionType": "FullyReplicated"}}}
        for channel in ("train", "validation")
    ],
    OutputDataConfig={"S3OutputPath": f"s3://{bucket}/boto3/output"},
    ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
    Tags=tags,
)
sagemaker.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig=fast)
job = sagemaker.describe_training_job(TrainingJobName=name)
artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
metrics = {item["MetricName"]: item["Value"] for item in job.get("FinalMetricDataList", [])}

sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": image, "ModelDataUrl": artifact},
                       Tags=tags)
sagemaker.create_endpoint_config(EndpointConfigName=name, Tags=tags, ProductionVariants=[
    {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)
sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=fast)
runtime = boto3.client("sagemaker-runtime")
lines = open(f"{data}/test.libsvm").read().splitlines()
labels = np.array([float(line.split(" ", 1)[0]) for line in lines])
scores = []
for start in range(0, len(lines), 100):
    body = "\n".join(line.split(" ", 1)[1] for line in lines[start:start + 100])
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/libsvm", Body=body)["Body"].read()
    scores.extend(float(value) for value in answer.decode().replace("\n", ",").strip(",").split(","))
sagemaker.delete_endpoint(EndpointName=name)
sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=fast)
sagemaker.delete_endpoint_config(EndpointConfigName=name)
sagemaker.delete_model(ModelName=name)
accuracy = float(np.mean((np.array(scores) > 0.5) == labels))
print(json.dumps({"status": job["TrainingJobStatus"], "model_data": artifact, "metrics": metrics,
                  "rows": len(scores), "accuracy": accuracy, "role": role}))
