"""The emulator's access rules in-process (vgsales.emulator.access): what each patch relies on in moto, and the
rules that the client tests (tests/clients/test_notebook_identity.py) see from outside."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import settings as moto_settings
from moto.iam import models as iam_models

from vgsales.emulator import access
from vgsales.emulator.compat._patching import is_patched
from vgsales.emulator.endpoint import Credentials
from vgsales.emulator.server import EmulatorServer


def test_the_access_rules_are_installed(emulator):
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequestBase
    from moto.logs import urls as logs_urls
    from moto.sagemaker import urls as sagemaker_urls

    from vgsales.emulator.sagemaker import SageMakerService
    from vgsales.emulator.services import LogsService

    assert is_patched(IAMRequestBase, "check_action_permitted")
    assert is_patched(ActionAuthenticatorMixin, "_authenticate_and_authorize_action")
    # The services' resource ARNs come from their own response classes, which moto's routes dispatch to.
    assert "_determine_resource" in vars(SageMakerService) and "_determine_resource" in vars(LogsService)
    assert sagemaker_urls.url_paths["{0}/$"].__self__ is SageMakerService
    assert logs_urls.url_paths["{0}/$"].__self__ is LogsService
    assert is_patched(iam_models, "get_account_id_from")


def test_an_account_is_found_by_its_key_without_creating_every_partition(emulator, aws_env):
    """moto's own lookup creates the IAM backend of all five partitions (0.5 s of managed policies)."""
    admin = emulator.credentials
    assert iam_models.get_account_id_from(admin.access_key_id) == "123456789012"
    assert iam_models.get_account_id_from("AKIAZZZZZZZZZZZZZZZZ") == "123456789012"  # moto's default
    other = iam_models.iam_backends["210987654321"]["aws"]
    other.create_user(None, "someone", path="/", tags=[])
    key = other.create_access_key("someone")
    assert iam_models.get_account_id_from(key.access_key_id) == "210987654321"
    assert not dict.__contains__(iam_models.iam_backends["123456789012"], "aws-cn")


def test_enforcement_stays_on_while_any_server_runs(emulator):
    """Servers in one process share moto: stopping one must not switch IAM off for the other (near miss:
    restoring the setting on every stop)."""
    assert access.enforced()
    second = EmulatorServer().start()
    second.stop()
    assert access.enforced() and moto_settings.INITIAL_NO_AUTH_ACTION_COUNT == 0
    with pytest.raises(ClientError) as refused:
        boto3.client(
            "sts", region_name="us-east-1", endpoint_url=emulator.url, verify=str(emulator.ca_bundle),
            aws_access_key_id="AKIAZZZZZZZZZZZZZZZZ", aws_secret_access_key="x" * 40,
        ).get_caller_identity()  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_a_stopped_servers_key_is_revoked_and_the_others_still_works(emulator):
    second = EmulatorServer().start()
    key = second.credentials
    second.stop()
    env = emulator.client_env()

    def identity(credentials: Credentials) -> dict:
        return boto3.client(
            "sts", region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"], verify=env["AWS_CA_BUNDLE"],
            aws_access_key_id=credentials.access_key_id, aws_secret_access_key=credentials.secret_access_key,
        ).get_caller_identity()  # fmt: skip

    assert identity(emulator.credentials)["Arn"].endswith(":user/vgsales-emulator-admin")
    with pytest.raises(ClientError) as refused:
        identity(key)
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_credentials_never_show_their_secret():
    credentials = Credentials("AKIAEXAMPLEEXAMPLE00", "s3cr3t-value-that-must-not-print")
    assert "s3cr3t" not in repr(credentials) and "s3cr3t" not in str(credentials)
    assert Credentials.from_json(json.loads(json.dumps(credentials.to_json()))) == credentials


def test_the_admin_secret_comes_from_the_operating_system(emulator):
    """Not moto's seedable generator: two keys issued in a row share nothing, and use a 62-letter alphabet."""
    first, second = access.issue_admin_credentials(), access.issue_admin_credentials()
    try:
        assert first.secret_access_key != second.secret_access_key and len(first.secret_access_key) == 40
        assert set(first.secret_access_key) <= set(access._SECRET_ALPHABET)
    finally:
        access.revoke(first)
        access.revoke(second)


@pytest.mark.parametrize("deny", [False, True], ids=["trusted", "trusted, then denied"])
def test_a_role_session_assumes_another_role_only_as_its_trust_policy_says(emulator, aws_env, deny):
    """A non-admin caller needs sts:AssumeRole in its own policy AND the target role's trust; an explicit Deny
    in the trust policy wins even after an Allow (near miss: the first matching statement deciding)."""
    import uuid

    iam, sts = boto3.client("iam"), boto3.client("sts")
    suffix = uuid.uuid4().hex[:8]
    services = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    caller = iam.create_role(RoleName=f"caller-{suffix}", AssumeRolePolicyDocument=json.dumps(services))["Role"]
    statements = [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]
    if deny:
        statements.append({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    target = iam.create_role(RoleName=f"target-{suffix}", AssumeRolePolicyDocument=json.dumps({"Statement": statements}))["Role"]
    iam.put_role_policy(RoleName=caller["RoleName"], PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target["Arn"]}]}))
    session = sts.assume_role(RoleArn=caller["Arn"], RoleSessionName="SageMaker")["Credentials"]
    as_caller = boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"], aws_session_token=session["SessionToken"],
    )  # fmt: skip
    if deny:
        with pytest.raises(ClientError) as refused:
            as_caller.assume_role(RoleArn=target["Arn"], RoleSessionName="second")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    else:
        assumed = as_caller.assume_role(RoleArn=target["Arn"], RoleSessionName="second")
        assert assumed["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/target-{suffix}/second")


def _as_session_of(role_arn: str, service: str):  # -> a boto3 client
    """A client signing as a session of the role (the administrative identity assumes it, as SageMaker would)."""
    session = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="SageMaker")["Credentials"]
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"], aws_session_token=session["SessionToken"],
    )  # fmt: skip


@pytest.mark.parametrize("own", [True, False], ids=["its own role", "another role"])
def test_a_tuning_job_hands_sagemaker_only_a_role_the_caller_may_pass(emulator, aws_env, own):
    """CreateHyperParameterTuningJob hands TrainingJobDefinition.RoleArn to SageMaker, as CreateTrainingJob hands
    RoleArn: the caller needs iam:PassRole on that role (near miss: its own role, which its policy lets it pass)."""
    import uuid

    iam = boto3.client("iam")
    suffix = uuid.uuid4().hex[:8]
    trust = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ]}  # fmt: skip
    caller = iam.create_role(RoleName=f"tuner-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    other = iam.create_role(RoleName=f"other-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    statements = [
        {"Effect": "Allow", "Action": "sagemaker:CreateHyperParameterTuningJob", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": caller["Arn"]},
    ]
    iam.put_role_policy(RoleName=caller["RoleName"], PolicyName="tune",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    sagemaker = _as_session_of(caller["Arn"], "sagemaker")
    passed = caller if own else other
    with pytest.raises(ClientError) as refused:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=f"tune-{suffix}",
            HyperParameterTuningJobConfig={"Strategy": "Random", "ResourceLimits": {"MaxParallelTrainingJobs": 1}},
            TrainingJobDefinition={
                "AlgorithmSpecification": {"TrainingImage": "example.com/not-xgboost:1", "TrainingInputMode": "File"},
                "RoleArn": passed["Arn"],
                "OutputDataConfig": {"S3OutputPath": "s3://nowhere/out"},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            },
        )
    error = refused.value.response["Error"]
    if own:  # past the access check, refused for what the request asks (the image is not the built-in XGBoost)
        assert error["Code"] == "ValidationException" and "not executed by the local emulator" in error["Message"]
    else:
        assert error["Code"] == "AccessDeniedException"
        assert f"iam:PassRole on resource: {other['Arn']}" in error["Message"]


@pytest.mark.parametrize("smuggled", ["RoleArn", "ModelName", "Action"])
def test_sagemaker_acts_on_the_parameters_it_authorised(emulator, aws_env, smuggled):
    """SageMaker speaks AWS's JSON protocol: the operation is in X-Amz-Target and every parameter in the JSON body.
    A signed CreateModel that names an allowed role and model in its body, and another role, another model name or
    another operation in its URL's query string, is authorised and carried out on the body's values alike (moto's
    generic _get_param and _get_action read the query string first)."""
    import uuid

    iam = boto3.client("iam")
    suffix = uuid.uuid4().hex[:8]
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    caller = iam.create_role(RoleName=f"modeller-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    other = iam.create_role(RoleName=f"powerful-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    allowed_model = f"vgsales-allowed-{suffix}"
    statements = [
        {"Effect": "Allow", "Action": "sagemaker:CreateModel",
         "Resource": f"arn:aws:sagemaker:us-east-1:123456789012:model/{allowed_model}"},
        {"Effect": "Allow", "Action": ["sagemaker:DescribeModel", "sagemaker:ListModels"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": caller["Arn"]},
    ]  # fmt: skip
    iam.put_role_policy(RoleName=caller["RoleName"], PolicyName="model",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    sagemaker = _as_session_of(caller["Arn"], "sagemaker")
    query = {
        "RoleArn": f"RoleArn={other['Arn']}",
        "ModelName": f"ModelName=vgsales-other-{suffix}",
        "Action": "Action=ListModels",
    }[smuggled]

    def smuggle(request, **_):  # before signing: the query string is signed, as an attacker holding the key would
        request.url += ("&" if "?" in request.url else "?") + query

    sagemaker.meta.events.register("before-sign.sagemaker.CreateModel", smuggle)
    sagemaker.create_model(
        ModelName=allowed_model, ExecutionRoleArn=caller["Arn"],
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0",
                          "ModelDataUrl": "s3://nowhere/model.tar.gz"},
    )  # fmt: skip
    created = boto3.client("sagemaker").describe_model(ModelName=allowed_model)
    assert created["ExecutionRoleArn"] == caller["Arn"], "the job would act as the role named in the URL"
    names = [model["ModelName"] for model in boto3.client("sagemaker").list_models()["Models"]]
    assert f"vgsales-other-{suffix}" not in names


@pytest.mark.parametrize("where", ["url", "body"])
def test_iam_acts_on_the_parameter_it_authorised(emulator, aws_env, where):
    """IAM speaks the query protocol, whose parameters may come in the URL or the form body: a signed GetRole for the
    caller's own role with another RoleName added in the other place is authorised and answered on one and the
    same value, so it never returns a role the caller may not read."""
    import uuid

    iam = boto3.client("iam")
    suffix = uuid.uuid4().hex[:8]
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    caller = iam.create_role(RoleName=f"reader-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    secret = iam.create_role(RoleName=f"secret-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=caller["RoleName"], PolicyName="self", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": caller["Arn"]}]}))
    as_caller = _as_session_of(caller["Arn"], "iam")

    def smuggle(request, **_):
        if where == "url":
            request.url += ("&" if "?" in request.url else "?") + f"RoleName={secret['RoleName']}"
        else:  # botocore holds the query protocol's form as a dict until it sends it
            from urllib.parse import urlencode

            request.data = urlencode([*dict(request.data).items(), ("RoleName", secret["RoleName"])])

    as_caller.meta.events.register("before-sign.iam.GetRole", smuggle)
    try:
        answered = as_caller.get_role(RoleName=caller["RoleName"])["Role"]["RoleName"]
    except ClientError as refused:  # moto signs a form body as it re-encodes it: a repeated field does not match
        assert refused.response["Error"]["Code"] in ("AccessDenied", "SignatureDoesNotMatch")
    else:
        assert answered == caller["RoleName"], "the answer named a role the caller may not read"


def test_sts_assumes_only_the_role_it_authorised(emulator, aws_env):
    """A session allowed to assume one role, signing AssumeRole for it with a second RoleArn added to the URL,
    gets that role or a refusal, never the second one (moto's check read the first RoleArn, its handler the other)."""
    import uuid

    iam = boto3.client("iam")
    suffix = uuid.uuid4().hex[:8]
    services = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    account = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
    caller = iam.create_role(RoleName=f"assumer-{suffix}", AssumeRolePolicyDocument=json.dumps(services))["Role"]
    allowed = iam.create_role(RoleName=f"allowed-{suffix}", AssumeRolePolicyDocument=json.dumps(account))["Role"]
    powerful = iam.create_role(RoleName=f"powerful-{suffix}", AssumeRolePolicyDocument=json.dumps(account))["Role"]
    iam.put_role_policy(RoleName=caller["RoleName"], PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": allowed["Arn"]}]}))
    sts = _as_session_of(caller["Arn"], "sts")
    sts.meta.events.register(
        "before-sign.sts.AssumeRole",
        lambda request, **_: setattr(request, "url", request.url + ("&" if "?" in request.url else "?") + f"RoleArn={powerful['Arn']}"),
    )
    try:
        assumed = sts.assume_role(RoleArn=allowed["Arn"], RoleSessionName="second")["AssumedRoleUser"]["Arn"]
    except ClientError as refused:
        assert refused.response["Error"]["Code"] == "AccessDenied"
    else:
        assert f":assumed-role/allowed-{suffix}/" in assumed, f"assumed {assumed}"


@pytest.mark.parametrize(("action", "allowed"), [
    ("s3:ListBucket", True),  # what S3 checks for HeadBucket
    ("s3:GetObject", False),  # near miss: the bucket's objects, not the bucket
    ("s3:ListBucketVersions", False),  # near miss: a neighbour with the same prefix
], ids=["ListBucket", "GetObject", "ListBucketVersions"])
def test_head_bucket_is_authorised_as_list_bucket(emulator, aws_env, make_role, make_bucket, action, allowed):
    """No IAM action is called s3:HeadBucket; S3 authorises HeadBucket with s3:ListBucket, and the SDK's
    default_bucket() calls HeadBucket with a role allowed exactly that."""
    bucket = make_bucket("vgsales-head", {})
    resource = f"arn:aws:s3:::{bucket}" + ("/*" if action == "s3:GetObject" else "")
    role = make_role("vgsales-head", [{"Effect": "Allow", "Action": action, "Resource": resource}])
    s3 = _as_session_of(role, "s3")
    if allowed:
        assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    else:
        with pytest.raises(ClientError) as refused:
            s3.head_bucket(Bucket=bucket)
        assert refused.value.response["Error"]["Code"] == "403"


@pytest.mark.parametrize(("action", "allowed"), [
    ("cloudwatch:ListMetrics", True),  # IAM's prefix for CloudWatch
    ("monitoring:ListMetrics", False),  # its signing name: no policy can grant that
    ("cloudwatch:ListMetricStreams", False),  # near miss: a neighbour with the same prefix
], ids=["cloudwatch", "monitoring", "ListMetricStreams"])
def test_cloudwatch_actions_have_iams_prefix_not_the_signing_name(emulator, aws_env, make_role, action, allowed):
    role = make_role("vgsales-metrics", [{"Effect": "Allow", "Action": action, "Resource": "*"}])
    cloudwatch = _as_session_of(role, "cloudwatch")
    if allowed:
        assert "Metrics" in cloudwatch.list_metrics()
    else:
        with pytest.raises(ClientError) as refused:
            cloudwatch.list_metrics()
        assert "cloudwatch:ListMetrics" in str(refused.value) and "monitoring:" not in str(refused.value)


# --- tag-based access control (the stack's role with stack_tag: terraform/modules/execution-role) ---------

STACK_KEY = "vgsales:stack"
TAGGED_MODELS = "arn:aws:sagemaker:us-east-1:123456789012:model/*"


def _tagged_statements(with_tag_on_create: bool = True) -> list[dict]:
    """The execution role's tag statements, on models only, written out by hand (the module's own policy is
    exercised by tests/clients/test_notebook_identity.py)."""
    ours = {"aws:RequestTag/vgsales:stack": "vgsales"}
    statements = [
        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": TAGGED_MODELS,
         "Condition": {"StringEquals": ours}},
        {"Effect": "Allow", "Action": ["sagemaker:DescribeModel", "sagemaker:DeleteModel", "sagemaker:ListTags"],
         "Resource": TAGGED_MODELS, "Condition": {"StringEquals": {"aws:ResourceTag/vgsales:stack": "vgsales"}}},
        {"Effect": "Allow", "Action": ["sagemaker:AddTags", "sagemaker:DeleteTags"], "Resource": TAGGED_MODELS,
         "Condition": {"StringEquals": {"aws:ResourceTag/vgsales:stack": "vgsales"},
                       "ForAllValues:StringNotEqualsIgnoreCase": {"aws:TagKeys": [STACK_KEY]}}},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    ]  # fmt: skip
    if with_tag_on_create:
        statements.append({"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": TAGGED_MODELS,
                           "Condition": {"StringEquals": {"sagemaker:TaggingAction": "CreateModel", **ours}}})  # fmt: skip
    return statements


def _create_model(sagemaker, name: str, tags: list[dict] | None) -> None:
    request = {
        "ModelName": name,
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/vgsales-test-sagemaker",  # conftest's role
        "PrimaryContainer": {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                             "ModelDataUrl": "s3://vgsales-tags/model.tar.gz"},
    }  # fmt: skip
    if tags is not None:
        request["Tags"] = tags
    sagemaker.create_model(**request)


def _code(call) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"] + ": " + refused.value.response["Error"]["Message"]


@pytest.mark.parametrize(("tags", "allowed"), [
    ([{"Key": STACK_KEY, "Value": "vgsales"}], True),
    ([{"Key": STACK_KEY, "Value": "vgsales-ci"}], False),  # a neighbour stack whose name starts like ours
    ([{"Key": "vgsales:stacks", "Value": "vgsales"}], False),  # a neighbour key
    # the same key to IAM (case), two values: one cannot hide the other
    ([{"Key": STACK_KEY, "Value": "vgsales"}, {"Key": "VGSALES:STACK", "Value": "vgsales-ci"}], False),
    ([], False),
], ids=["our tag", "another stack's value", "another key", "our value and another in other case", "no tag"])
def test_a_default_named_resource_may_be_created_only_with_the_stacks_tag(emulator, aws_env, make_role, tags, allowed):
    sagemaker = _as_session_of(make_role("vgsales-tags", _tagged_statements()), "sagemaker")
    name = f"sagemaker-xgboost-{uuid.uuid4().hex[:8]}"  # the SDK's kind of name: no prefix of ours
    if allowed:
        _create_model(sagemaker, name, tags)
        assert sagemaker.describe_model(ModelName=name)["ModelName"] == name
        sagemaker.delete_model(ModelName=name)
    else:
        refused = _code(lambda: _create_model(sagemaker, name, tags or None))
        assert refused.startswith("AccessDeniedException: ") and "sagemaker:CreateModel on resource: " in refused


def test_tags_on_create_need_add_tags_as_part_of_the_create(emulator, aws_env, make_role):
    """SageMaker authorises tag-on-create as sagemaker:AddTags with sagemaker:TaggingAction = the create."""
    sagemaker = _as_session_of(make_role("vgsales-tags", _tagged_statements(with_tag_on_create=False)), "sagemaker")
    refused = _code(lambda: _create_model(sagemaker, f"tagged-{uuid.uuid4().hex[:8]}", [{"Key": STACK_KEY, "Value": "vgsales"}]))
    assert refused.startswith("AccessDeniedException: ") and "sagemaker:AddTags on resource: " in refused


@pytest.mark.parametrize(("tags", "allowed"), [
    ([{"Key": STACK_KEY, "Value": "vgsales"}, {"Key": "team", "Value": "a"}], True),
    ([{"Key": STACK_KEY, "Value": "vgsales-ci"}], False),
    ([{"Key": "VGSALES:STACK", "Value": "vgsales"}], True),  # IAM reads tag keys in condition keys without case
    ([{"Key": "VGSALES:STACK", "Value": "vgsales-ci"}, {"Key": STACK_KEY, "Value": "vgsales"}], False),
    ([], False),
], ids=["ours", "another stack's", "ours, upper-case key", "ours and another's in other case", "untagged"])
def test_an_existing_resource_is_reached_by_its_tag_whatever_its_name(emulator, aws_env, make_role, tags, allowed):
    """Made by the administrator (another stack's code, say); the role reaches it only when it carries the stack's
    tag. Its name has capitals: ARNs hold names lower-cased, and the tags are still found."""
    name = f"DEMO-xgboost-{uuid.uuid4().hex[:8]}"
    _create_model(boto3.client("sagemaker"), name, tags)
    sagemaker = _as_session_of(make_role("vgsales-tags", _tagged_statements()), "sagemaker")
    try:
        if allowed:
            assert sagemaker.describe_model(ModelName=name)["ModelName"] == name
        else:
            assert _code(lambda: sagemaker.describe_model(ModelName=name)).startswith("AccessDeniedException: ")
            assert _code(lambda: sagemaker.delete_model(ModelName=name)).startswith("AccessDeniedException: ")
    finally:
        boto3.client("sagemaker").delete_model(ModelName=name)


def test_the_stacks_tag_can_be_neither_changed_nor_removed(emulator, aws_env, make_role):
    name = f"sagemaker-xgboost-{uuid.uuid4().hex[:8]}"
    _create_model(boto3.client("sagemaker"), name, [{"Key": STACK_KEY, "Value": "vgsales"}, {"Key": "team", "Value": "a"}])
    sagemaker = _as_session_of(make_role("vgsales-tags", _tagged_statements()), "sagemaker")
    arn = sagemaker.describe_model(ModelName=name)["ModelArn"]
    try:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}])  # other tags may change
        sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
        for call in (
            lambda: sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": STACK_KEY, "Value": "vgsales-ci"}]),
            lambda: sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "x", "Value": "1"}, {"Key": "Vgsales:Stack", "Value": "a"}]),
            lambda: sagemaker.delete_tags(ResourceArn=arn, TagKeys=[STACK_KEY]),
        ):
            assert _code(call).startswith("AccessDeniedException: ")
        assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": STACK_KEY, "Value": "vgsales"}]
    finally:
        boto3.client("sagemaker").delete_model(ModelName=name)
