"""One job lifecycle for training, tuning and transform jobs: start, stop, end, and the registry that owns them.

A job runs in a thread of the emulator. JobRun holds what the three kinds share: the registry entry while it
runs, the thread, a stop request checked against the job's status under a lock, and the rule that a job always
ends (an emulator bug fails it, never leaves it InProgress). Each kind says what it runs (execute) and how it
ends (end_stopped, end_failed).

The registry lives on the SageMaker backend (JobBackend), so moto's reset, which calls reset() on every backend
(moto/core/base_backend.py, BackendDict.reset and BaseBackend.reset), halts every run and waits for it before the
backend's state is dropped: nothing keeps running against a backend that no longer exists.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta

from moto.core.utils import utcnow

from .backends import ServiceBackend
from .role_access import RoleUnavailable

log = logging.getLogger(__name__)

# A job that ends this quickly (the workshop's takes 0.2 s) has ended when its Create call returns, so a client's
# first describe already sees Completed or Failed: sagemaker-core's wait() polls in whole seconds and SDK v2
# sleeps before its first poll. A longer job goes on in the background, InProgress meanwhile, as on AWS.
# The same rule as hosting.LOAD_WAIT_SECONDS for endpoints.
QUICK_JOB_SECONDS = 2.0
# How long a reset waits for each run to notice its stop and end (a training round, a worker's grace period).
HALT_SECONDS = 30.0
# No job ends less than a second after it was created. AWS's samples name jobs with a time stamped to the second
# (strftime("%Y-%m-%d-%H-%M-%S")) and create the next job once one has ended: a job that ends within the second
# it started in hands its own name to the next one (ResourceInUse). On AWS a job takes minutes.
MINIMUM_JOB_SECONDS = 1.0


class JobFailure(Exception):
    """Ends a job as Failed; ``kind`` is ClientError (the user can fix it) or AlgorithmError."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self}"


class JobStopped(Exception):
    """Ends a job as Stopped, by its Stop call, its maximum runtime, or a reset."""


class JobRun(ABC):
    """One job executing in a thread of the emulator, registered with its backend's runs while it does."""

    kind = "job"  # "training", "tuning", "transform": the thread's name and the log's

    def __init__(self, registry: RunRegistry, arn: str, name: str, on_finish: Callable[[], None] | None = None) -> None:
        self.registry = registry
        self.arn = arn
        self.name = name
        self.on_finish = on_finish
        self.finished = threading.Event()  # set once the job has reached its final status
        self._lock = threading.Lock()
        self._stop_reason: str | None = None
        self._thread: threading.Thread | None = None
        self._halting = threading.Event()

    # --- control from request threads -------------------------------------------------------------------
    def start(self, wait: float = 0.0) -> None:
        """Run the job in a thread of its own; wait up to ``wait`` seconds for it to end."""
        self.registry.add(self)
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-job-{self.name}", daemon=True)
        self._thread.start()
        self._thread.join(wait)

    def request_stop(self, reason: str = "Stopped") -> None:
        """The Stop call: only a job InProgress stops; the refusal is each kind's own wording."""
        with self._lock:
            status = self.status()
            if status != "InProgress":
                raise self.not_stoppable(status)
            self._stop_reason = reason
            self.stopping()
        self.woken()

    def halt(self) -> None:
        """Stop whatever the job is doing, without a status check or an answer: the backend is going away."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = "Stopped"
        self._halting.set()
        self.woken()

    def join(self, timeout: float) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.finished.is_set() or thread is None

    def last_a_second(self, created: datetime) -> None:
        """Wait until the job is MINIMUM_JOB_SECONDS old before it ends (each kind calls this before it writes its
        final status, outside its lock, so that describes and stops go on meanwhile). A reset does not wait."""
        remaining = (created + timedelta(seconds=MINIMUM_JOB_SECONDS) - utcnow()).total_seconds()
        if remaining > 0:
            self._halting.wait(remaining)

    # --- what each kind says ----------------------------------------------------------------------------
    @abstractmethod
    def status(self) -> str:
        """The job's status as DescribeXJob reports it."""

    @abstractmethod
    def not_stoppable(self, status: str) -> Exception:
        """The error a Stop call gets for a job that is not InProgress."""

    @abstractmethod
    def stopping(self) -> None:
        """Record that the job is stopping (called under the lock)."""

    def woken(self) -> None:
        """Wake the job's thread after a stop, if it waits on something."""

    @abstractmethod
    def execute(self) -> None:
        """The job's work, ending it on success; raises JobStopped or JobFailure otherwise."""

    @abstractmethod
    def end_stopped(self) -> None: ...

    @abstractmethod
    def end_failed(self, reason: str) -> None: ...

    def crash_reason(self, error: Exception) -> str:
        return f"InternalServerError: {type(error).__name__}: {error}"

    # --- the thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.execute()
        except JobStopped:
            self.end_stopped()
        except JobFailure as failure:
            self.end_failed(failure.reason)
        except RoleUnavailable as missing:  # at whichever action the job took first without its role
            self.end_failed(f"ClientError: {missing}")
        except Exception as exc:  # an emulator bug must still end the job, never leave it InProgress
            log.exception("%s job %s crashed", self.kind, self.name)
            self.end_failed(self.crash_reason(exc))
        finally:
            self.registry.remove(self)
            self.finished.set()
            if self.on_finish is not None:
                self.on_finish()


class RunRegistry:
    """The runs of one backend, by job ARN."""

    def __init__(self) -> None:
        self._runs: dict[str, JobRun] = {}
        self._lock = threading.Lock()

    def add(self, run: JobRun) -> None:
        with self._lock:
            self._runs[run.arn] = run

    def remove(self, run: JobRun) -> None:
        with self._lock:
            if self._runs.get(run.arn) is run:
                del self._runs[run.arn]

    def get(self, arn: str) -> JobRun | None:
        with self._lock:
            return self._runs.get(arn)

    def running(self) -> list[JobRun]:
        with self._lock:
            return list(self._runs.values())

    def halt_all(self, timeout: float = HALT_SECONDS) -> None:
        """Stop every run and wait for each to end (its worker processes with it)."""
        runs = self.running()
        for run in runs:
            run.halt()
        deadline = time.monotonic() + timeout
        for run in runs:
            if not run.join(max(0.0, deadline - time.monotonic())):
                log.warning("%s job %s did not stop within %.0f s of a reset", run.kind, run.name, timeout)


class JobBackend(ServiceBackend):
    """moto's SageMaker backend, owning the runs of its jobs; moto's reset halts them first."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.runs = RunRegistry()

    def reset(self) -> None:
        # BaseBackend.reset drops __dict__ (this registry with it) and calls __init__ again.
        self.runs.halt_all()
        super().reset()
