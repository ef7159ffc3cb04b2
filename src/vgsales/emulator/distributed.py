"""A training job with ResourceConfig.InstanceCount N > 1: N real worker processes joined by XGBoost's collective.

As on SageMaker, with the built-in container's rules (aws/sagemaker-xgboost-container, distributed.py and
algorithm_mode/train.py):
- hosts are algo-1 ... algo-N, each with its own log stream "<job>/algo-<i>-<epoch>";
- a channel with S3DataDistributionType ShardedByS3Key gives each host its share of the objects (the keys in
  order, dealt out in turn); FullyReplicated gives every host every object;
- a host without training data is left out with the container's warning ("Host algo-2 not being used for
  distributed training."); one host with data trains alone; none fails the job;
- the hosts with data join a RabitTracker that this emulator runs on loopback, and each runs
  ``python -m vgsales.emulator.worker`` (worker.py): the same algorithm code as a single-instance job, inside
  xgboost.collective.CommunicatorContext. The master (algo-1, rank 0) writes the model;
- every wait is bounded: a worker that dies (or exits with an error) stops the others and fails the job with
  its reason within WORKER_POLL_SECONDS; the tracker's bootstrap is bounded by TRACKER_TIMEOUT_SECONDS;
  StopTrainingJob and MaxRuntimeInSeconds stop the workers.

The hosts share this machine's cores, so each worker trains with ``nthread`` = cores // hosts unless the job sets
nthread itself; the trees do not depend on it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .worker import RESULT_MARK
from .shapes import Document

if TYPE_CHECKING:
    from .metrics import LogWriter
    from .training import TrainingRun

log = logging.getLogger(__name__)

TRACKER_TIMEOUT_SECONDS = 120
WORKER_POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 5


@dataclass
class Host:
    name: str  # algo-<i>
    index: int
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)  # channel -> (uri, content)

    @property
    def has_training_data(self) -> bool:
        return bool(self.files.get("train"))


def shares(uris: list[str], hosts: int, sharded: bool) -> list[list[str]]:
    """Each host's objects of one channel: ShardedByS3Key deals the keys out in turn, FullyReplicated gives all."""
    ordered = sorted(uris)
    return [ordered[index::hosts] if sharded else list(ordered) for index in range(hosts)]


@dataclass
class WorkerProcess:
    host: Host
    process: subprocess.Popen
    stream: LogWriter
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=20))
    result: Document | None = None
    readers: list[threading.Thread] = field(default_factory=list)

    def follow(self) -> None:
        """Copy the worker's output to its host's log stream as it comes; keep the result and stderr's tail."""

        def stdout() -> None:
            for line in self.process.stdout:  # type: ignore[union-attr]
                line = line.rstrip("\n")
                if line.startswith(RESULT_MARK):
                    self.result = json.loads(line[len(RESULT_MARK):])
                elif line:
                    self.stream.write([line])

        def stderr() -> None:
            for line in self.process.stderr:  # type: ignore[union-attr]
                line = line.rstrip("\n")
                if line:
                    self.stderr_tail.append(line)
                    self.stream.write([line])

        self.readers = [threading.Thread(target=target, daemon=True) for target in (stdout, stderr)]
        for reader in self.readers:
            reader.start()

    def reason(self) -> str:
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        last = next((line for line in reversed(self.stderr_tail) if line.strip()), "")
        return f"worker {self.host.name} {how}" + (f": {last}" if last else "")


@dataclass
class DistributedOutcome:
    """What the job needs from the run: the master's model archive and metrics, and what each host did."""

    model_archive: bytes | None
    final_metrics: dict[str, float]
    hosts: list[Document]
    stopped: bool


def run(job: TrainingRun, hosts: list[Host], data_format: str, hyperparameters: dict[str, str]) -> DistributedOutcome:
    """Train on the hosts that have data; raises training.JobFailure or training.JobStopped."""
    from xgboost.tracker import RabitTracker

    from .training import JobFailure, JobStopped

    included = [host for host in hosts if host.has_training_data]
    for host in hosts:
        if not host.has_training_data:
            job.log_on(host.index, f"Host {host.name} not being used for distributed training.", level="WARNING")
    if not included:
        raise JobFailure("ClientError", "No hosts received training data.")
    # 0700: the job's data, removed afterwards; named after the job, so its workers can be told apart.
    workdir = Path(tempfile.mkdtemp(prefix=f"vgsales-{job.job.training_job_name}-"))
    tracker = RabitTracker(n_workers=len(included), host_ip="127.0.0.1", port=0, sortby="task",
                           timeout=TRACKER_TIMEOUT_SECONDS)
    workers: list[WorkerProcess] = []
    try:
        tracker.start()
        arguments = tracker.worker_args()
        nthread = max(1, (os.cpu_count() or 1) // len(included))
        job.log_on(0, f"Distributed training on {len(included)} host(s): {', '.join(h.name for h in included)}; "
                      f"XGBoost's collective with a tracker at {arguments['dmlc_tracker_uri']}:{arguments['dmlc_tracker_port']}.")
        model_path = workdir / "xgboost-model.tar.gz"
        for rank, host in enumerate(included):
            spec_path = _write_spec(workdir, host, rank, arguments, data_format, hyperparameters, nthread, model_path,
                                    job.image_version)
            process = subprocess.Popen(
                [sys.executable, "-m", "vgsales.emulator.worker", str(spec_path)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workdir, env=_worker_env(),
            )
            worker = WorkerProcess(host, process, job.stream_of(host.index))
            worker.follow()
            workers.append(worker)
        stopped = _supervise(job, workers)
        if stopped:
            raise JobStopped()
        for worker in workers:
            for reader in worker.readers:
                reader.join(5)
        master = workers[0].result
        if master is None:
            raise JobFailure("AlgorithmError", f"{workers[0].reason()} without reporting a result")
        archive = model_path.read_bytes() if model_path.is_file() else None
        if archive is None:
            raise JobFailure("AlgorithmError", "the master host algo-1 did not write the model")
        return DistributedOutcome(archive, master["final_metrics"], [w.result or {} for w in workers], False)
    finally:
        for worker in workers:
            _terminate(worker.process)
        # The tracker reports the workers it lost (a killed or stopped one) when it is freed; the job's own
        # outcome is already decided above, so that report is only logged.
        for close in (lambda: tracker.wait_for(timeout=1), tracker.free):
            try:
                close()
            except Exception as exc:  # noqa: BLE001
                log.debug("tracker of %s: %s", job.job.training_job_name, str(exc).strip().splitlines()[:1])
        shutil.rmtree(workdir, ignore_errors=True)


def _supervise(job: TrainingRun, workers: list[WorkerProcess]) -> bool:
    """Wait for every worker; True if the job was asked to stop. A failed worker fails the job at once."""
    from .training import JobFailure

    while True:
        if job.should_stop():
            return True
        codes = [worker.process.poll() for worker in workers]
        failed = [worker for worker, code in zip(workers, codes) if code not in (None, 0)]
        # A host killed by a signal is the cause; its peers then fail in XGBoost's collective (exit code 1) and
        # are often seen dead at the same poll. Name the killed one, whatever its rank.
        failed.sort(key=lambda worker: worker.process.returncode >= 0)
        if failed:
            for reader in failed[0].readers:
                reader.join(1)
            raise JobFailure("AlgorithmError", f"distributed training failed: {failed[0].reason()}")
        if all(code == 0 for code in codes):
            return False
        time.sleep(WORKER_POLL_SECONDS)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_GRACE_SECONDS)


def _worker_env() -> dict[str, str]:
    # The worker needs no AWS access: it reads its files and writes the model in the job's folder.
    return {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}


def _write_spec(workdir: Path, host: Host, rank: int, tracker: Document, data_format: str,
                hyperparameters: dict[str, str], nthread: int, model_path: Path, version: tuple[int, ...] | None) -> Path:
    folder = workdir / host.name
    files: dict[str, list[tuple[str, str]]] = {}
    for channel, objects in host.files.items():
        (folder / channel).mkdir(parents=True, exist_ok=True)
        files[channel] = []
        for position, (uri, content) in enumerate(objects):
            path = folder / channel / f"{position:05d}"
            path.write_bytes(content)
            files[channel].append((uri, str(path)))
    spec = {"host": host.name, "rank": rank, "tracker": tracker, "files": files, "data_format": data_format,
            "hyperparameters": hyperparameters, "version": version, "nthread": nthread, "model_path": str(model_path)}
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    return spec_path
