"""A job's CloudWatch log, read with the context's own logs client: followed while it runs, its tail on failure.

sagemaker-core's `wait(logs=True)` reads the log through `CloudWatchLogsClient`, a process-wide singleton built
from the environment on first use (sagemaker/core/utils/logs.py, 2.27.0); in a process with two contexts it would
read the first one's target. The log group and stream names are SageMaker's: "<job>/algo-<i>-<epoch>", one
stream per instance (host).
"""

from __future__ import annotations

import re
from typing import Any

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"
# CloudWatch shows the container's tabs as "#011" (the syslog escape); a person reads them as tabs.
CLOUDWATCH_TAB = "#011"
HOST_OF_STREAM = re.compile(r"/(algo-\d+)-\d+$")


class LogFollower:
    """The new events of a job's streams since the last call, oldest first across hosts."""

    def __init__(self, logs: Any, group: str, job_name: str) -> None:
        self._logs = logs
        self._group = group
        self._prefix = f"{job_name}/"
        self._tokens: dict[str, str | None] = {}

    def new_events(self) -> list[tuple[str, str]]:
        """(stream, message) of every event written since the last call."""
        events: list[tuple[int, str, str]] = []
        for stream in self._streams():
            while True:
                request: dict[str, Any] = {"logGroupName": self._group, "logStreamName": stream, "startFromHead": True}
                if self._tokens.get(stream):
                    request["nextToken"] = self._tokens[stream]
                page = self._logs.get_log_events(**request)
                self._tokens[stream] = page.get("nextForwardToken")
                if not page["events"]:
                    break  # at the end: CloudWatch hands back the same token with no events
                events.extend((event["timestamp"], stream, event["message"]) for event in page["events"])
        events.sort(key=lambda event: event[0])  # sorted() is stable: one stream's equal timestamps keep their order
        return [(stream, message) for _, stream, message in events]

    def _streams(self) -> list[str]:
        names = []
        try:
            pages = self._logs.get_paginator("describe_log_streams").paginate(
                logGroupName=self._group, logStreamNamePrefix=self._prefix
            )
            for page in pages:
                names.extend(stream["logStreamName"] for stream in page["logStreams"])
        except self._logs.exceptions.ResourceNotFoundException:
            return []  # no job has logged to the group yet
        return sorted(names)


def container_line(stream: str, message: str, instance_count: int = 1) -> str:
    """A log event as the terminal shows it: tabs as tabs, and with more than one instance, the host first
    (``[algo-2]``), since every host logs the same kind of line; with one there is nothing to tell apart."""
    line = message.replace(CLOUDWATCH_TAB, "\t")
    if instance_count > 1:
        line = f"[{host_of(stream)}] {line}"
    return line


def host_of(stream: str) -> str:
    """algo-2 of "<job>/algo-2-<epoch>"; a stream named otherwise by its last part, still one name per host."""
    found = HOST_OF_STREAM.search(stream)
    return found.group(1) if found else stream.rsplit("/", 1)[-1]


def last_log_lines(logs: Any, group: str, job_name: str, count: int) -> list[str]:
    """The job's last ``count`` log lines across its streams, for a failure message."""
    try:
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job_name}/")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    events = []
    for stream in streams:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], limit=count, startFromHead=False)
        events.extend(page["events"])
    events.sort(key=lambda event: event["timestamp"])
    return [event["message"] for event in events[-count:]]
