"""How `invoke train` shows the training log it reads from CloudWatch (vgsales.pipeline.job_logs): each line as
the container wrote it, the new events of every host's stream in the order they were written, and all of them
printed before the task moves on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from vgsales import output as vgsales_console
from vgsales.pipeline import train
from vgsales.pipeline.job_logs import TRAINING_LOG_GROUP, LogFollower, container_line, host_of

JOB = "vgsales-xgb-20261102-100000-ab12"


# --- one line as the terminal shows it -------------------------------------------------------------------------


def test_container_lines_show_tabs_as_tabs_and_no_stream_name():
    line = container_line("vgsales-xgb-1/algo-1-17", "[3]#011train-auc:0.87512#011validation-auc:0.85201")
    assert line == "[3]\ttrain-auc:0.87512\tvalidation-auc:0.85201"
    with vgsales_console.console.capture() as captured:
        vgsales_console.console.print(f"  {line}", markup=False, highlight=False)  # as train.follow prints it
    # rich expands a tab to the next tab stop, as a terminal does: the metrics line up in columns.
    assert captured.get() == "  [3]\ttrain-auc:0.87512\tvalidation-auc:0.85201".expandtabs(8) + "\n"
    assert "#011" not in captured.get()


def test_with_several_instances_each_line_starts_with_its_host():
    """Two hosts log the same kind of line: without the host, 200 rounds read as one run counting twice."""
    lines = [
        container_line(f"{JOB}/algo-1-1762077600", "[0]#011train-auc:0.77831#011validation-auc:0.76336", 2),
        container_line(f"{JOB}/algo-2-1762077601", "[0]#011train-auc:0.77790#011validation-auc:0.76402", 2),
        container_line(f"{JOB}/algo-10-1762077601", "Train matrix has 2807 rows", 2),
    ]
    assert lines == [
        "[algo-1] [0]\ttrain-auc:0.77831\tvalidation-auc:0.76336",
        "[algo-2] [0]\ttrain-auc:0.77790\tvalidation-auc:0.76402",
        "[algo-10] Train matrix has 2807 rows",
    ]


def test_with_one_instance_lines_carry_no_host():
    assert container_line("vgsales-xgb-1/algo-1-1762077600", "[0]#011x", 1) == "[0]\tx"
    assert container_line("vgsales-xgb-1/algo-1-1762077600", "[0]#011x") == "[0]\tx", "one instance by default"


def test_the_host_is_taken_from_the_streams_name():
    assert host_of(f"{JOB}/algo-10-1762077601") == "algo-10", "not algo-1 of a longer number"
    assert host_of(f"{JOB}/algo-2-1762077601") == "algo-2"
    # A stream named otherwise is still one name per host: its last part.
    assert host_of(f"{JOB}/some-other-stream") == "some-other-stream"


def test_the_hyperparameters_line_is_sorted_name_value_pairs():
    assert train.name_values({"num_round": "100", "eta": "0.1", "objective": "binary:logistic", "max_depth": "3"}) == (
        "eta=0.1, max_depth=3, num_round=100, objective=binary:logistic"
    )


# --- following a job's streams ---------------------------------------------------------------------------------


class FakeLogs:
    """The part of a CloudWatch Logs client that LogFollower uses, as CloudWatch answers it: streams listed by
    name prefix, events by page of ``page_size`` with a nextForwardToken, and at the end of a stream the same
    token again with no events. ``requests`` records every get_log_events call."""

    class exceptions:  # noqa: N801 - as botocore names a client's modelled errors
        class ResourceNotFoundException(ClientError):
            pass

    def __init__(self, group: str, page_size: int = 2) -> None:
        self.group = group
        self.page_size = page_size
        self.streams: dict[str, list[dict]] = {}
        self.requests: list[dict] = []

    def log(self, stream: str, timestamp: int, message: str) -> None:
        self.streams.setdefault(stream, []).append({"timestamp": timestamp, "message": message})

    def _missing(self, operation: str) -> ClientError:
        error = {"Error": {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}}
        return self.exceptions.ResourceNotFoundException(error, operation)

    def get_paginator(self, operation: str):
        assert operation == "describe_log_streams"
        fake = self

        class Paginator:
            def paginate(self, logGroupName: str, logStreamNamePrefix: str = ""):  # noqa: N803 - boto3's names
                if logGroupName != fake.group:
                    raise fake._missing("DescribeLogStreams")
                names = [name for name in fake.streams if name.startswith(logStreamNamePrefix)]
                # One stream per page, so that the follower has to read every page.
                return iter([{"logStreams": [{"logStreamName": name}]} for name in names] or [{"logStreams": []}])

        return Paginator()

    def get_log_events(self, **request) -> dict:
        self.requests.append(request)
        assert len(self.requests) < 100, "the follower keeps asking for the same page"
        if request["logGroupName"] != self.group:
            raise self._missing("GetLogEvents")
        assert request.get("startFromHead") is True, "read forward, oldest first"
        events = self.streams[request["logStreamName"]]
        token = request.get("nextToken")
        start = int(token.rsplit("/", 1)[1]) if token else 0
        page = events[start : start + self.page_size]
        return {"events": page, "nextForwardToken": f"f/{start + len(page)}", "nextBackwardToken": f"b/{start}"}


def test_new_events_interleave_the_hosts_by_time_page_through_and_then_give_only_what_is_new():
    logs = FakeLogs(TRAINING_LOG_GROUP, page_size=2)
    one, two = f"{JOB}/algo-1-1762077600", f"{JOB}/algo-2-1762077601"
    for timestamp, message in ((1, "a1"), (3, "a3"), (5, "a5")):
        logs.log(one, timestamp, message)
    for timestamp, message in ((2, "b2"), (4, "b4")):
        logs.log(two, timestamp, message)
    logs.log(f"{JOB}-2/algo-1-1762077600", 0, "another job's line")  # its name starts with this job's, less the "/"
    follower = LogFollower(logs, TRAINING_LOG_GROUP, JOB)

    assert follower.new_events() == [(one, "a1"), (two, "b2"), (one, "a3"), (two, "b4"), (one, "a5")]
    # Three events on pages of two: the second page came with the token the first one gave.
    tokens_of_one = [request.get("nextToken") for request in logs.requests if request["logStreamName"] == one]
    assert tokens_of_one[:2] == [None, "f/2"]

    assert follower.new_events() == [], "nothing new: nothing again"
    logs.log(two, 6, "b6")
    logs.log(one, 7, "a7")
    logs.log(one, 7, "a7 again")  # the same millisecond: the stream's own order stays
    assert follower.new_events() == [(two, "b6"), (one, "a7"), (one, "a7 again")]


def test_a_host_whose_stream_appears_later_is_read_from_its_start():
    logs = FakeLogs(TRAINING_LOG_GROUP)
    one, two = f"{JOB}/algo-1-1762077600", f"{JOB}/algo-2-1762077601"
    logs.log(one, 1, "a1")
    follower = LogFollower(logs, TRAINING_LOG_GROUP, JOB)
    assert follower.new_events() == [(one, "a1")]
    logs.log(two, 2, "b2")
    logs.log(two, 3, "b3")
    logs.log(two, 4, "b4")
    assert follower.new_events() == [(two, "b2"), (two, "b3"), (two, "b4")]


def test_a_log_group_that_does_not_exist_yet_has_no_events():
    """A job that has not logged anything yet: SageMaker creates the group with its first line."""
    logs = FakeLogs("/aws/sagemaker/SomethingElse")
    follower = LogFollower(logs, TRAINING_LOG_GROUP, JOB)
    assert follower.new_events() == []
    assert logs.requests == []


def test_follow_prints_every_line_of_a_finished_job_before_it_returns():
    """The last lines arrive with (or after) the status that ends the job: they are printed all the same."""
    logs = FakeLogs(TRAINING_LOG_GROUP)
    one, two = f"{JOB}/algo-1-1762077600", f"{JOB}/algo-2-1762077601"
    statuses = iter(["InProgress", "InProgress", "Completed"])
    written = iter([[(one, 1, "[0]#011train-auc:0.7")], [(two, 2, "[0]#011train-auc:0.8")],
                    [(one, 3, "[1]#011train-auc:0.9"), (two, 4, "done")]])  # fmt: skip

    class Job:
        training_job_name = JOB
        training_job_status = None

        def refresh(self):
            self.training_job_status = next(statuses)
            for stream, timestamp, message in next(written):
                logs.log(stream, timestamp, message)
            return self

    ctx = SimpleNamespace(aws=SimpleNamespace(client={"logs": logs}.__getitem__), target=SimpleNamespace(poll_seconds=0))
    with vgsales_console.console.capture() as captured:
        train.follow(ctx, Job(), instance_count=2)
    assert captured.get().splitlines() == [
        "  [algo-1] [0]\ttrain-auc:0.7".expandtabs(8),
        "  [algo-2] [0]\ttrain-auc:0.8".expandtabs(8),
        "  [algo-1] [1]\ttrain-auc:0.9".expandtabs(8),
        "  [algo-2] done",
    ]


@pytest.mark.parametrize("target_poll, expected", [(10.0, 2.0), (0.1, 0.1), (2.0, 2.0)])
def test_follow_shows_the_log_at_most_two_seconds_late(monkeypatch, target_poll, expected):
    """AWS's target polls its resources every 10 s; the training log must not wait that long between reads."""
    logs = FakeLogs(TRAINING_LOG_GROUP)
    statuses = iter(["InProgress", "InProgress", "Completed"])

    class Job:
        training_job_name = JOB
        training_job_status = None

        def refresh(self):
            self.training_job_status = next(statuses)
            return self

    slept: list[float] = []
    monkeypatch.setattr(train.time, "sleep", slept.append)
    ctx = SimpleNamespace(aws=SimpleNamespace(client={"logs": logs}.__getitem__),
                          target=SimpleNamespace(poll_seconds=target_poll))
    train.follow(ctx, Job(), instance_count=1)
    assert slept == [expected, expected]
