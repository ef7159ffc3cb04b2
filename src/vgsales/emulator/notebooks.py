"""The SageMaker backend's notebook instances, run for real (notebook_instances.py runs them; compat/sagemaker.py
keeps their records as AWS answers them).

Statuses follow what happens: CreateNotebookInstance and StartNotebookInstance are Pending until the lifecycle
scripts have run and JupyterLab answers, then InService, or Failed with the reason; StopNotebookInstance is
Stopping until every process of the instance has ended, then Stopped; DeleteNotebookInstance (of a Stopped or
Failed instance, as on AWS) removes its folder and volume. Transitions AWS refuses are refused with its message.
"""

from __future__ import annotations

import logging
import threading

from moto.iam.exceptions import NotFoundException as RoleNotFound
from moto.iam.models import iam_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeSagemakerNotebookInstance
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from . import notebook_instances
from .backends import ServiceBackend
from .compat.sagemaker import PRESIGNED_URL_SECONDS, NotebookBackend, require_status
from .notebook_instances import Instance, InstanceFailure, Launch
from .role_access import RoleUnavailable
from .shapes import MotoArguments

log = logging.getLogger(__name__)

# A start or stop that ends this quickly has ended when its call returns, so that a client's first describe sees
# InService or Stopped: Terraform's waiters back off exponentially (to 10 s between polls), and a local start
# takes 2 to 4 s. A longer one goes on in the background, Pending or Stopping meanwhile, as on AWS (where a start
# takes minutes). The same rule as lifecycle.QUICK_JOB_SECONDS for jobs.
QUICK_SECONDS = 6.0


class NotebookRunBackend(NotebookBackend, ServiceBackend):
    """Notebook instances whose status is what their JupyterLab does."""

    def reset(self) -> None:
        # BaseBackend.reset drops the records; the instances' processes and folders go first.
        for notebook in list(self.notebook_instances.values()):
            instance = notebook_instances.unregister(notebook.arn)
            if instance is not None:
                instance.delete()
        super().reset()

    def create_notebook_instance(self, notebook_instance_name: str, **request: MotoArguments) -> FakeSagemakerNotebookInstance:  # type: ignore[override]
        notebook = super().create_notebook_instance(notebook_instance_name, **request)
        self._launch(notebook, first_start=True)
        return notebook

    def start_notebook_instance(self, notebook_instance_name: str) -> None:
        notebook = self.get_notebook_instance(notebook_instance_name)
        require_status(notebook, ("Stopped", "Failed"), "Pending")
        self._launch(notebook, first_start=False)

    def stop_notebook_instance(self, notebook_instance_name: str) -> None:
        notebook = self.get_notebook_instance(notebook_instance_name)
        require_status(notebook, ("InService",), "Stopping")
        notebook.status = "Stopping"
        instance = notebook_instances.running(notebook.arn)

        def stop() -> None:
            try:
                if instance is not None:
                    instance.stop()
            finally:
                notebook.status = "Stopped"

        stopping = threading.Thread(target=stop, name=f"notebook-stop-{notebook_instance_name}", daemon=True)
        stopping.start()
        stopping.join(QUICK_SECONDS)

    def delete_notebook_instance(self, notebook_instance_name: str) -> None:
        notebook = self.get_notebook_instance(notebook_instance_name)
        super().delete_notebook_instance(notebook_instance_name)  # moto's check: Stopped or Failed only
        instance = notebook_instances.unregister(notebook.arn)
        if instance is not None:
            instance.delete()

    def presigned_notebook_instance_url(self, notebook_instance_name: str, seconds: int | None) -> str:
        notebook = self.get_notebook_instance(notebook_instance_name)
        low, high = PRESIGNED_URL_SECONDS
        if seconds is not None and not low <= int(seconds) <= high:
            raise ValidationError(
                message=f"1 validation error detected: Value '{seconds}' at 'sessionExpirationDurationInSeconds' "
                f"failed to satisfy constraint: Member must have value between {low} and {high}"
            )
        instance = notebook_instances.running(notebook.arn)
        if notebook.status != "InService" or instance is None:
            # The emulator's own refusal: a URL to an instance that serves nothing would open nothing.
            raise ValidationError(
                message=f"Notebook Instance {notebook.arn} is {notebook.status}, not InService: it serves no "
                "JupyterLab to sign in to. Start it (StartNotebookInstance) and wait for InService."
            )
        return instance.presign(int(seconds) if seconds is not None else None)

    # --- a start, in the background -------------------------------------------------------------------
    def _launch(self, notebook: FakeSagemakerNotebookInstance, first_start: bool) -> None:
        notebook.status = "Pending"
        notebook.failure_reason = None
        host = notebook_instances.current_host()
        if host is None:
            self._fail(notebook, "This emulator runs no notebook instances: it was started without a notebook host "
                                 "(moto in process, without the emulator's server).")
            return
        try:
            launch = self._gather(notebook, first_start)
        except (InstanceFailure, RoleUnavailable) as failure:
            self._fail(notebook, str(failure))
            return
        except Exception as error:  # an emulator bug fails the instance, never leaves it Pending
            log.exception("notebook instance %s could not be prepared", notebook.notebook_instance_name)
            self._fail(notebook, f"InternalFailure: the emulator could not start the instance ({error}).")
            return
        found = notebook_instances.running(notebook.arn)
        instance = found if found is not None and found.host is host else Instance(host, notebook.arn, notebook.notebook_instance_name)
        notebook_instances.register(instance)
        instance.begin()

        def run() -> None:
            reason = None
            try:
                instance.start(launch)
            except InstanceFailure as failure:
                reason = str(failure)
            except Exception as error:  # an emulator bug fails the instance, never leaves it Pending
                log.exception("notebook instance %s failed to start", notebook.notebook_instance_name)
                reason = f"InternalFailure: the emulator could not start the instance ({error})."
            if reason is None:
                notebook.status = "InService"
                return
            try:
                instance.stop()
            finally:
                self._fail(notebook, reason)

        starting = threading.Thread(target=run, name=f"notebook-{notebook.notebook_instance_name}", daemon=True)
        starting.start()
        starting.join(QUICK_SECONDS)

    def _gather(self, notebook: FakeSagemakerNotebookInstance, first_start: bool) -> Launch:
        """What the start needs from the records and from IAM, read in the request's thread (moto's backend
        lookups take its global lock: backends.ServiceAccess)."""
        partition = get_partition(self.region_name)
        try:
            iam_backends[self.account_id][partition].get_role_by_arn(notebook.role_arn)
        except RoleNotFound:
            raise RoleUnavailable(notebook.role_arn) from None
        session = sts_backends[self.account_id][partition].assume_role(
            region_name=self.region_name, role_session_name=notebook_instances.ROLE_SESSION_NAME,
            role_arn=notebook.role_arn, policy=None, duration=notebook_instances.ROLE_SESSION_SECONDS,
            external_id=None,
        )  # fmt: skip
        on_create = on_start = lifecycle_arn = None
        if notebook.lifecycle_config_name:
            config = self.notebook_instance_lifecycle_configurations.get(notebook.lifecycle_config_name)
            if config is None:
                raise InstanceFailure(f"Notebook Instance Lifecycle Config {notebook.lifecycle_config_name} does not exist.")
            on_create = (config.on_create or [{}])[0].get("Content")
            on_start = (config.on_start or [{}])[0].get("Content")
            lifecycle_arn = config.arn
        aws = self.aws()
        return Launch(
            arn=notebook.arn, name=notebook.notebook_instance_name, region=self.region_name,
            credentials=(session.access_key_id, session.secret_access_key, session.session_token),
            on_create=on_create, on_start=on_start, lifecycle_arn=lifecycle_arn, first_start=first_start,
            log_stream=lambda stream: aws.log_stream(notebook_instances.LOG_GROUP, stream),
        )  # fmt: skip

    @staticmethod
    def _fail(notebook: FakeSagemakerNotebookInstance, reason: str) -> None:
        notebook.failure_reason = reason
        notebook.status = "Failed"

