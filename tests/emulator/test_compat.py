"""One test per moto gap that compat/ fixes, plus a check that the gap is still in moto.

The "gap" tests call moto's own, unpatched code and assert it is still broken. When moto fixes a gap they fail:
that is the signal to drop the patch instead of stacking a fix on a fix. The other tests assert the exact
API behaviour the project relies on, through a real client against the emulator.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.access_control import PermissionResult
from moto.iam.responses import IamResponse
from moto.s3.models import FakeBucket
from moto.sagemaker.models import FakeSagemakerNotebookInstance, SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from vgsales.emulator.compat import policy, s3_policy
from vgsales.emulator.compat.sagemaker import prune_empty_structures

REGION = "us-east-1"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
ASSUME_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_moto_is_the_version_the_emulator_was_written_for():
    # The emulator subclasses moto's internals; a new moto needs every gap test re-checked.
    assert moto.__version__ == "5.2.5"


# moto's methods that the emulator's backends repeat with their own model classes (moto builds its models inside
# them, so a subclass cannot reach them otherwise), with a digest of moto's source as the emulator copied it.
REPEATED = {
    ("sagemaker", "create_training_job"): "28e33b84f7b4fdf5",  # training.TrainingBackend
    ("sagemaker", "create_hyper_parameter_tuning_job"): "ee5e9c07749b6616",  # tuning.TuningBackend
    ("sagemaker", "create_transform_job"): "53e7fe036fa2f673",  # transform.TransformBackend
    ("sagemaker", "create_endpoint"): "5474548999156c86",  # hosting.HostingBackend
    ("sagemaker", "create_notebook_instance"): "f34f6da49bba369e",  # compat/sagemaker.NotebookBackend
    ("sagemaker", "create_notebook_instance_lifecycle_config"): "792e418f3c6c7842",  # compat/sagemaker.NotebookBackend
    ("s3", "create_bucket"): "f7ecc576c5d211e9",  # compat/s3.S3Backend
    ("s3", "_set_delete_marker"): "f95d9e59e39fdc42",  # compat/s3.S3Backend
}


@pytest.mark.parametrize(("service", "method"), sorted(REPEATED))
def test_moto_methods_the_backends_repeat_are_as_copied(service, method):
    """A moto change to one of these needs the emulator's copy brought in line (then update the digest)."""
    import hashlib
    import inspect

    from moto.s3.models import S3Backend

    owner = {"sagemaker": SageMakerModelBackend, "s3": S3Backend}[service]
    digest = hashlib.sha256(inspect.getsource(getattr(owner, method)).encode()).hexdigest()[:16]
    assert digest == REPEATED[(service, method)]


def test_moto_is_pinned_the_same_way_everywhere():
    """pyproject.toml's emulator extra and requirements.txt pin the moto this process runs, exactly."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["emulator"]
    requirements = (root / "requirements.txt").read_text()
    assert [pin for pin in extra if pin.startswith("moto")] == [f"moto[server]=={moto.__version__}"]
    assert re.findall(r"^moto\S*", requirements, re.M) == [f"moto[server]=={moto.__version__}"]


# --- S3: bucket policy conditions (compat/s3_policy.py, compat/policy.py) --------------------------------


def deny_insecure_transport(bucket: str, secure_transport: str = "false") -> dict:
    """The stack's policy, as Terraform's aws_iam_policy_document renders it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": secure_transport}},
            }
        ],
    }


def test_gap_moto_ignores_the_secure_transport_condition():
    bucket = FakeBucket("gap-bucket", DEFAULT_ACCOUNT_ID, REGION)
    bucket.policy = json.dumps(deny_insecure_transport("gap-bucket")).encode()
    moto_get_permission = FakeBucket.get_permission
    # moto denies a request it cannot know to be insecure: the condition is not evaluated.
    assert moto_get_permission(bucket, "s3:GetObject", "arn:aws:s3:::gap-bucket/k") == PermissionResult.DENIED


def test_gap_moto_answers_a_policy_denial_with_an_empty_403():
    """s3_policy.S3Service replaces exactly this answer of moto's (S3Response._key_response) with S3's XML error."""
    import inspect

    from moto.s3.responses import S3Response

    source = inspect.getsource(S3Response._key_response)
    assert "return 403, {}, \"\"" in source
    assert s3_policy.BARE_DENIAL == (403, {}, "")


@pytest.fixture
def tls_only_bucket(aws_env):
    name = unique("tls-only")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(deny_insecure_transport(name)))
    return name


def test_a_deny_non_tls_policy_allows_every_call_made_over_tls(tls_only_bucket):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=tls_only_bucket, Key="data/a.libsvm", Body=b"1 0:1\n")
    s3.put_object(Bucket=tls_only_bucket, Key="data/a.libsvm", Body=b"0 0:2\n")
    s3.put_object(Bucket=tls_only_bucket, Key="data/b.libsvm", Body=b"1 1:1\n")
    assert s3.get_object(Bucket=tls_only_bucket, Key="data/a.libsvm")["Body"].read() == b"0 0:2\n"
    s3.delete_object(Bucket=tls_only_bucket, Key="data/b.libsvm")  # leaves a delete marker

    # Emptying a versioned bucket, as force_destroy does: DeleteObjects of every version and marker.
    listing = s3.list_object_versions(Bucket=tls_only_bucket)
    everything = [
        {"Key": item["Key"], "VersionId": item["VersionId"]}
        for item in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    ]
    assert len(everything) == 4
    result = s3.delete_objects(Bucket=tls_only_bucket, Delete={"Objects": everything})
    assert not result.get("Errors")
    assert len(result["Deleted"]) == 4
    remaining = s3.list_object_versions(Bucket=tls_only_bucket)
    assert not remaining.get("Versions") and not remaining.get("DeleteMarkers")
    s3.delete_bucket(Bucket=tls_only_bucket)


def test_the_secure_transport_condition_is_evaluated_from_the_request(aws_env):
    # Inverted on purpose: deny requests that DID come over TLS. If the condition were dropped or ignored,
    # this policy would deny nothing (dropped) or the test above would fail (ignored).
    name = unique("deny-tls")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(deny_insecure_transport(name, secure_transport="true")))
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=name, Key="k")
    assert error_code(denied) in ("AccessDenied", "403")
    result = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "k"}]})
    assert [error["Code"] for error in result["Errors"]] == ["AccessDenied"]
    s3.delete_bucket_policy(Bucket=name)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"


def test_a_tls_version_condition_sees_the_connections_version(aws_env):
    name = unique("tls-version")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    old_tls = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{name}/*",
                "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(old_tls))
    s3.put_object(Bucket=name, Key="k", Body=b"v")  # the emulator serves TLS 1.2 or newer
    old_tls["Statement"][0]["Condition"] = {"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(old_tls))
    with pytest.raises(ClientError):
        s3.get_object(Bucket=name, Key="k")


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"aws:SecureTransport": "false"}, policy.Decision.EXPLICIT_DENY),
        ({"aws:SecureTransport": "true"}, policy.Decision.IMPLICIT_DENY),
        ({}, policy.Decision.IMPLICIT_DENY),  # AWS: a condition on a missing key does not match
    ],
)
def test_policy_evaluation_follows_aws_condition_rules(context, expected):
    document = deny_insecure_transport("b")
    outcome = policy.evaluate([document], "s3:GetObject", "arn:aws:s3:::b/key", context, resource_policy=True)
    assert outcome.decision == expected


@pytest.mark.parametrize(
    ("operator", "key", "values", "context", "holds"),
    [
        ("StringEquals", "aws:RequestTag/Project", ["vgsales"], {"aws:requesttag/project": "vgsales"}, True),
        ("StringEquals", "aws:RequestTag/Project", ["vgsales"], {"aws:requesttag/project": "other"}, False),
        ("StringNotEquals", "aws:RequestTag/Project", ["vgsales"], {}, True),  # negated + missing key
        ("StringEqualsIfExists", "aws:RequestTag/Project", ["vgsales"], {}, True),
        ("StringLike", "s3:prefix", ["data/*"], {"s3:prefix": "data/train"}, True),
        ("StringLike", "s3:prefix", ["data/?"], {"s3:prefix": "data/ab"}, False),
        ("Null", "aws:RequestTag/Project", ["true"], {}, True),
        ("Null", "aws:RequestTag/Project", ["false"], {}, False),
        ("NumericLessThan", "s3:TlsVersion", ["1.2"], {"s3:tlsversion": "1.3"}, False),
        ("Bool", "aws:SecureTransport", [False], {"aws:securetransport": "false"}, True),
        ("DateGreaterThan", "aws:CurrentTime", ["2020-01-01T00:00:00Z"], {"aws:currenttime": "x"}, False),
        # Set operators on a multivalued key (IAM user guide, "Set operators for multivalued context keys")
        ("ForAllValues:StringNotEquals", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("team", "cost")}, True),
        ("ForAllValues:StringNotEquals", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("team", "stack")}, False),
        ("ForAllValues:StringNotEquals", "aws:TagKeys", ["stack"], {}, True),  # absent: true for every value
        ("ForAllValues:StringEquals", "aws:TagKeys", ["team", "cost"], {"aws:tagkeys": ("team", "costs")}, False),
        ("ForAnyValue:StringEquals", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("team", "stack")}, True),
        ("ForAnyValue:StringEquals", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("team", "stacks")}, False),
        ("ForAnyValue:StringEquals", "aws:TagKeys", ["stack"], {}, False),  # absent: no value matches
        ("ForAllValues:StringNotEqualsIgnoreCase", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("Stack",)}, False),
        ("ForSomeValues:StringEquals", "aws:TagKeys", ["stack"], {"aws:tagkeys": ("stack",)}, False),  # no such
        ("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["stack"], {}, True),
        # a plain operator on several values (tag keys that differ only in case) must hold for each
        ("StringEquals", "aws:RequestTag/stack", ["a"], {"aws:requesttag/stack": ("a", "b")}, False),
        ("StringEquals", "aws:RequestTag/stack", ["a"], {"aws:requesttag/stack": ("a", "a")}, True),
    ],
)
def test_condition_operators(operator, key, values, context, holds):
    assert policy.conditions_hold({operator: {key: values}}, context) is holds


def test_allow_statements_with_failing_conditions_do_not_deny():
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ]
    }
    outcome = policy.evaluate([document], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:securetransport": "false"}, True)
    assert outcome.decision == policy.Decision.IMPLICIT_DENY  # moto's own evaluator says DENIED here


def test_request_context_reads_the_wsgi_scheme():
    assert s3_policy.request_context({"wsgi.url_scheme": "http"}) == {"aws:securetransport": "false"}
    secure = s3_policy.request_context({"wsgi.url_scheme": "https", s3_policy.TLS_VERSION_ENVIRON_KEY: "TLSv1.3"})
    assert secure == {"aws:securetransport": "true", "s3:tlsversion": "1.3"}


# --- IAM -------------------------------------------------------------------------------------------------


def test_managed_policies_can_be_attached(aws_env):
    iam = boto3.client("iam")
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ASSUME_SAGEMAKER))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSageMakerFullAccess"]


def test_gap_moto_loads_managed_policies_only_when_asked(monkeypatch):
    """Off by default; asked for in moto's configuration (what the emulator does, server.MOTO_CONFIG) or its variable."""
    from moto import settings
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "iam", {"load_aws_managed_policies": False})
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    assert not settings.load_iam_aws_managed_policies()
    monkeypatch.setitem(default_user_config, "iam", {"load_aws_managed_policies": True})
    assert settings.load_iam_aws_managed_policies()
    monkeypatch.setitem(default_user_config, "iam", {"load_aws_managed_policies": False})
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    assert settings.load_iam_aws_managed_policies()


def test_gap_moto_has_no_simulate_principal_policy():
    assert getattr(IamResponse, "simulate_principal_policy", None) is None


@pytest.fixture
def least_privilege_role(aws_env):
    iam = boto3.client("iam")
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ASSUME_SAGEMAKER))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="data",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": "arn:aws:s3:::stack-bucket/*",
                    },
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::stack-bucket"},
                    {
                        "Effect": "Allow",
                        "Action": "sagemaker:CreateTrainingJob",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestTag/Project": "vgsales"}},
                    },
                    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
                ],
            }
        ),
    )
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess")
    return arn


def decisions(results: list[dict]) -> dict[tuple[str, str], str]:
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}


def test_simulate_principal_policy_evaluates_a_roles_policies(least_privilege_role):
    iam = boto3.client("iam")
    results = iam.simulate_principal_policy(
        PolicySourceArn=least_privilege_role,
        ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:DeleteBucket", "logs:GetLogEvents"],
        ResourceArns=["arn:aws:s3:::stack-bucket/data.csv", "arn:aws:s3:::other-bucket/data.csv"],
    )["EvaluationResults"]
    assert decisions(results) == {
        ("s3:GetObject", "arn:aws:s3:::stack-bucket/data.csv"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::other-bucket/data.csv"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::stack-bucket/data.csv"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::other-bucket/data.csv"): "implicitDeny",
        ("s3:DeleteBucket", "arn:aws:s3:::stack-bucket/data.csv"): "explicitDeny",
        ("s3:DeleteBucket", "arn:aws:s3:::other-bucket/data.csv"): "explicitDeny",
        ("logs:GetLogEvents", "arn:aws:s3:::stack-bucket/data.csv"): "allowed",  # the managed policy's "*"
        ("logs:GetLogEvents", "arn:aws:s3:::other-bucket/data.csv"): "allowed",
    }
    managed = next(r for r in results if r["EvalActionName"] == "logs:GetLogEvents")
    assert managed["MatchedStatements"][0] == {
        "SourcePolicyId": "CloudWatchLogsReadOnlyAccess",
        "SourcePolicyType": "aws-managed",
    }


def test_simulate_principal_policy_uses_and_reports_context_keys(least_privilege_role):
    iam = boto3.client("iam")
    without = iam.simulate_principal_policy(
        PolicySourceArn=least_privilege_role, ActionNames=["sagemaker:CreateTrainingJob"]
    )
    (result,) = without["EvaluationResults"]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:RequestTag/Project"]
    tagged = iam.simulate_principal_policy(
        PolicySourceArn=least_privilege_role,
        ActionNames=["sagemaker:CreateTrainingJob"],
        ContextEntries=[
            {"ContextKeyName": "aws:RequestTag/Project", "ContextKeyValues": ["vgsales"], "ContextKeyType": "string"}
        ],
    )
    assert tagged["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_simulate_principal_policy_covers_users_and_their_groups(aws_env):
    iam = boto3.client("iam")
    user, group = unique("user"), unique("group")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(
        GroupName=group,
        PolicyName="read",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
        ),
    )
    (result,) = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"])["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"] == [{"SourcePolicyId": "read", "SourcePolicyType": "group"}]


def test_simulate_principal_policy_of_an_unknown_role_is_no_such_entity(aws_env):
    with pytest.raises(ClientError) as unknown:
        boto3.client("iam").simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:role/not-there", ActionNames=["s3:GetObject"]
        )
    assert error_code(unknown) == "NoSuchEntity"


# --- SageMaker: tags ---------------------------------------------------------------------------------------


def lifecycle_config_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:notebook-instance-lifecycle-config/{name}"


def test_gap_moto_cannot_find_lifecycle_configs_or_missing_resources_by_arn(aws_env):
    name = unique("lcc")
    boto3.client("sagemaker").create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    moto_lookup = SageMakerModelBackend._get_resource_from_arn
    with pytest.raises(AttributeError):  # served as a 500
        moto_lookup(backend, lifecycle_config_arn(name))
    missing = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/not-there"
    assert moto_lookup(backend, missing) is None  # then `None.tags`: another 500


def test_lifecycle_config_tags_are_kept_and_listed(aws_env):
    sagemaker = boto3.client("sagemaker")
    name = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, Tags=[{"Key": "Project", "Value": "vgsales"}]
    )
    assert sagemaker.list_tags(ResourceArn=lifecycle_config_arn(name))["Tags"] == [
        {"Key": "Project", "Value": "vgsales"}
    ]


def test_gap_moto_cannot_list_lifecycle_configs():
    assert getattr(SageMakerResponse, "list_notebook_instance_lifecycle_configs", None) is None


def test_lifecycle_configs_are_listed_by_name(aws_env):
    sagemaker = boto3.client("sagemaker")
    names = sorted(unique("lcc-listed") for _ in range(2))
    for name in names:
        sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    pages = sagemaker.get_paginator("list_notebook_instance_lifecycle_configs").paginate(NameContains="lcc-listed")
    listed = [c["NotebookInstanceLifecycleConfigName"] for page in pages for c in page["NotebookInstanceLifecycleConfigs"]]
    assert set(names) <= set(listed)
    assert all("lcc-listed" in name for name in listed)


def test_listing_tags_of_a_missing_resource_is_a_validation_error(aws_env):
    with pytest.raises(ClientError) as missing:
        boto3.client("sagemaker").list_tags(
            ResourceArn=f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/not-there"
        )
    assert error_code(missing) == "ValidationException"


def test_gap_moto_add_tags_appends_duplicate_keys(aws_env):
    sagemaker = boto3.client("sagemaker")
    name = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    moto_add_tags = SageMakerModelBackend.add_tags
    moto_add_tags(backend, lifecycle_config_arn(name), [{"Key": "k", "Value": "1"}])
    assert moto_add_tags(backend, lifecycle_config_arn(name), [{"Key": "k", "Value": "2"}]) == [
        {"Key": "k", "Value": "1"},
        {"Key": "k", "Value": "2"},
    ]


@pytest.fixture
def pipeline_resources(aws_env):
    """A training job, model, endpoint config and endpoint, tagged as the pipeline tags them."""
    sagemaker = boto3.client("sagemaker")
    name = unique("res")
    role = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{name}"
    tags = [{"Key": "Project", "Value": "vgsales"}]
    job = sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        RoleArn=role,
        OutputDataConfig={"S3OutputPath": f"s3://{name}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
        Tags=tags,
    )["TrainingJobArn"]
    model = sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{name}/model.tar.gz"},
        ExecutionRoleArn=role,
        Tags=tags,
    )["ModelArn"]
    config = sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
        Tags=tags,
    )["EndpointConfigArn"]
    endpoint = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)["EndpointArn"]
    return {"name": name, "arns": [job, model, config, endpoint]}


def test_every_pipeline_resource_kind_is_tagged_and_retagged(pipeline_resources):
    sagemaker = boto3.client("sagemaker")
    for arn in pipeline_resources["arns"]:
        assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "Project", "Value": "vgsales"}], arn
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "Project", "Value": "other"}, {"Key": "Run", "Value": "1"}])
        assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [
            {"Key": "Project", "Value": "other"},
            {"Key": "Run", "Value": "1"},
        ], arn
        sagemaker.delete_tags(ResourceArn=arn, TagKeys=["Run"])
        assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "Project", "Value": "other"}], arn


# --- SageMaker: notebook instances and lifecycle configs --------------------------------------------------


def test_gap_moto_has_no_notebook_or_lifecycle_config_updates_or_presigned_urls():
    for action in (
        "update_notebook_instance",
        "update_notebook_instance_lifecycle_config",
        "create_presigned_notebook_instance_url",
    ):
        assert getattr(SageMakerResponse, action, None) is None, action


def test_gap_moto_describes_notebooks_without_platform_and_metadata_settings(aws_env):
    notebook = create_notebook(boto3.client("sagemaker"))
    instance = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].get_notebook_instance(notebook)
    described = FakeSagemakerNotebookInstance.to_dict(instance)
    assert not {"PlatformIdentifier", "InstanceMetadataServiceConfiguration", "IpAddressType"} & described.keys()


def create_notebook(sagemaker, **extra) -> str:
    name = unique("nb")
    sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{name}",
        **extra,
    )
    return name


def test_notebook_instances_report_platform_and_metadata_settings(aws_env):
    sagemaker = boto3.client("sagemaker")
    given = create_notebook(
        sagemaker,
        PlatformIdentifier="notebook-al2-v3",
        InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
    )
    described = sagemaker.describe_notebook_instance(NotebookInstanceName=given)
    assert described["PlatformIdentifier"] == "notebook-al2-v3"
    assert described["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "2"}
    defaults = sagemaker.describe_notebook_instance(NotebookInstanceName=create_notebook(sagemaker))
    assert defaults["PlatformIdentifier"] == "notebook-al2023-v1"
    assert defaults["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "1"}
    assert defaults["IpAddressType"] == "ipv4"


def test_update_notebook_instance_needs_a_stopped_instance(aws_env, make_role):
    sagemaker = boto3.client("sagemaker")
    name = unique("nb")
    role = make_role("vgsales-nb", [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}])
    sagemaker.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=role)
    with pytest.raises(ClientError) as starting:
        sagemaker.update_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.large")
    assert error_code(starting) == "ValidationException"
    # InService once the Create call returns, unless the machine is slow (notebooks.QUICK_SECONDS): Pending then
    assert re.search(r"Status \((InService|Pending)\) not in \(\[Stopped, Failed\]\)", str(starting.value))
    sagemaker.get_waiter("notebook_instance_in_service").wait(NotebookInstanceName=name, WaiterConfig={"Delay": 1})
    sagemaker.stop_notebook_instance(NotebookInstanceName=name)
    sagemaker.get_waiter("notebook_instance_stopped").wait(NotebookInstanceName=name, WaiterConfig={"Delay": 1})
    sagemaker.update_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.large")
    assert sagemaker.describe_notebook_instance(NotebookInstanceName=name)["InstanceType"] == "ml.t3.large"


def test_update_notebook_instance_changes_a_stopped_instance(aws_env):
    sagemaker = boto3.client("sagemaker")
    lifecycle = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=lifecycle)
    # Its role does not exist, so it fails to start (notebooks.py): a Failed instance may be updated too.
    name = create_notebook(sagemaker, LifecycleConfigName=lifecycle, VolumeSizeInGB=10)
    assert sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Failed"
    sagemaker.update_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.large",
        VolumeSizeInGB=20,
        DisassociateLifecycleConfig=True,
        InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
    )
    described = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
    assert described["NotebookInstanceStatus"] == "Stopped"
    assert described["InstanceType"] == "ml.t3.large"
    assert described["VolumeSizeInGB"] == 20
    assert "NotebookInstanceLifecycleConfigName" not in described
    assert described["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "2"}
    with pytest.raises(ClientError) as shrink:
        sagemaker.update_notebook_instance(NotebookInstanceName=name, VolumeSizeInGB=5)
    assert error_code(shrink) == "ValidationException"
    with pytest.raises(ClientError) as bad_type:
        sagemaker.update_notebook_instance(NotebookInstanceName=name, InstanceType="ml.x9.huge")
    assert error_code(bad_type) == "ValidationException"


def test_update_notebook_instance_lifecycle_config_replaces_given_hooks(aws_env):
    sagemaker = boto3.client("sagemaker")
    name = unique("lcc")
    on_create = [{"Content": base64.b64encode(b"#!/bin/bash\necho create\n").decode()}]
    on_start = [{"Content": base64.b64encode(b"#!/bin/bash\necho start\n").decode()}]
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, OnCreate=on_create, OnStart=on_start
    )
    new_start = [{"Content": base64.b64encode(b"#!/bin/bash\necho started\n").decode()}]
    sagemaker.update_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name, OnStart=new_start)
    described = sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert described["OnCreate"] == on_create
    assert described["OnStart"] == new_start
    with pytest.raises(ClientError) as missing:
        sagemaker.update_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=unique("none"), OnStart=new_start
        )
    assert error_code(missing) == "ValidationException"


def test_gap_moto_describes_unset_settings_as_empty_structures(pipeline_resources):
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    name = pipeline_resources["name"]
    assert backend.describe_model(name).response_object["VpcConfig"] == {}
    assert backend.describe_endpoint_config(name)["DataCaptureConfig"] == {}
    assert backend.describe_endpoint(name)["DataCaptureConfig"] == {}
    assert "KmsKeyId" not in backend.describe_training_job(name)["OutputDataConfig"]


def test_describe_responses_omit_unset_settings_like_aws(pipeline_resources):
    sagemaker = boto3.client("sagemaker")
    name = pipeline_resources["name"]
    assert "VpcConfig" not in sagemaker.describe_model(ModelName=name)
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint(EndpointName=name)
    assert sagemaker.describe_training_job(TrainingJobName=name)["OutputDataConfig"]["KmsKeyId"] == ""


def test_sagemaker_core_reads_every_resource_the_project_uses(pipeline_resources):
    from sagemaker.core import resources

    sagemaker = boto3.client("sagemaker")
    name = pipeline_resources["name"]
    lifecycle = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=lifecycle)
    notebook = create_notebook(sagemaker, LifecycleConfigName=lifecycle)

    assert resources.TrainingJob.get(name).output_data_config.s3_output_path == f"s3://{name}/output"
    assert resources.Model.get(name).primary_container.image == XGBOOST_IMAGE
    assert resources.EndpointConfig.get(name).production_variants[0].variant_name == "AllTraffic"
    assert resources.Endpoint.get(name).endpoint_config_name == name
    assert resources.NotebookInstance.get(notebook).notebook_instance_lifecycle_config_name == lifecycle
    assert resources.NotebookInstanceLifecycleConfig.get(lifecycle).notebook_instance_lifecycle_config_name == lifecycle


def test_pruning_removes_only_empty_structures_that_require_members():
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "apiVersion": "1", "serviceId": "T"},
            "operations": {},
            "shapes": {
                "Out": {
                    "type": "structure",
                    "members": {
                        "Vpc": {"shape": "Vpc"},
                        "Loose": {"shape": "Loose"},
                        "Items": {"shape": "Items"},
                        "Name": {"shape": "Str"},
                    },
                },
                "Vpc": {"type": "structure", "required": ["Subnets"], "members": {"Subnets": {"shape": "Str"}}},
                "Loose": {"type": "structure", "members": {"Note": {"shape": "Str"}}},
                "Items": {"type": "list", "member": {"shape": "Out"}},
                "Str": {"type": "string"},
            },
        }
    )
    shape = model.shape_for("Out")
    value = {"Vpc": {}, "Loose": {}, "Name": "n", "Extra": {}, "Items": [{"Vpc": {}, "Name": "inner"}]}
    assert prune_empty_structures(value, shape) == {"Loose": {}, "Name": "n", "Extra": {}, "Items": [{"Name": "inner"}]}
    assert value["Vpc"] == {}  # the input (moto's state) is left alone


# --- compat/policy.py: the evaluator's own rules, each with the near miss that would pass a wrong one ---


def test_an_explicit_deny_beats_an_allow_that_matches_the_same_request():
    """AWS's evaluation logic: an explicit Deny in any policy wins over any Allow, wherever it stands. Near miss:
    the same Deny on another object leaves the Allow deciding."""
    allow = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::stack-bucket/*"}]}
    deny = {"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::stack-bucket/secret/*"}}
    for documents in ([allow, deny], [deny, allow]):
        assert policy.evaluate(documents, "s3:GetObject", "arn:aws:s3:::stack-bucket/secret/a", {}).decision is policy.Decision.EXPLICIT_DENY
        assert policy.evaluate(documents, "s3:GetObject", "arn:aws:s3:::stack-bucket/data/a", {}).decision is policy.Decision.ALLOWED


def test_not_action_applies_to_every_action_but_those_listed():
    """NotAction: the statement applies to every action except the listed ones (case-insensitively, as Action)."""
    document = {"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "S3:DeleteObject"], "Resource": "*"}]}
    assert policy.evaluate([document], "s3:GetObject", "arn:aws:s3:::b/k", {}).decision is policy.Decision.ALLOWED
    for action in ("s3:DeleteObject", "iam:CreateUser"):
        assert policy.evaluate([document], action, "*", {}).decision is policy.Decision.IMPLICIT_DENY, action
    deny = {"Statement": [{"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]}
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert policy.evaluate([allow_all, deny], "s3:GetObject", "*", {}).decision is policy.Decision.ALLOWED
    assert policy.evaluate([allow_all, deny], "s3:PutObject", "*", {}).decision is policy.Decision.EXPLICIT_DENY


# --- S3 keys as AWS takes them --------------------------------------------------------------------------


def test_listings_url_encode_keys_when_asked(aws_env):
    """encoding-type=url (boto3 asks for it and decodes): a key with a NUL or a bell, not valid in XML raw,
    lists back intact through ListObjectVersions (moto gap: ignored) and ListObjectsV2; prefixes too."""
    s3 = boto3.client("s3")
    bucket = f"vgsales-keys-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = ["nul\x00key", "dir\x07/bell and space+plus ü"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.delete_object(Bucket=bucket, Key=keys[0])
    versions = s3.list_object_versions(Bucket=bucket)
    assert sorted(v["Key"] for v in versions["Versions"]) == sorted(keys)
    assert [m["Key"] for m in versions["DeleteMarkers"]] == [keys[0]]
    folders = s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="dir\x07")
    assert folders["Prefix"] == "dir\x07" and folders["CommonPrefixes"] == [{"Prefix": "dir\x07/"}]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [keys[1]]
    # Terraform reads every bucket's request payment configuration; moto answered it with the object listing.
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


def test_a_key_over_1024_bytes_is_refused_as_s3_refuses_it(aws_env):
    """S3 caps a key at 1,024 bytes of UTF-8 (KeyTooLongError); moto took any length. Near miss: exactly 1,024
    bytes, counted in bytes (512 two-byte characters), is accepted."""
    s3 = boto3.client("s3")
    bucket = f"vgsales-keys-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for key in ("k" * 1024, "é" * 512):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x"
    for key in ("k" * 1025, "é" * 513):
        for call in (lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"x"),
                     lambda: s3.create_multipart_upload(Bucket=bucket, Key=key),
                     lambda: s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "k" * 1024})):
            with pytest.raises(ClientError) as refused:
                call()
            assert refused.value.response["Error"]["Code"] == "KeyTooLongError"
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(["k" * 1024, "é" * 512])


def test_gap_moto_lists_every_model_whatever_is_asked():
    """moto 5.2.5's ListModels reads no parameter: all models, oldest first, no NextToken."""
    import inspect

    from moto.sagemaker.responses import SageMakerResponse as MotoResponse

    source = inspect.getsource(MotoResponse.list_models)
    assert "_get_param" not in source and "NextToken" not in source


def test_models_are_listed_filtered_sorted_and_paged_as_sagemaker_does(aws_env, make_role):
    """ListModels: NameContains first, then SortBy and SortOrder (CreationTime, Descending by default), then
    MaxResults and NextToken: a match on a later page is found, and no model is listed twice."""
    sagemaker = boto3.client("sagemaker")
    role = make_role("models-listed", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    stem = unique("listed-model")
    names = [f"{stem}-{letter}" for letter in "cab"]  # created in this order; by name: a, b, c
    for name in names:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=role,
                               PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"})
    sagemaker.create_model(ModelName=f"other-{stem}-z", ExecutionRoleArn=role,
                           PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"})

    def listed(**request) -> list[str]:
        return [model["ModelName"] for model in sagemaker.list_models(NameContains=stem, **request)["Models"]
                if model["ModelName"].startswith(stem)]

    assert listed() == names[::-1], "CreationTime, Descending by default"
    assert listed(SortOrder="Ascending") == names
    assert listed(SortBy="Name", SortOrder="Ascending") == sorted(names)
    first = sagemaker.list_models(NameContains=stem, MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [model["ModelName"] for model in first["Models"]] == sorted([*names, f"other-{stem}-z"])[:2]
    assert first["NextToken"]
    pages = sagemaker.get_paginator("list_models").paginate(NameContains=stem, PaginationConfig={"PageSize": 1})
    every = [model["ModelName"] for page in pages for model in page["Models"]]
    assert sorted(every) == sorted([*names, f"other-{stem}-z"]) and len(every) == len(set(every))
    with pytest.raises(ClientError, match="Invalid pagination token"):
        sagemaker.list_models(NextToken="not-a-token")
    with pytest.raises(ClientError, match="sortBy"):
        sagemaker.list_models(SortBy="Status")  # ListTrainingJobs' third key is not ListModels'
    from botocore.config import Config

    unchecked = boto3.client("sagemaker", config=Config(parameter_validation=False))  # what another SDK may send
    with pytest.raises(ClientError, match="sortOrder"):
        unchecked.list_models(SortOrder="descending")
    for size in (0, 101):
        with pytest.raises(ClientError, match="maxResults"):
            unchecked.list_models(MaxResults=size)
    assert len(sagemaker.list_models(MaxResults=100)["Models"]) <= 100  # the bound itself is allowed
