"""`INVOKE_WORKSHOP_TRAINING_INSTANCE_COUNT=2`: `invoke data` shards the channels, `invoke train` runs a real
2-host job, and the model is as good as the single-instance one on the workshop's data."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from vgsales.context import Context
from vgsales.infra import stack
from vgsales.pipeline import data, deploy, evaluate, train
from vgsales.pipeline.job_logs import TRAINING_LOG_GROUP
from vgsales.records import StackRecord

from support.stacks import discard


@pytest.fixture(scope="module")
def ctx(terraform_available, shared_dataset, make_settings, tmp_path_factory):
    ctx = Context.of(make_settings(tmp_path_factory.mktemp("state"), data_source=str(shared_dataset), name_prefix="vgdist",
                                   **{"terraform.create_notebook_instance": False, "training.instance_count": 2}))
    try:
        stack.setup(ctx)
        yield ctx
    finally:
        discard(ctx)


def keys(ctx, folder: str) -> list[str]:
    bucket = ctx.state.read(StackRecord).bucket_name
    listed = ctx.aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{ctx.settings.data_prefix}/{folder}/")
    return sorted(item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", []))


def test_two_instances_shard_the_data_train_on_both_hosts_and_match_one_instance(ctx, capsys):
    settings = ctx.settings
    one = Context.of(replace(settings, training=replace(settings.training, instance_count=1)))
    data.run(one)
    assert keys(ctx, "train") == ["train.libsvm"]
    data.run(ctx)
    # Re-sharding leaves no copy of the previous upload behind: a channel is every object under its prefix.
    assert keys(ctx, "train") == ["train-1-of-2.libsvm", "train-2-of-2.libsvm"]
    assert keys(ctx, "validation") == ["validation-1-of-2.libsvm", "validation-2-of-2.libsvm"]

    capsys.readouterr()
    two_hosts = train.run(ctx)
    printed = capsys.readouterr().out.splitlines()
    logs = ctx.aws.client("logs")
    streams = logs.describe_log_streams(logGroupName=TRAINING_LOG_GROUP,
                                        logStreamNamePrefix=f"{two_hosts.training_job_name}/")["logStreams"]
    lines = {s["logStreamName"]: [e["message"] for e in logs.get_log_events(
        logGroupName=TRAINING_LOG_GROUP, logStreamName=s["logStreamName"])["events"]] for s in streams}
    assert len(lines) == 2
    assert all(any("Train matrix has 2807 rows" in line for line in host) for host in lines.values()), "5,614 rows, halved"
    # The streamed log says which host wrote each line: every round appears twice, once per host.
    rounds = [line for line in printed if re.match(r"  \[algo-\d\] \[\d+\]\s+train-auc:", line)]
    assert {line[:10] for line in rounds} == {"  [algo-1]", "  [algo-2]"} and len(rounds) == 200, printed
    assert not [line for line in printed if re.match(r"  \[\d+\]\s", line)], "a round without its host"
    deploy.run(ctx)
    distributed_auc = json.loads(open(evaluate.run(ctx).metrics_json).read())["roc_auc"]

    data.run(one)
    capsys.readouterr()
    train.run(one)
    printed = capsys.readouterr().out
    assert "  [0]" in printed and "[algo-" not in printed, "one instance: the lines as the container wrote them"
    deploy.run(one)
    single_auc = json.loads(open(evaluate.run(one).metrics_json).read())["roc_auc"]
    assert abs(distributed_auc - single_auc) <= 0.01, (distributed_auc, single_auc)
