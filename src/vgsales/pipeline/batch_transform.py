"""Scoring the test split with a batch transform job instead of an endpoint (`workshop.evaluate.via: transform`).

The job runs on the training record's model (the one `invoke deploy` would serve) and needs no endpoint: on AWS
it bills only the job's instance minutes, and nothing is left running when it ends. `invoke evaluate` hands the
whole test split to it as one request body, in the evaluation's content type; the job splits it by line and
answers one score per line, which evaluation/scoring.py reads as it reads an endpoint's answer. The test split is
uploaded here, when evaluation needs it, never before.
"""

from __future__ import annotations

from sagemaker.core.resources import TransformJob
from sagemaker.core.shapes import (
    TransformDataSource,
    TransformInput,
    TransformOutput,
    TransformResources,
    TransformS3DataSource,
)
from sagemaker.core.utils.exceptions import FailedStatusError

from ..context import Context
from ..discovery import sdk_tags
from ..errors import WorkshopError
from ..output import library_displays_off, step
from ..records import StackRecord, TrainingRecord, run_name
from . import deploy, train
from .job_logs import TRANSFORM_LOG_GROUP, last_log_lines

EXTENSIONS = {"text/csv": "csv", "text/libsvm": "libsvm", "text/x-libsvm": "libsvm"}


class TransformScorer:
    """An ``invoke(body, content_type) -> (answer, content type)`` for evaluation, backed by transform jobs."""

    def __init__(self, ctx: Context, stack: StackRecord, training: TrainingRecord) -> None:
        self.ctx = ctx
        self.stack = stack
        self.training = training
        self.poll = max(1, int(ctx.target.poll_seconds))  # whole seconds: sagemaker-core's wait() takes an int
        self.job_name = run_name(ctx.settings.name_prefix, "transform")  # known before it runs, for the report
        self.started = False

    def __call__(self, body: bytes, content_type: str) -> tuple[bytes, str]:
        ctx, settings = self.ctx, self.ctx.settings
        if self.started:  # evaluation sends the whole split as one body: one job per evaluation
            raise WorkshopError("A transform scorer runs one job; evaluation asked for a second one.")
        model_name = deploy.ensure_model(ctx, self.stack, self.training)
        name = self.job_name
        self.started = True
        folder = f"{settings.data_prefix}/evaluation/{name}"
        file_name = f"test.{EXTENSIONS.get(content_type, 'libsvm')}"
        s3 = ctx.aws.client("s3")
        s3.put_object(Bucket=self.stack.bucket_name, Key=f"{folder}/input/{file_name}", Body=body)
        output = f"s3://{self.stack.bucket_name}/{folder}/output"
        with step(f"Transform job {name} ({settings.evaluate.transform_instance_type}, model {model_name})"):
            job = TransformJob.create(
                transform_job_name=name,
                model_name=model_name,
                transform_input=TransformInput(
                    data_source=TransformDataSource(s3_data_source=TransformS3DataSource(
                        s3_data_type="S3Prefix", s3_uri=f"s3://{self.stack.bucket_name}/{folder}/input/"
                    )),
                    content_type=content_type,
                    split_type="Line",
                ),
                transform_output=TransformOutput(s3_output_path=output, accept="text/csv", assemble_with="Line"),
                transform_resources=TransformResources(
                    instance_type=settings.evaluate.transform_instance_type, instance_count=1
                ),
                batch_strategy="MultiRecord",
                max_payload_in_mb=6,
                tags=sdk_tags(settings),
                session=ctx.aws.session,
                region=ctx.region,
            )
            try:
                with library_displays_off():  # the step's spinner is the one live display, not the SDK's wait panel
                    job.wait(poll=self.poll)
            except FailedStatusError:
                job.refresh()
                raise WorkshopError(self._failure(job)) from None
        answer = s3.get_object(Bucket=self.stack.bucket_name, Key=f"{folder}/output/{file_name}.out")["Body"].read()
        return answer, "text/csv"

    def _failure(self, job: TransformJob) -> str:
        lines = last_log_lines(self.ctx.aws.client("logs"), TRANSFORM_LOG_GROUP, job.transform_job_name, 10)
        tail = "\n".join(lines) or "(no log lines)"
        return (
            f"Transform job {job.transform_job_name} ended {job.transform_job_status}: {job.failure_reason}. Check the "
            f"model of training job {self.training.training_job_name}, then run `invoke evaluate` again. The last log "
            f"lines were:\n{tail}"
        )

    def stop_running(self) -> str:
        """Stop the job a Ctrl-C left behind; say what happened."""
        if not self.started:
            return "Interrupted before the transform job was created; nothing runs."
        name = self.job_name
        sagemaker = self.ctx.aws.client("sagemaker")
        return train.stop_after_interrupt(
            lambda: sagemaker.stop_transform_job(TransformJobName=name),
            f"transform job {name}",
            stopped="so it stops billing. Run `invoke evaluate` again to score the test split.",
            retry="`invoke evaluate`",
        )
