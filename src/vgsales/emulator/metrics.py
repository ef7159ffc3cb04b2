"""The CloudWatch metrics SageMaker publishes for training jobs and endpoints, written to moto's CloudWatch.

- **Training jobs:** SageMaker reads the algorithm's metrics from the job's log lines with the job's
  MetricDefinitions (the first group of each regex) and publishes every match to the namespace
  `/aws/sagemaker/TrainingJobs`, with the dimension TrainingJobName (the SageMaker developer guide, "Define
  training metrics"). That is where the SDK's TrainingJobAnalytics reads the training curve back
  (sagemaker/analytics.py: GetMetricStatistics with that namespace and dimension). They are published as the
  job's role, as its logs are written: a role that may not put metrics in that namespace gets none, and the job
  runs on (backends.ServiceAccess.metrics).
- **Endpoints:** each InvokeEndpoint publishes `Invocations`, `ModelLatency` and `OverheadLatency`
  (microseconds) and `Invocation4XXErrors` / `Invocation5XXErrors` (0 or 1) to `AWS/SageMaker`, with the
  dimensions EndpointName and VariantName (the developer guide, "Amazon SageMaker AI metrics in Amazon
  CloudWatch"). SageMaker publishes these itself, not as the endpoint's role.

Not published: the instance metrics (CPUUtilization, MemoryUtilization, DiskUtilization, dimension Host), which
need an instance the emulator does not have.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum
from moto.core.utils import utcnow

log = logging.getLogger(__name__)

TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs"
ENDPOINT_NAMESPACE = "AWS/SageMaker"


class MetricSink:
    """One namespace and set of dimensions of moto's CloudWatch, written to if ``allowed``."""

    def __init__(self, backend: CloudWatchBackend, namespace: str, dimensions: Mapping[str, str], allowed: bool = True) -> None:
        self._backend = backend
        self.namespace = namespace
        self._dimensions = [{"Name": name, "Value": value} for name, value in dimensions.items()]
        self.allowed = allowed

    def put(self, values: Mapping[str, float]) -> None:
        if not self.allowed or not values:
            return
        now = utcnow()
        data = [{"MetricName": name, "Value": value, "Dimensions": self._dimensions, "Timestamp": now}
                for name, value in values.items()]  # fmt: skip
        try:
            self._backend.put_metric_data(self.namespace, data)
        except Exception:  # metrics are the service's side effect: never let them fail the job or the request
            log.exception("could not put metrics in %s", self.namespace)


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    pattern: re.Pattern[str]


def definitions_of(specification: Iterable[Mapping[str, str]]) -> list[MetricDefinition]:
    """The job's MetricDefinitions, compiled; one whose regex does not compile is skipped (SageMaker refuses it
    at CreateTrainingJob; an emulator job should not fail on it later)."""
    compiled = []
    for definition in specification:
        try:
            compiled.append(MetricDefinition(str(definition["Name"]), re.compile(str(definition["Regex"]))))
        except (KeyError, re.error):
            log.warning("metric definition %r is not usable", definition)
    return compiled


class LogWriter(Protocol):
    def write(self, messages: Iterable[str]) -> None: ...


class MeasuredLogStream:
    """A training job's log stream that also publishes what its MetricDefinitions find in each line written."""

    def __init__(self, stream: LogWriter, definitions: list[MetricDefinition], sink: MetricSink) -> None:
        self._stream = stream
        self._definitions = definitions
        self._sink = sink
        # The last value of each metric found, whatever the sink may publish: a script-mode job's final metrics
        # (SageMaker's FinalMetricDataList holds the last value its MetricDefinitions found in the logs).
        self.latest: dict[str, float] = {}

    def write(self, messages: Iterable[str]) -> None:
        messages = list(messages)
        self._stream.write(messages)
        for message in messages:
            found = {}
            for definition in self._definitions:
                match = definition.pattern.search(message)
                if match and match.groups():
                    try:
                        found[definition.name] = float(match.group(1))
                    except (TypeError, ValueError):
                        continue
            self.latest.update(found)
            if self._sink.allowed:
                self._sink.put(found)


# An endpoint's metrics and their units (the developer guide, "Amazon SageMaker AI metrics in Amazon CloudWatch").
ENDPOINT_METRICS = {
    "Invocations": "None",
    "ModelLatency": "Microseconds",
    "OverheadLatency": "Microseconds",
    "Invocation4XXErrors": "None",
    "Invocation5XXErrors": "None",
}


class EndpointMetrics:
    """One endpoint variant's invocation metrics: per metric, one data point a minute (CloudWatch's standard
    resolution) whose statistics each invocation updates, so that a client invoking a million times adds five data
    points a minute to the emulator's memory, not five million."""

    def __init__(self, backend: CloudWatchBackend, endpoint_name: str, variant_name: str) -> None:
        self._backend = backend
        self._dimensions = [{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant_name}]
        self._lock = threading.Lock()
        self._minute = None
        self._points: dict[str, MetricAggregatedDatum] = {}

    def record(self, status: int, model_seconds: float, overhead_seconds: float) -> None:
        values = {
            "Invocations": 1.0,
            "ModelLatency": round(model_seconds * 1e6),
            "OverheadLatency": round(overhead_seconds * 1e6),
            "Invocation4XXErrors": float(400 <= status < 500),
            "Invocation5XXErrors": float(status >= 500),
        }
        with self._lock:
            minute = utcnow().replace(second=0, microsecond=0)  # under the lock: minutes only move forward
            if minute != self._minute:
                self._minute = minute
                self._points = {
                    name: MetricAggregatedDatum(ENDPOINT_NAMESPACE, name, value, value, 1, value, self._dimensions, minute, ENDPOINT_METRICS[name])
                    for name, value in values.items()
                }
                self._backend.metric_data.extend(self._points.values())
                return
            for name, value in values.items():
                point = self._points[name]
                point.min, point.max = min(point.min, value), max(point.max, value)
                point.sum += value
                point.sample_count += 1
