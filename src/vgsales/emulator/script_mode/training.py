"""A training job in script mode: the user's own training script, run as the XGBoost framework image runs it.

The container decides by one hyperparameter: with `sagemaker_program` it runs the user's entry point, otherwise its
built-in algorithm (aws/sagemaker-xgboost-container, training.py `train()`, tags v1.0-1 to v3.0-5). What SageMaker
and the container do, and what this module does in their place:

- SageMaker downloads each channel's objects into /opt/ml/input/data/<channel>/ (File mode; ShardedByS3Key gives
  each host its share), writes /opt/ml/input/config/{hyperparameters,resourceconfig,inputdataconfig}.json, and
  starts one container per host (algo-1 ... algo-N). Here each host gets a folder of the job's own standing for
  /opt/ml (SAGEMAKER_BASE_DIR, which sagemaker-containers' _env.py reads in place of /opt/ml), filled the same way
  as the job's role: every object is read through role_access, as SageMaker's download is.
- The container downloads `sagemaker_submit_directory` (the SDK's sourcedir.tar.gz) into /opt/ml/code, installs
  its requirements.txt and runs `python -m <module> --<hyperparameter> <value> ...` with the SM_* environment
  (sagemaker-containers 2.8.6.post2, _modules.run_module and _env.TrainingEnv). Here the code is fetched as the
  role and extracted into each host's code/, the requirements go into the job's own environment
  (environment.py), and runtime/vgsales_script_train.py does the rest as the container's entry point does, in a
  process of its own per host, as this machine's user, with a session of the job's role and nothing of the
  emulator's (host.py).
- Each host's output goes to its log stream "<job>/algo-<i>-<epoch>"; the job's MetricDefinitions are read from
  every line and published, and the last value of each is the job's FinalMetricDataList, as SageMaker reports it.
- A host that fails fails the job with what the container wrote to /opt/ml/output/failure ("AlgorithmError: ...");
  StopTrainingJob and MaxRuntimeInSeconds end every host's processes; a host that exits before it joins XGBoost's
  collective, while another waits in it, fails the job at once rather than leaving that one waiting.
- algo-1's /opt/ml/model is packed into <S3OutputPath>/<job>/output/model.tar.gz (nothing is uploaded when the
  script saved no model, and the job still completes, as on SageMaker), and its /opt/ml/output/data, when it holds
  anything, into output.tar.gz beside it.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends import S3ObjectMissing, parse_s3_uri
from ..lifecycle import JobFailure, JobStopped
from ..role_access import AccessDenied
from ..shapes import Document
from . import environment, host

if TYPE_CHECKING:
    from ..training import TrainingRun

PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
ENTRY_POINT = "vgsales_script_train"  # runtime/vgsales_script_train.py
POLL_SECONDS = 0.2
# A host that cannot join the collective gives up after this long (the container waits without end; the job's
# MaxRuntimeInSeconds is the bound there). Never longer than the job may run.
JOIN_SECONDS = 120
OUTPUT_TAIL = 20


def requested(hyperparameters: Mapping[str, str] | None) -> bool:
    """Script mode, by the container's own test: training.py runs the user's entry point when sagemaker_program is
    set (sagemaker-containers TrainingEnv.user_entry_point), whatever else the job says."""
    return PROGRAM in (hyperparameters or {})


def decoded(value: str) -> str:
    """A hyperparameter as sagemaker-containers reads it (_env.read_hyperparameters): JSON when it parses (the SDK
    JSON-encodes every value of a framework estimator), the raw string otherwise."""
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return value
    return loaded if isinstance(loaded, str) else value


def refusal(request: Mapping[str, object]) -> str | None:
    """What CreateTrainingJob refuses for a script-mode job before anything runs: what the emulator does not execute."""
    if (request.get("checkpoint_config") or {}).get("S3Uri"):  # type: ignore[union-attr]
        return ("CheckpointConfig for a script-mode training job is not executed by the local emulator (it does not "
                "sync /opt/ml/checkpoints with S3, and never reports checkpoints it did not write). Leave it out, or "
                "use the aws target.")
    if request.get("enable_network_isolation"):
        return ("EnableNetworkIsolation for a script-mode training job is not executed by the local emulator (the SDK "
                "then passes the code as a channel of its own, /opt/ml/input/data/code). Leave it out, or use the aws "
                "target.")
    modes = {str((channel or {}).get("InputMode") or (request.get("algorithm_specification") or {}).get("TrainingInputMode")
                  or "File")  # type: ignore[union-attr]
             for channel in request.get("input_data_config") or []}  # type: ignore[union-attr]
    other = sorted(modes - {"File"})
    if other:
        return (f"TrainingInputMode {other[0]} for a script-mode training job is not executed by the local emulator, "
                "which gives a script its channels as files (File mode). Use File, or the aws target.")
    return None


class HostProcess:
    """One host's process: its output copied to the host's log stream line by line, the last lines kept."""

    def __init__(self, name: str, index: int, base: Path, process: subprocess.Popen, stream) -> None:
        self.name, self.index, self.base, self.process = name, index, base, process
        self.tail: list[str] = []
        self._readers = [threading.Thread(target=self._copy, args=(pipe, stream), daemon=True)
                         for pipe in (process.stdout, process.stderr)]  # fmt: skip
        for reader in self._readers:
            reader.start()

    def _copy(self, pipe, stream) -> None:
        for line in pipe:
            line = line.rstrip("\n")
            if line:
                self.tail = [*self.tail[-(OUTPUT_TAIL - 1):], line]
                stream.write([line])

    def drain(self) -> None:
        for reader in self._readers:
            reader.join(5)

    def failure(self) -> str:
        """What the container reports for a host that failed: its failure file, or how its process ended."""
        written = self.base / "output" / "failure"
        if written.is_file():
            text = written.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return text
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        last = self.tail[-1] if self.tail else ""
        return f"the training process of host {self.name} {how}" + (f": {last}" if last else "")


class ScriptTraining:
    """The script-mode part of one TrainingRun (training.py), which keeps the job's status and logs."""

    def __init__(self, run: TrainingRun) -> None:
        self.run = run
        self.job = run.job
        self.host = host.current_host()
        self.folder = host.job_folder(self.host, "training", self.job.training_job_name)
        self.hosts = [f"algo-{index + 1}" for index in range(run.instance_count)]
        self.processes: list[HostProcess] = []

    # --- the job ---------------------------------------------------------------------------------------
    def execute(self) -> None:
        session = None
        try:
            self._download()
            self.run.check_stop()
            self.run.enter_phase("Training", "Training image download completed. Training in progress.")
            env = environment.create(self.folder / "env")
            try:
                environment.install_requirements(env, self.folder / "algo-1" / "code", self.run.write_log, self.host,
                                                 self.run.should_stop)  # fmt: skip
            except environment.SetupFailure as failure:
                raise JobFailure("AlgorithmError", str(failure)) from None
            except environment.SetupStopped:
                raise JobStopped() from None
            self.run.check_stop()
            session = self._session()
            self._start(env, session)
            self._supervise()
            self.run.check_stop()
            self.run.enter_phase("Uploading", "Uploading generated training model")
            self._upload()
        finally:
            for process in self.processes:
                host.end(process.process, self.host)
            host.end_orphans(self.folder)  # what the scripts started in sessions of their own
            for process in self.processes:
                process.drain()
            if session is not None:
                session.revoke()
            shutil.rmtree(self.folder, ignore_errors=True)
        self.run.finish("Completed", "Completed", "Training job completed", self._final_metrics())

    # --- downloading ------------------------------------------------------------------------------------
    def _download(self) -> None:
        hyperparameters = self.job.hyper_parameters or {}
        source = decoded(hyperparameters.get(SUBMIT_DIRECTORY, ""))
        code = self._code_archive(source)
        config = self._config_files()
        channels = {c["ChannelName"]: c for c in self.job.input_data_config or []}
        shares: dict[str, list[list[tuple[str, str]]]] = {}  # channel -> each host's (uri, path) objects
        for name, channel in channels.items():
            data_source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not data_source:
                raise JobFailure("ClientError", f"Channel '{name}' has no S3DataSource; the emulator reads channels from S3 only.")
            if (channel.get("CompressionType") or "None") != "None":
                raise JobFailure("ClientError", f"Channel '{name}' is compressed ({channel['CompressionType']}); "
                                 "SageMaker decompresses channels in Pipe mode only, and a script-mode job here runs in File mode.")
            objects = self._channel_objects(name, data_source)
            sharded = data_source.get("S3DataDistributionType") == "ShardedByS3Key"
            ordered = sorted(objects)
            shares[name] = [ordered[i::len(self.hosts)] if sharded else ordered for i in range(len(self.hosts))]
            self.run.write_log(f"Channel '{name}': {len(objects)} object(s), "
                          f"{'ShardedByS3Key' if sharded else 'FullyReplicated'} over {len(self.hosts)} host(s).")
        for index, name in enumerate(self.hosts):
            base = self.folder / name
            for folder in ("input/config", "model", "output/data", "output/intermediate", "code"):
                (base / folder).mkdir(parents=True)
            for file_name, content in config(name).items():
                (base / "input" / "config" / file_name).write_text(json.dumps(content), encoding="utf-8")
            for channel, per_host in shares.items():
                target = base / "input" / "data" / channel
                target.mkdir(parents=True)
                for uri, relative in per_host[index]:
                    _write_under(target, relative, self.run.fetch(uri), channel)
                    self.run.check_stop()
            _extract(code, base / "code", source)

    def _code_archive(self, source: str) -> bytes:
        if not source:
            raise JobFailure("ClientError", f"Hyperparameter {SUBMIT_DIRECTORY} is missing: a script-mode job names the "
                             "archive of its code (the SDK uploads sourcedir.tar.gz and sets it).")
        try:
            parse_s3_uri(source)
            return self.run.aws.get_object(source)
        except ValueError:
            raise JobFailure("ClientError", f"{SUBMIT_DIRECTORY} must be an s3:// URI of a tar.gz archive; got "
                             f"{source!r} (a local path works only in the SDK's local mode).") from None
        except (S3ObjectMissing, AccessDenied):
            # The container downloads the code itself, with the role's credentials (sagemaker-containers
            # _files.download_and_extract); S3 answers a missing key and a refused one alike to a role that may
            # not list the bucket.
            raise JobFailure("AlgorithmError", f"Unable to download the training code {source} as the job's role "
                             f"{self.job.role_arn}: there is no object there, or the role may not s3:GetObject it.") from None

    def _channel_objects(self, name: str, source: Document) -> list[tuple[str, str]]:
        """(uri, path under /opt/ml/input/data/<channel>) of each object of the channel: an S3Prefix object's key
        below the prefix's last "/", a manifest's entry as the manifest writes it below its prefix."""
        uri = source.get("S3Uri", "")
        kind = source.get("S3DataType") or "S3Prefix"
        from ..training import download_denied, no_objects_found

        if kind == "ManifestFile":
            try:
                entries = json.loads(self.run.aws.get_object(uri))
                prefix, relatives = str(entries[0]["prefix"]), [str(entry) for entry in entries[1:]]
            except (S3ObjectMissing, ValueError, KeyError, IndexError, TypeError) as exc:
                raise JobFailure("ClientError", f"Data download failed for channel '{name}' at {uri}: the manifest is "
                                 f"not of the form [{{\"prefix\": \"s3://...\"}}, \"key\", ...] ({exc}).") from None
            except AccessDenied:
                raise JobFailure("ClientError", download_denied(uri)) from None
            if not relatives:
                raise JobFailure("ClientError", no_objects_found(uri, self.run.region, self.job.role_arn))
            return [(prefix + relative, relative) for relative in relatives]
        if kind != "S3Prefix":
            raise JobFailure("ClientError", f"Channel '{name}' uses S3DataType {kind}, which the local emulator does "
                             "not read (use S3Prefix or ManifestFile).")
        try:
            bucket, _ = parse_s3_uri(uri)
            keys = [key for key in self.run.aws.list_objects(uri) if not key.endswith("/")]
        except (S3ObjectMissing, ValueError) as exc:
            raise JobFailure("ClientError", f"Data download failed for channel '{name}' at {uri}: {exc}.") from None
        except AccessDenied:
            keys = []
        if not keys:
            raise JobFailure("ClientError", no_objects_found(uri, self.run.region, self.job.role_arn))
        _, prefix = parse_s3_uri(uri)
        folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        return [(f"s3://{bucket}/{key}", key[len(folder):]) for key in keys]

    def _config_files(self):
        """What SageMaker writes to /opt/ml/input/config on each host (the developer guide, "How Amazon SageMaker
        Provides Training Information"): the hyperparameters as given, the cluster, the channels."""
        resource = self.job.resource_config or {}
        instance_type = resource.get("InstanceType", "ml.m5.xlarge")
        data_config = {}
        for channel in self.job.input_data_config or []:
            source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
            entry = {"TrainingInputMode": "File", "S3DistributionType": source.get("S3DataDistributionType") or "FullyReplicated",
                     "RecordWrapperType": channel.get("RecordWrapperType") or "None"}
            if channel.get("ContentType"):
                entry["ContentType"] = channel["ContentType"]
            data_config[channel["ChannelName"]] = entry

        def files(current: str) -> dict[str, Document]:
            return {
                "hyperparameters.json": dict(self.job.hyper_parameters or {}),
                "resourceconfig.json": {
                    "current_host": current, "current_group_name": "homogeneousCluster",
                    "current_instance_type": instance_type, "hosts": self.hosts,
                    "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": instance_type,
                                         "hosts": self.hosts}],
                    "network_interface_name": "eth0",
                },
                "inputdataconfig.json": data_config,
            }  # fmt: skip

        return files

    # --- running ----------------------------------------------------------------------------------------
    def _session(self):
        return self.run.aws.role_session(self.job.role_arn, host.ROLE_SESSION_NAME, host.ROLE_SESSION_SECONDS,
                                         host.fresh_secret)  # fmt: skip

    def _start(self, env: environment.ScriptEnvironment, session) -> None:
        collective = self.folder / "collective"
        collective.mkdir()
        port = _free_port_pair() if len(self.hosts) > 1 else 9099
        join = max(1, min(JOIN_SECONDS, int(self.run.max_runtime)))
        aws = self.host.client_env(session.access_key_id, session.secret_access_key, session.session_token, self.run.region)
        for index, name in enumerate(self.hosts):
            base = self.folder / name
            process_env = {
                **environment.base_env(env), **self.job.environment, **aws,
                "SAGEMAKER_BASE_DIR": str(base), "TRAINING_JOB_NAME": self.job.training_job_name,
                "TRAINING_JOB_ARN": self.job.arn, "VGSALES_RABIT_PORT": str(port),
                "VGSALES_COLLECTIVE_DIR": str(collective), "VGSALES_RABIT_JOIN_SECONDS": str(join),
            }  # fmt: skip
            process = host.start(self.host, [env.python, "-m", ENTRY_POINT], process_env, cwd=base / "code",
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 errors="replace")  # fmt: skip
            self.processes.append(HostProcess(name, index, base, process, self.run.stream_of(index)))

    def _supervise(self) -> None:
        """Wait for every host; a failed host fails the job at once, a stop ends them all."""
        collective = self.folder / "collective"
        while True:
            if self.run.should_stop():
                raise JobStopped()
            codes = [process.process.poll() for process in self.processes]
            failed = [process for process, code in zip(self.processes, codes) if code not in (None, 0)]
            # A host killed by a signal is the cause; its peers then fail in the collective.
            failed.sort(key=lambda process: process.process.returncode >= 0)
            if failed:
                failed[0].drain()
                raise JobFailure("AlgorithmError", failed[0].failure())
            if all(code == 0 for code in codes):
                return
            waiting = [p.name for p in self.processes if (collective / f"{p.name}.waiting").exists()
                       and not (collective / f"{p.name}.joined").exists()]  # fmt: skip
            gone = [p.name for p, code in zip(self.processes, codes)
                    if code == 0 and not (collective / f"{p.name}.waiting").exists()]  # fmt: skip
            if waiting and gone:
                raise JobFailure("AlgorithmError", (
                    f"host {gone[0]} exited without joining XGBoost's collective, which {', '.join(waiting)} waited "
                    "for: every host of a distributed job calls sagemaker_xgboost_container.distributed.rabit_run "
                    "(a host without data passes include_in_training=False)."))
            time.sleep(POLL_SECONDS)

    # --- uploading --------------------------------------------------------------------------------------
    def _upload(self) -> None:
        master = self.folder / self.hosts[0]
        model = master / "model"
        if any(model.iterdir()):
            self.run.upload_archive(_pack(model))
        else:
            # SageMaker completes such a job and uploads no model.tar.gz, while DescribeTrainingJob still names
            # where it would be (aws/sagemaker-python-sdk#608 and #3455); deploying it then fails to download it.
            self.run.write_log("No model artifact is saved under SM_MODEL_DIR (/opt/ml/model): the job completes and saves "
                          f"no model files to S3, so there is nothing at {self.run.output_uri()}.", level="WARNING")
        data = master / "output" / "data"
        if any(data.iterdir()):
            uri = self.run.output_uri().rsplit("/", 1)[0] + "/output.tar.gz"
            try:
                self.run.aws.put_object(uri, _pack(data))
            except AccessDenied:
                from ..training import upload_denied

                raise JobFailure("ClientError", upload_denied(uri)) from None

    def _final_metrics(self) -> dict[str, float] | None:
        """The last value of each MetricDefinition in the job's logs, algo-1's first, as SageMaker reports them."""
        found: dict[str, float] = {}
        for index in reversed(range(len(self.hosts))):
            found.update(self.run.stream_of(index).latest)  # type: ignore[attr-defined]
        return found or None


def _write_under(target: Path, relative: str, content: bytes, channel: str) -> None:
    """An object's content at its path under the channel's folder; a path that would leave the folder, is empty, or
    collides with another object's fails the job, naming the object (SageMaker cannot download it as a file either)."""
    parts = relative.split("/")
    path = target.joinpath(*parts)
    if not relative or any(part in ("", ".", "..") for part in parts) or not path.resolve().is_relative_to(target.resolve()):
        raise JobFailure("ClientError", f"Channel '{channel}': the object key part {relative!r} cannot be written as a "
                         "file under the channel's folder (an empty, '.' or '..' path segment). Rename the object.")
    if path.exists() or any(parent.is_file() for parent in path.parents if parent.is_relative_to(target)):
        raise JobFailure("ClientError", f"Channel '{channel}': the object key part {relative!r} collides with another "
                         "object's file or folder under the channel's folder. Rename one of them.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _extract(archive: bytes, target: Path, source: str) -> None:
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            tar.extractall(target, filter="data")
    except tarfile.FilterError as refused:
        raise JobFailure("ClientError", f"{SUBMIT_DIRECTORY} {source}: a member of the archive is refused: {refused} "
                         "(a link or a path outside the code's folder).") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise JobFailure("ClientError", f"{SUBMIT_DIRECTORY} {source} is not a tar.gz archive of the code ({exc}).") from None


def _pack(folder: Path) -> bytes:
    """A tar.gz of the folder's contents, as SageMaker packs /opt/ml/model (no leading folder)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def _free_port_pair() -> int:
    """A port p with p + 1 free too: the container's two Rabit rounds use the job's port and the next one."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise JobFailure("AlgorithmError", "no two consecutive free ports on 127.0.0.1 for XGBoost's collective")

