"""Train, deploy and predict with the SageMaker SDK v3's core resources (sagemaker-core), as its docs show.

Nothing here knows about the local target. sagemaker-core does not add the SDK config's default tags, so the code
passes the stack's tag itself, as a team's tagging rule would ask: it is what lets the stack's role create and use
these resources. Arguments: the folder with train/validation/test libsvm files, the stack's tag value. Prints one
JSON line. (v3's higher-level ModelTrainer lives in sagemaker-train, which pulls in 1.8 GB.)
"""

import json
import sys
import time

import boto3
import numpy as np
from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import Session, get_execution_role
from sagemaker.core.resources import Endpoint, EndpointConfig, Model, TrainingJob
from sagemaker.core.shapes import (
    AlgorithmSpecification,
    Channel,
    ContainerDefinition,
    DataSource,
    OutputDataConfig,
    ProductionVariant,
    ResourceConfig,
    S3DataSource,
    StoppingCondition,
)

data, stack = sys.argv[1], sys.argv[2]
tags = [{"key": "vgsales:stack", "value": stack}]  # each resource declares its own Tag model; a dict fits all
session = Session()
bucket = session.default_bucket()
role = get_execution_role(session)
region = session.boto_region_name
image = image_uris.retrieve("xgboost", region, "3.2-0")
name = f"vgsales-core-{int(time.time())}"
for channel in ("train", "validation"):
    boto3.client("s3").upload_file(f"{data}/{channel}.libsvm", bucket, f"core/{channel}/{channel}.libsvm")
job = TrainingJob.create(
    training_job_name=name,
    role_arn=role,
    algorithm_specification=AlgorithmSpecification(training_image=image, training_input_mode="File"),
    hyper_parameters={"max_depth": "3", "eta": "0.1", "eval_metric": "auc", "scale_pos_weight": "2.0",
                      "subsample": "0.5", "objective": "binary:logistic", "num_round": "100"},
    input_data_config=[
        Channel(channel_name=channel, content_type="text/libsvm", data_source=DataSource(
            s3_data_source=S3DataSource(s3_data_type="S3Prefix", s3_uri=f"s3://{bucket}/core/{channel}/",
                                        s3_data_distribution_type="FullyReplicated")))
        for channel in ("train", "validation")
    ],
    output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/core/output"),
    resource_config=ResourceConfig(instance_type="ml.m5.xlarge", instance_count=1, volume_size_in_gb=10),
    stopping_condition=StoppingCondition(max_runtime_in_seconds=3600),
    tags=tags,
)
job.wait(poll=1)
model = Model.create(model_name=name, execution_role_arn=role, tags=tags,
                     primary_container=ContainerDefinition(image=image, model_data_url=job.model_artifacts.s3_model_artifacts))
config = EndpointConfig.create(endpoint_config_name=name, tags=tags, production_variants=[
    ProductionVariant(variant_name="AllTraffic", model_name=name, initial_instance_count=1, instance_type="ml.m5.large")])
endpoint = Endpoint.create(endpoint_name=name, endpoint_config_name=name, tags=tags)
endpoint.wait_for_status("InService", poll=1)
lines = open(f"{data}/test.libsvm").read().splitlines()
labels = np.array([float(line.split(" ", 1)[0]) for line in lines])
scores = []
for start in range(0, len(lines), 100):
    body = "\n".join(line.split(" ", 1)[1] for line in lines[start:start + 100])
    answer = endpoint.invoke(body=body, content_type="text/libsvm").body.read()
    scores.extend(float(value) for value in answer.decode().replace("\n", ",").strip(",").split(","))
endpoint.delete()
endpoint.wait_for_delete(poll=1)
config.delete()
model.delete()
print(json.dumps({"role": role, "bucket": bucket, "model_data": job.model_artifacts.s3_model_artifacts,
                  "rows": len(scores), "accuracy": float(np.mean((np.array(scores) > 0.5) == labels))}))
