"""A hyperparameter tuning job, then an endpoint of its best training job, with boto3 alone on a 1.5-1 image, as
AWS's boto3 samples write it: names stamped with the time, a tuning job polled until it ends, the best job's
artifact deployed, predictions split on newlines, everything deleted.

Nothing here knows about the local target. The stack's tag goes on what the code creates, as a team's tagging
rule would ask, and is what lets the stack's role create resources named as the code likes. Arguments: the
stack's bucket, its tag value, the folder with train/validation/test libsvm files. Prints one JSON line.
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
image = f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.5-1"
tuning_job = "xgb-tuning-" + time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())

s3 = boto3.client("s3")
for channel in ("train", "validation"):
    s3.upload_file(f"{data}/{channel}.libsvm", bucket, f"boto3-tuning/{channel}/{channel}.libsvm")
sagemaker = boto3.client("sagemaker")
sagemaker.create_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=tuning_job,
    HyperParameterTuningJobConfig={
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}],
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "6"}],
        },
    },
    TrainingJobDefinition={
        "StaticHyperParameters": {"objective": "binary:logistic", "num_round": "50", "eval_metric": "auc",
                                  "scale_pos_weight": "2.0"},
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": role,
        "InputDataConfig": [
            {"ChannelName": channel, "ContentType": "libsvm",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/boto3-tuning/{channel}",
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/boto3-tuning/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    },
    Tags=tags,
)
while True:
    tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
    if tuning["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping"):
        break
    time.sleep(1)
best = tuning["BestTrainingJob"]["TrainingJobName"]
artifact = sagemaker.describe_training_job(TrainingJobName=best)["ModelArtifacts"]["S3ModelArtifacts"]

fast = {"Delay": 1, "MaxAttempts": 120}
sagemaker.create_model(ModelName=best, ExecutionRoleArn=role, PrimaryContainer={"Image": image, "ModelDataUrl": artifact},
                       Tags=tags)
sagemaker.create_endpoint_config(EndpointConfigName=best, Tags=tags, ProductionVariants=[
    {"VariantName": "AllTraffic", "ModelName": best, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
sagemaker.create_endpoint(EndpointName=best, EndpointConfigName=best, Tags=tags)
sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=best, WaiterConfig=fast)
runtime = boto3.client("sagemaker-runtime")
lines = open(f"{data}/test.libsvm").read().splitlines()
labels = np.array([float(line.split(" ", 1)[0]) for line in lines])
scores = []
for start in range(0, len(lines), 100):
    body = "\n".join(line.split(" ", 1)[1] for line in lines[start:start + 100])
    answer = runtime.invoke_endpoint(EndpointName=best, ContentType="text/libsvm", Body=body)["Body"].read()
    scores.extend(float(value) for value in answer.decode("utf-8").split("\n")[:-1])
sagemaker.delete_endpoint(EndpointName=best)
sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=best, WaiterConfig=fast)
sagemaker.delete_endpoint_config(EndpointConfigName=best)
sagemaker.delete_model(ModelName=best)
print(json.dumps({"tuning_job": tuning_job, "status": tuning["HyperParameterTuningJobStatus"], "best": best,
                  "completed": tuning["TrainingJobStatusCounters"]["Completed"], "rows": len(scores),
                  "accuracy": float(np.mean((np.array(scores) > 0.5) == labels))}))
