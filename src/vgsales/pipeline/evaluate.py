"""`invoke evaluate`: score the held-out test split through the endpoint, as the workshop did."""

from __future__ import annotations

import sys
from pathlib import Path

from ..context import Context
from ..errors import Interrupted
from ..evaluation.metrics import evaluate_run, render_confusion_matrix, render_table
from ..evaluation.report import ModelOrigin
from ..evaluation.scoring import endpoint_invoker, progress_bar
from ..features import Manifest
from ..output import console
from ..records import DataRecord, EndpointRecord, EvaluationRecord, StackRecord, TrainingRecord
from .batch_transform import TransformScorer


def run(ctx: Context) -> EvaluationRecord:
    settings, state = ctx.settings, ctx.state
    data = state.read(DataRecord)
    training = state.read(TrainingRecord)
    manifest = Manifest.from_json(Path(data.manifest))
    via_transform = settings.evaluate.via == "transform"
    # Via an endpoint: `invoke deploy`'s, in batches of batch_size. Via a transform job: the whole split in one
    # job on the training record's model, with no endpoint at all.
    endpoint = None if via_transform else state.read(EndpointRecord)
    model = ModelOrigin(training.training_job_name, training.hyperparameters, training.tuning_job_name)
    if via_transform:
        scorer = TransformScorer(ctx, state.read(StackRecord), training)
        invoke, batch_size, concurrency, where = scorer, sys.maxsize, 1, {"transform job": scorer.job_name}
    else:
        invoke = endpoint_invoker(ctx.aws.client("sagemaker-runtime"), endpoint.endpoint_name)
        batch_size, concurrency = settings.evaluate.batch_size, settings.evaluate.concurrency
        where = {"endpoint": endpoint.endpoint_name}
    try:
        with progress_bar(console=console) as progress:
            evaluation = evaluate_run(
                Path(data.test_split),
                state.evaluation_dir,
                invoke,
                batch_size=batch_size,
                content_type=settings.evaluate.content_type,
                n_features=manifest.n_features,
                concurrency=concurrency,
                context={
                    "target": settings.target,
                    **where,
                    "training job": training.training_job_name,
                    **({"tuning job": f"{training.tuning_job_name} (its best training job)"} if training.tuning_job_name else {}),
                    "image": training.image,
                    "hyperparameters": training.hyperparameters,
                    "dataset sha256": manifest.sha256,
                },
                progress=progress,
                model=model,
            )
    except KeyboardInterrupt:
        if via_transform:
            raise Interrupted(scorer.stop_running()) from None
        raise
    console.print(model.describe())
    console.print(render_table(evaluation.metrics, model))
    console.print(render_confusion_matrix(evaluation.metrics))
    record = EvaluationRecord(run_dir=str(state.evaluation_dir), **{k: str(v) for k, v in vars(evaluation.outputs).items()})
    state.write(record)
    console.print(f"Evaluation written to [bold]{state.evaluation_dir}[/bold]")
    return record
