"""`invoke notebook`: the console's **Open JupyterLab**, from the command line, on either target.

The console's button calls CreatePresignedNotebookInstanceUrl and opens the URL it returns; so does this, with the
same credentials every task uses. On AWS the URL opens the instance's JupyterLab; on the local target, the
emulator's instance (a JupyterLab on loopback that the lifecycle configuration prepared, emulator/notebooks.py).
Either way the URL signs in once, within 5 minutes.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..context import Context
from ..errors import WorkshopError
from ..records import StackRecord


def presigned_url(ctx: Context) -> str:
    """A URL that opens the stack's notebook instance in a browser; a WorkshopError says why there is none."""
    state = ctx.state
    record = state.read(StackRecord) if state.has(StackRecord) else None
    if record is None or not record.notebook_instance_name:
        raise WorkshopError(
            "This stack has no notebook instance: run `invoke setup` (with terraform.create_notebook_instance "
            "true, the default) first."
        )
    name = record.notebook_instance_name
    sagemaker = ctx.aws.client("sagemaker")
    try:
        described = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
    except ClientError as exc:
        raise WorkshopError(f"The notebook instance {name} cannot be described: {exc}. Run `invoke setup` again.") from None
    status = described["NotebookInstanceStatus"]
    if status != "InService":
        advice = {
            "Pending": "It is starting: try again in a moment.",
            "Stopped": f"Start it first: `aws sagemaker start-notebook-instance --notebook-instance-name {name}`.",
            "Failed": f"It failed: {described.get('FailureReason', 'no reason given')}. `invoke setup` again "
                      "recreates it after `invoke teardown`.",
        }.get(status, "Wait until it is InService.")
        raise WorkshopError(f"The notebook instance {name} is {status}, not InService. {advice}")
    return str(sagemaker.create_presigned_notebook_instance_url(NotebookInstanceName=name)["AuthorizedUrl"])
