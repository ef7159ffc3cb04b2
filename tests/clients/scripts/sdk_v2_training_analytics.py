"""The training curve of a finished job, read as AWS's sample notebooks read it: SageMaker SDK v2's
TrainingJobAnalytics(job, metric_names=[...]).dataframe(), which asks CloudWatch (GetMetricStatistics, namespace
/aws/sagemaker/TrainingJobs, dimension TrainingJobName) for what SageMaker published from the job's log lines.
Argument: the training job's name. Prints one JSON line.
"""

import json
import sys

import boto3
from sagemaker.analytics import TrainingJobAnalytics

job = sys.argv[1]
metric = "validation:auc"
frame = TrainingJobAnalytics(training_job_name=job, metric_names=[metric]).dataframe()
final = {
    m["MetricName"]: m["Value"]
    for m in boto3.client("sagemaker").describe_training_job(TrainingJobName=job)["FinalMetricDataList"]
}
print(json.dumps({"columns": sorted(frame.columns), "rows": len(frame), "metrics": sorted(set(frame["metric_name"])),
                  "values": [float(v) for v in frame["value"]], "final": final[metric]}))
