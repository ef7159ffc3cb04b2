"""`invoke evaluate`: score the held-out test split through the endpoint, as the workshop did."""

from __future__ import annotations

from pathlib import Path

import boto3

from .. import target
from ..cli.console import console
from ..evaluation.metrics import evaluate_run, render_confusion_matrix, render_table
from ..evaluation.scoring import progress_bar
from ..features import Manifest
from ..records import DataRecord, EndpointRecord, EvaluationRecord, TrainingRecord
from ..settings import Settings
from ..state import RunState


def run(settings: Settings) -> EvaluationRecord:
    state = RunState(settings)
    data = state.read(DataRecord)
    training = state.read(TrainingRecord)
    endpoint = state.read(EndpointRecord)
    manifest = Manifest.from_json(Path(data.manifest))
    name = endpoint.endpoint_name
    with target.activate(settings):
        runtime = boto3.client("sagemaker-runtime", region_name=settings.region)

        def invoke(body: bytes, content_type: str) -> tuple[bytes, str]:
            response = runtime.invoke_endpoint(EndpointName=name, ContentType=content_type, Body=body)
            return response["Body"].read(), response.get("ContentType", "text/csv")

        with progress_bar(console=console) as progress:
            evaluation = evaluate_run(
                Path(data.test_split),
                state.evaluation_dir,
                invoke,
                batch_size=settings.evaluate.batch_size,
                content_type=settings.evaluate.content_type,
                n_features=manifest.n_features,
                concurrency=settings.evaluate.concurrency,
                context={
                    "target": settings.target,
                    "endpoint": name,
                    "training job": training.training_job_name,
                    **({"tuning job": f"{training.tuning_job_name} (its best training job)"} if training.tuning_job_name else {}),
                    "image": training.image,
                    "hyperparameters": training.hyperparameters,
                    "dataset sha256": manifest.sha256,
                },
                progress=progress,
            )
    console.print(render_table(evaluation.metrics))
    console.print(render_confusion_matrix(evaluation.metrics))
    record = EvaluationRecord(run_dir=str(state.evaluation_dir), **{k: str(v) for k, v in vars(evaluation.outputs).items()})
    state.write(record)
    console.print(f"Evaluation written to [bold]{state.evaluation_dir}[/bold]")
    return record
