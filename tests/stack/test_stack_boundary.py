"""The stack boundary: setup, status and teardown touch and list only what carries the stack's own tag.

On AWS, teardown deletes what discovery finds, so the neighbours here are what a shared account holds: another
stack whose names start the same (`vgsales-ci-...` beside `vgsales-...`, tagged for vgsales-ci), resources with
the stack's prefix and no tag (including a bucket named exactly as Terraform names ours), resources tagged with
the old or a look-alike key or value, the stack's tag copied onto a bucket named otherwise, resources named as
the SageMaker SDK names them with another stack's tag or none, and a user's untagged resources with similar names. They are put on the emulator
before setup; after setup, status and teardown each, every one must still be there and never listed as ours.
"""

from __future__ import annotations

import json

import pytest

from vgsales import discovery
from vgsales.context import Context
from vgsales.infra import stack
from vgsales.settings import STACK_TAG

from support.stacks import SharedStack

ROLE_TRUST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
)
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"

# name suffix -> tags; every neighbour kind gets each of these.
NEIGHBOURS = {
    "ci": [{"Key": STACK_TAG, "Value": "vgsales-ci"}],  # same prefix, another stack's tag
    "untagged": [],  # same prefix, no tag
    "old-key": [{"Key": "Stack", "Value": "vgsales"}],  # our value under another key
    "look-alike-key": [{"Key": "vgsales.stack", "Value": "vgsales"}],  # a key that only looks like ours
    # Our key and, differing only in case (one key to IAM), another stack's value: the resource is neither's.
    "two-values": [{"Key": STACK_TAG, "Value": "vgsales"}, {"Key": "VGSALES:STACK", "Value": "vgsales-ci"}],
    "upper": [{"Key": STACK_TAG, "Value": "VGSALES"}],  # a value that differs only in case (tags are case-sensitive)
}


# A local notebook instance starts JupyterLab (3 CPU-s each: the module's six took 18 of its 38 CPU-s), and discovery
# reads every SageMaker kind through one lister and one tag check (vgsales/discovery.py, _sagemaker_lister and
# is_ours), which each spelling above holds on four other SageMaker kinds. So notebook instances get the two nearest
# misses only: the same prefix with another stack's tag, and our tag beside a clashing spelling of the key.
NOTEBOOK_NEIGHBOURS = ("ci", "two-values")


def _tag_set(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"Key": tag["Key"], "Value": tag["Value"]} for tag in tags]


def plant_neighbours(ctx: Context) -> dict[str, set[str]]:
    """Create every neighbour on the target; returns their names by kind."""
    names: dict[str, set[str]] = {kind: set() for kind in discovery.KINDS if kind not in discovery.JOB_KINDS}
    s3, iam, sagemaker = (ctx.aws.client(service) for service in ("s3", "iam", "sagemaker"))
    for suffix, tags in NEIGHBOURS.items():
        prefix = f"vgsales-{suffix}"
        bucket = f"{prefix}-bucket"
        s3.create_bucket(Bucket=bucket)
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tag_set(tags)})
        # IAM refuses tag keys that differ only in case (its tag keys are case-insensitive): that role goes untagged.
        role_tags = tags if len({tag["Key"].lower() for tag in tags}) == len(tags) else []
        role = iam.create_role(RoleName=f"{prefix}-sagemaker-execution", AssumeRolePolicyDocument=ROLE_TRUST, Tags=role_tags)
        role_arn = role["Role"]["Arn"]
        sagemaker.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=f"{prefix}-notebook-lifecycle", Tags=tags
        )
        if suffix in NOTEBOOK_NEIGHBOURS:
            sagemaker.create_notebook_instance(
                NotebookInstanceName=f"{prefix}-notebook", InstanceType="ml.t3.medium", RoleArn=role_arn, Tags=tags
            )
            names["notebook-instance"].add(f"{prefix}-notebook")
        sagemaker.create_model(
            ModelName=f"{prefix}-model", ExecutionRoleArn=role_arn,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/model.tar.gz"}, Tags=tags,
        )  # fmt: skip
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{prefix}-config",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": f"{prefix}-model",
                                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            Tags=tags,
        )  # fmt: skip
        sagemaker.create_endpoint(EndpointName=f"{prefix}-endpoint", EndpointConfigName=f"{prefix}-config", Tags=tags)
        for kind, name in (
            ("bucket", bucket), ("role", f"{prefix}-sagemaker-execution"),
            ("lifecycle-config", f"{prefix}-notebook-lifecycle"),
            ("model", f"{prefix}-model"), ("endpoint-config", f"{prefix}-config"), ("endpoint", f"{prefix}-endpoint"),
        ):  # fmt: skip
            names[kind].add(name)
    # Terraform names our bucket "<prefix>-" and 26 digits: one named so, without a tag, is still not ours.
    s3.create_bucket(Bucket="vgsales-20260101000000000000000001")
    names["bucket"].add("vgsales-20260101000000000000000001")
    # Our tag copied onto a bucket named otherwise: Terraform's resources must have the prefix too.
    ours = discovery.stack_tags(ctx.settings)
    s3.create_bucket(Bucket="other-vgsales-copy")
    s3.put_bucket_tagging(Bucket="other-vgsales-copy", Tagging={"TagSet": ours})
    names["bucket"].add("other-vgsales-copy")
    # Named as the SageMaker SDK names what it creates (no prefix at all): another stack's, and nobody's.
    for model, tags in (("sagemaker-xgboost-2026-12-01-00-00-00-001", NEIGHBOURS["ci"]),
                        ("sagemaker-xgboost-2026-12-01-00-00-00-002", [])):  # fmt: skip
        sagemaker.create_model(
            ModelName=model, ExecutionRoleArn=role_arn,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://other-vgsales-copy/model.tar.gz"}, Tags=tags,
        )  # fmt: skip
        names["model"].add(model)
    # A user's own resources with similar names and no tag.
    s3.create_bucket(Bucket="vgsalesdata")
    iam.create_role(RoleName="vgsales_admin", AssumeRolePolicyDocument=ROLE_TRUST)
    names["bucket"].add("vgsalesdata")
    names["role"].add("vgsales_admin")
    return names


def existing(ctx: Context) -> dict[str, set[str]]:
    """Every resource of the neighbour kinds on the target, whoever owns it."""
    s3, iam, sagemaker = (ctx.aws.client(service) for service in ("s3", "iam", "sagemaker"))
    return {
        "bucket": {b["Name"] for b in s3.list_buckets()["Buckets"]},
        "role": {r["RoleName"] for r in iam.list_roles()["Roles"]},
        "lifecycle-config": {
            c["NotebookInstanceLifecycleConfigName"]
            for c in sagemaker.list_notebook_instance_lifecycle_configs()["NotebookInstanceLifecycleConfigs"]
        },
        "notebook-instance": {n["NotebookInstanceName"] for n in sagemaker.list_notebook_instances()["NotebookInstances"]},
        "model": {m["ModelName"] for m in sagemaker.list_models()["Models"]},
        "endpoint-config": {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]},
        "endpoint": {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]},
    }


def assert_untouched(ctx: Context, neighbours: dict[str, set[str]], when: str) -> None:
    now = existing(ctx)
    for kind, names in neighbours.items():
        missing = names - now[kind]
        assert not missing, f"after {when}, neighbours of kind {kind} are gone: {sorted(missing)}"


@pytest.fixture(scope="module")
def neighbourhoods(terraform_available, make_settings, tmp_path_factory):
    """The module's neighbourhood, built once; the teardown test spends it, and a test after that gets a new one."""
    with SharedStack(lambda: Context.of(make_settings(tmp_path_factory.mktemp("boundary")))) as shared:
        yield shared


def _neighbours_first(ctx: Context) -> dict[str, set[str]]:
    ctx.target.service.start()
    return plant_neighbours(ctx)


@pytest.fixture
def neighbourhood(neighbourhoods):
    """A local stack `vgsales` set up beside neighbours that were there first: (context, neighbours, its record)."""
    neighbours = neighbourhoods.step("neighbours", _neighbours_first)
    return neighbourhoods.ctx, neighbours, neighbourhoods.step("setup", stack.setup)


def test_setup_leaves_the_neighbours_alone(neighbourhood):
    ctx, neighbours, record = neighbourhood
    assert_untouched(ctx, neighbours, "setup")
    assert record.bucket_name not in neighbours["bucket"]


def test_discovery_lists_only_the_stack_itself(neighbourhood):
    ctx, neighbours, record = neighbourhood
    found = {(resource.kind, resource.name) for resource in discovery.find(ctx)}
    assert found == {
        ("bucket", record.bucket_name), ("role", record.role_name), ("lifecycle-config", record.lifecycle_config_name),
        ("notebook-instance", record.notebook_instance_name),
    }  # fmt: skip


def test_status_never_lists_a_neighbour(neighbourhood):
    ctx, neighbours, _ = neighbourhood
    listed = {(line.kind, line.name) for line in stack.status(ctx)}
    planted = {(kind, name) for kind, names in neighbours.items() for name in names}
    assert not listed & planted, sorted(listed & planted)
    assert_untouched(ctx, neighbours, "status")


def test_teardown_removes_the_stack_and_nothing_else(neighbourhood, neighbourhoods):
    """The pipeline's own resources (tagged through stack_tags, as deploy tags them) go, and so does
    what code made through the SDK with the stack's tag and the SDK's default names; neighbours stay."""
    ctx, neighbours, record = neighbourhood
    neighbourhoods.spent()  # torn down from here on, or half torn down if this fails
    for model in ("vgsales-model-ours", "sagemaker-xgboost-2026-12-01-00-00-00-003"):
        ctx.aws.client("sagemaker").create_model(
            ModelName=model, ExecutionRoleArn=record.role_arn,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{record.bucket_name}/model.tar.gz"},
            Tags=discovery.stack_tags(ctx.settings),
        )  # fmt: skip
    removed = stack.teardown(ctx, keep_emulator=True)
    assert "model vgsales-model-ours" in removed and "model sagemaker-xgboost-2026-12-01-00-00-00-003" in removed
    assert_untouched(ctx, neighbours, "teardown")
    left = existing(ctx)
    ours = {record.bucket_name, record.role_name, record.notebook_instance_name, record.lifecycle_config_name,
            "vgsales-model-ours", "sagemaker-xgboost-2026-12-01-00-00-00-003"}  # fmt: skip
    assert not ours & set().union(*left.values()), "teardown removes every resource of the stack"
    assert stack.teardown(ctx, keep_emulator=True) == [], "and a second teardown finds nothing of it"


@pytest.mark.parametrize(("tags", "ours"), [
    ([{"Key": STACK_TAG, "Value": "vgsales"}], True),
    ([{"Key": "VGSALES:Stack", "Value": "vgsales"}], True),  # IAM reads tag keys without case: the role's own
    ([{"Key": STACK_TAG, "Value": "vgsales"}, {"Key": "Vgsales:Stack", "Value": "vgsales"}], True),
    ([{"Key": STACK_TAG, "Value": "vgsales"}, {"Key": "VGSALES:STACK", "Value": "vgsales-ci"}], False),
    ([{"Key": STACK_TAG, "Value": "VGSALES"}], False),  # values are case-sensitive
    ([{"Key": "vgsales:stacks", "Value": "vgsales"}], False),
    ([], False),
], ids=["the tag", "the key in other case", "both cases agree", "two stacks", "value in capitals", "neighbour key", "none"])
def test_a_resource_is_the_stacks_when_every_spelling_of_the_tag_says_so(make_settings, tmp_path, tags, ours):
    settings = make_settings(tmp_path)
    assert discovery.is_ours(tags, settings) is ours
