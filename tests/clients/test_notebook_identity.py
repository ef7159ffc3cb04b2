"""IAM enforced on the local target (vgsales.emulator.access): the notebook identity may do what the stack's
execution role allows and nothing else, the administrative identity is unrestricted, and only keys this
emulator issued get in at all.

Near misses throughout: the stack's bucket and a neighbour's, `vgsales-` and `vgsalesdemo-` names, the stack's
tag and a neighbour's (`vgsales-ci`), the right key with the wrong secret, the key of another emulator start.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from vgsales import discovery
from vgsales.clients import LoaderSharingSession
from vgsales.emulator import daemon
from vgsales.infra import local
from vgsales.records import StackRecord, TrainingRecord
from vgsales.targets.local import emulator_dir


def session(variables: dict[str, str]) -> boto3.Session:
    return LoaderSharingSession(
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=variables.get("AWS_SESSION_TOKEN"),
        region_name=variables["AWS_REGION"],
    )


def client(variables: dict[str, str], service: str):
    return session(variables).client(
        service, endpoint_url=variables["AWS_ENDPOINT_URL"], verify=variables["AWS_CA_BUNDLE"]
    )


def error_of(call) -> dict:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]


@pytest.fixture(scope="module")
def identities(client_stack):
    notebook, _ = local.client_environment(client_stack)
    admin, _ = local.client_environment(client_stack, admin=True)
    return notebook, admin


@pytest.fixture(scope="module")
def neighbour_bucket(client_stack, identities):
    """A bucket of another stack in the same account, named like ours."""
    _, admin = identities
    name = client_stack.state.read(StackRecord).bucket_name + "-neighbour"
    client(admin, "s3").create_bucket(Bucket=name)
    yield name
    client(admin, "s3").delete_bucket(Bucket=name)


def test_the_notebook_identity_uses_the_stack_bucket_but_not_a_neighbours(client_stack, identities, neighbour_bucket):
    notebook, _ = identities
    s3 = client(notebook, "s3")
    bucket = client_stack.state.read(StackRecord).bucket_name
    s3.put_object(Bucket=bucket, Key="identity/ok.txt", Body=b"mine")
    assert s3.get_object(Bucket=bucket, Key="identity/ok.txt")["Body"].read() == b"mine"
    for call in (
        lambda: s3.put_object(Bucket=neighbour_bucket, Key="identity/no.txt", Body=b"theirs"),
        lambda: s3.list_objects_v2(Bucket=neighbour_bucket),
        lambda: s3.create_bucket(Bucket="vgsales-created-by-a-notebook"),
    ):
        assert error_of(call)["Code"] == "AccessDenied"


def test_cloudwatch_logs_takes_its_operation_from_x_amz_target_only(client_stack, identities, secret_log_group):
    """moto's _get_action reads ?Action= in the URL before the header; the JSON protocol names the operation in
    X-Amz-Target only, and both the check and the dispatch now take it from there. Near miss: the call
    itself, unchanged, still reads the role's stream."""
    notebook, admin = identities
    job = client_stack.state.read(TrainingRecord).training_job_name
    group = "/aws/sagemaker/TrainingJobs"
    stream = client(notebook, "logs").describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")["logStreams"][0]["logStreamName"]
    logs = smuggling(client(notebook, "logs"), "GetLogEvents", query=f"Action=DeleteLogGroup&logGroupName={secret_log_group}")
    assert logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    names = [found["logGroupName"] for found in client(admin, "logs").describe_log_groups()["logGroups"]]
    assert secret_log_group in names


def test_a_copy_is_authorised_on_its_source_as_well_as_its_destination(client_stack, identities, neighbour_bucket):
    """CopyObject and UploadPartCopy read the source: AWS requires s3:GetObject on it (s3:GetObjectVersion for a
    version), not only s3:PutObject on the destination. Near misses: the same copy within the stack's bucket,
    a neighbour bucket named like the stack's, and a versioned source in the stack's own bucket."""
    notebook, admin = identities
    s3 = client(notebook, "s3")
    bucket = client_stack.state.read(StackRecord).bucket_name
    client(admin, "s3").put_object(Bucket=neighbour_bucket, Key="secret.txt", Body=b"theirs")
    s3.put_object(Bucket=bucket, Key="identity/source.txt", Body=b"mine")
    try:
        s3.copy_object(Bucket=bucket, Key="identity/copy.txt", CopySource={"Bucket": bucket, "Key": "identity/source.txt"})
        assert s3.get_object(Bucket=bucket, Key="identity/copy.txt")["Body"].read() == b"mine"

        stolen = {"Bucket": neighbour_bucket, "Key": "secret.txt"}
        refused = error_of(lambda: s3.copy_object(Bucket=bucket, Key="identity/stolen.txt", CopySource=stolen))
        assert refused["Code"] == "AccessDenied"
        upload = s3.create_multipart_upload(Bucket=bucket, Key="identity/stolen.txt")["UploadId"]
        try:
            refused = error_of(lambda: s3.upload_part_copy(
                Bucket=bucket, Key="identity/stolen.txt", UploadId=upload, PartNumber=1, CopySource=stolen))
            assert refused["Code"] == "AccessDenied"
            assert not s3.list_parts(Bucket=bucket, Key="identity/stolen.txt", UploadId=upload).get("Parts")
        finally:
            s3.abort_multipart_upload(Bucket=bucket, Key="identity/stolen.txt", UploadId=upload)
        assert error_of(lambda: s3.head_object(Bucket=bucket, Key="identity/stolen.txt"))["Code"] == "404"

        # The role has s3:GetObject on its bucket, not s3:GetObjectVersion.
        versioned = {"Bucket": bucket, "Key": "identity/source.txt", "VersionId": "null"}
        refused = error_of(lambda: s3.copy_object(Bucket=bucket, Key="identity/versioned.txt", CopySource=versioned))
        assert refused["Code"] == "AccessDenied"
    finally:
        client(admin, "s3").delete_object(Bucket=neighbour_bucket, Key="secret.txt")
        for key in ("identity/source.txt", "identity/copy.txt"):
            s3.delete_object(Bucket=bucket, Key=key)


def smuggling(logs, operation: str, *, query: str = "", body: dict | None = None):
    """Sign the request with a query string added to its URL, or extra members in its JSON body: botocore
    never sends either, a hostile client can."""
    import json as json_module

    def change(request, **_):
        if query:
            request.url += "?" + query
        if body:
            request.data = json_module.dumps({**json_module.loads(request.data), **body}).encode()

    logs.meta.events.register(f"before-sign.logs.{operation}", change)
    return logs


def now_ms() -> int:
    import time

    return int(time.time() * 1000)  # events older than 14 days are refused, as on AWS


@pytest.fixture(scope="module")
def secret_log_group(identities):
    _, admin = identities
    logs = client(admin, "logs")
    logs.create_log_group(logGroupName="/secret/app")
    logs.create_log_stream(logGroupName="/secret/app", logStreamName="s1")
    logs.put_log_events(logGroupName="/secret/app", logStreamName="s1",
                        logEvents=[{"timestamp": now_ms(), "message": "the other team's secret"}])
    yield "/secret/app"
    logs.delete_log_group(logGroupName="/secret/app")


# Each place moto's LogsResponse._get_param looked before the JSON body: the URL's query string, and the body
# decoded as a form (a JSON string value holding "&name=value&"), which moto reads when the URL has none.
SMUGGLED = {
    "query string": lambda names: {"query": "&".join(f"{k}={v}" for k, v in names.items())},
    "form-decoded body": lambda names: {"body": {"x": "&" + "&".join(f"{k}={v}" for k, v in names.items()) + "&"}},
}


@pytest.mark.parametrize("place", SMUGGLED)
def test_cloudwatch_logs_acts_on_the_parameters_it_authorised(client_stack, identities, secret_log_group, place):
    """The access check and the handler read one set of parameters (the JSON body): a signed request for the
    role's own stream cannot read, create or write another group through parameters placed elsewhere."""
    notebook, admin = identities
    job = client_stack.state.read(TrainingRecord).training_job_name
    group = "/aws/sagemaker/TrainingJobs"
    stream = client(notebook, "logs").describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")["logStreams"][0]["logStreamName"]
    other = {"logGroupName": secret_log_group, "logStreamName": "s1"}

    logs = smuggling(client(notebook, "logs"), "GetLogEvents", **SMUGGLED[place](other))
    messages = [event["message"] for event in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]
    assert messages and "the other team's secret" not in messages, "the role's own stream, nothing else"

    logs = smuggling(client(notebook, "logs"), "PutLogEvents", **SMUGGLED[place](other))
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now_ms(), "message": "smuggled"}])
    theirs = client(admin, "logs").get_log_events(logGroupName=secret_log_group, logStreamName="s1")["events"]
    assert [event["message"] for event in theirs] == ["the other team's secret"]

    allowed = f"/aws/sagemaker/Endpoints/vgsales-smuggle-{place.split()[0]}"
    logs = smuggling(client(notebook, "logs"), "CreateLogGroup", **SMUGGLED[place]({"logGroupName": "/secret/created"}))
    logs.create_log_group(logGroupName=allowed)
    names = [found["logGroupName"] for found in client(admin, "logs").describe_log_groups()["logGroups"]]
    assert allowed in names and "/secret/created" not in names
    client(admin, "logs").delete_log_group(logGroupName=allowed)


def test_the_notebook_identity_reaches_the_stacks_resources_and_nothing_else(client_stack, identities):
    notebook, _ = identities
    sagemaker = client(notebook, "sagemaker")
    job = client_stack.state.read(TrainingRecord).training_job_name
    assert sagemaker.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Completed"
    assert sagemaker.describe_endpoint(EndpointName="vgsales-endpoint")["EndpointStatus"] == "InService"
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"], "List* is allowed on *"

    # A neighbour prefix that shares our first letters, and no stack tag (nothing of that name exists): a
    # DescribeEndpoint of what does not exist is SageMaker's to answer (deletion waiters); a change is refused.
    assert error_of(lambda: sagemaker.describe_endpoint(EndpointName="vgsalesdemo-endpoint"))["Code"] == "ValidationException"
    refused = error_of(lambda: sagemaker.delete_endpoint(EndpointName="vgsalesdemo-endpoint"))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"] == (
        f"User: arn:aws:sts::123456789012:assumed-role/{client_stack.state.read(StackRecord).role_name}/SageMaker "
        "is not authorized to perform: sagemaker:DeleteEndpoint on resource: "
        f"arn:aws:sagemaker:{client_stack.region}:123456789012:endpoint/vgsalesdemo-endpoint "
        "because no identity-based policy allows the sagemaker:DeleteEndpoint action"
    )
    # What the role was never given at all, whatever the name.
    assert error_of(lambda: sagemaker.list_notebook_instances())["Code"] == "AccessDeniedException"
    assert error_of(lambda: client(notebook, "iam").list_roles())["Code"] == "AccessDenied"


def as_identity(ctx, variables: dict[str, str]):
    """The stack's context, its clients signing as these credentials (as a notebook's discover() connects)."""
    import dataclasses

    from vgsales.clients import AwsClients
    from vgsales.connection import Credentials
    from vgsales.context import Context

    credentials = Credentials(variables["AWS_ACCESS_KEY_ID"], variables["AWS_SECRET_ACCESS_KEY"], variables.get("AWS_SESSION_TOKEN"))
    other = Context(ctx.settings, ctx.target, ctx.state)
    other._clients.append(AwsClients(dataclasses.replace(ctx.aws.connection, credentials=credentials)))
    return other


def _training_request(notebook: dict[str, str], client_stack) -> dict:
    """What the stack's own training job was created with, to create another like it."""
    job = client_stack.state.read(TrainingRecord)
    described = client(notebook, "sagemaker").describe_training_job(TrainingJobName=job.training_job_name)
    keys = ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition", "HyperParameters")
    return {key: described[key] for key in keys}


@pytest.mark.parametrize(("tags", "allowed"), [
    ([{"Key": "vgsales:stack", "Value": "vgsales"}], True),
    ([{"Key": "vgsales:stack", "Value": "vgsales-ci"}], False),  # a neighbour stack whose name starts like ours
    ([{"Key": "vgsales:stack", "Value": "VGSALES"}], False),  # tag values are case-sensitive
    (None, False),
], ids=["the stack's tag", "another stack's tag", "the value in capitals", "no tag"])
def test_the_sdks_default_job_name_needs_the_stacks_tag(client_stack, identities, tags, allowed):
    """SDK v2 names a job after its image ("sagemaker-xgboost-<time>"). The stack's role allows any name that
    carries the stack's tag (the SDK config that emulator.env writes adds it), and refuses one without it, here
    as on AWS."""
    notebook, _ = identities
    sagemaker = client(notebook, "sagemaker")
    name = f"sagemaker-xgboost-2026-12-01-00-00-00-{uuid.uuid4().hex[:3]}"
    request = {**_training_request(notebook, client_stack), "TrainingJobName": name}
    if tags is not None:
        request["Tags"] = tags
    if allowed:
        sagemaker.create_training_job(**request)
        assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobName"] == name
        assert {"Key": "vgsales:stack", "Value": "vgsales"} in sagemaker.list_tags(
            ResourceArn=sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobArn"])["Tags"]
        return
    refused = error_of(lambda: sagemaker.create_training_job(**request))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"].split(" on resource: ")[1].startswith(f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}")
    assert "sagemaker:CreateTrainingJob on resource: " in refused["Message"]


def test_a_prefixed_name_with_another_stacks_tag_is_out_of_reach(client_stack, identities):
    """`vgsales-ci-...` starts with our prefix: the name alone would let the role in, the neighbour's tag keeps it out."""
    notebook, admin = identities
    request = _training_request(notebook, client_stack)
    image = request["AlgorithmSpecification"]["TrainingImage"]
    client(admin, "sagemaker").create_model(
        ModelName="vgsales-ci-model", ExecutionRoleArn=request["RoleArn"],
        PrimaryContainer={"Image": image, "ModelDataUrl": "s3://elsewhere/model.tar.gz"},
        Tags=[{"Key": "vgsales:stack", "Value": "vgsales-ci"}],
    )  # fmt: skip
    try:
        refused = error_of(lambda: client(notebook, "sagemaker").describe_model(ModelName="vgsales-ci-model"))
        assert refused["Code"] == "AccessDeniedException"
        # A notebook's clean-up (discovery as the notebook identity) passes over what it may not even read.
        found = discovery.find(as_identity(client_stack, notebook), ("model",))
        assert found and all(resource.name != "vgsales-ci-model" for resource in found), found
        # ...nor can it be created by the role under our prefix with the neighbour's tag
        created = {"ModelName": "vgsales-ci-model-2", "ExecutionRoleArn": request["RoleArn"],
                   "PrimaryContainer": {"Image": image, "ModelDataUrl": "s3://elsewhere/model.tar.gz"}}  # fmt: skip
        assert error_of(lambda: client(notebook, "sagemaker").create_model(
            **created, Tags=[{"Key": "vgsales:stack", "Value": "vgsales-ci"}]))["Code"] == "AccessDeniedException"
    finally:
        client(admin, "sagemaker").delete_model(ModelName="vgsales-ci-model")


@pytest.mark.parametrize("model", ["sagemaker-xgboost-untagged", "vgsales-ci-untagged"],
                         ids=["a default name", "a neighbour stack's prefix"])
def test_an_untagged_resource_is_out_of_reach_and_a_deleted_endpoint_is_not_found(client_stack, identities, model):
    """Nothing untagged is the stack's, whatever its name (a neighbour stack's prefix `vgsales-ci-` starts with
    ours). Only DescribeEndpoint passes where the tag is absent, so that a waiter for a deleted endpoint gets
    SageMaker's "Could not find", not AccessDenied."""
    notebook, admin = identities
    request = _training_request(notebook, client_stack)
    sagemaker = client(notebook, "sagemaker")
    assert error_of(lambda: sagemaker.describe_endpoint(EndpointName="sagemaker-xgboost-never-made"))["Code"] == "ValidationException"
    client(admin, "sagemaker").create_model(
        ModelName=model, ExecutionRoleArn=request["RoleArn"],
        PrimaryContainer={"Image": request["AlgorithmSpecification"]["TrainingImage"], "ModelDataUrl": "s3://elsewhere/m.tar.gz"},
    )  # fmt: skip
    try:
        arn = client(admin, "sagemaker").describe_model(ModelName=model)["ModelArn"]
        for call in (lambda: sagemaker.describe_model(ModelName=model), lambda: sagemaker.delete_model(ModelName=model),
                     lambda: sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "vgsales:stack", "Value": "vgsales"}])):
            assert error_of(call)["Code"] == "AccessDeniedException"
    finally:
        client(admin, "sagemaker").delete_model(ModelName=model)


def test_passing_another_role_needs_pass_role_on_it(client_stack, identities):
    notebook, admin = identities
    stack = client_stack.state.read(StackRecord)
    request = _training_request(notebook, client_stack)
    trust = client(admin, "iam").get_role(RoleName=stack.role_name)["Role"]["AssumeRolePolicyDocument"]
    other = client(admin, "iam").create_role(RoleName="vgsales-other-role", AssumeRolePolicyDocument=json.dumps(trust))
    try:
        passing = {**request, "RoleArn": other["Role"]["Arn"], "Tags": [{"Key": "vgsales:stack", "Value": "vgsales"}]}
        refused = error_of(lambda: client(notebook, "sagemaker").create_training_job(TrainingJobName="vgsales-passrole-check", **passing))
        assert refused["Code"] == "AccessDeniedException"
        assert "iam:PassRole on resource: arn:aws:iam::123456789012:role/vgsales-other-role" in refused["Message"]
    finally:
        client(admin, "iam").delete_role(RoleName="vgsales-other-role")


def test_the_administrative_identity_is_unrestricted(identities, neighbour_bucket):
    _, admin = identities
    assert client(admin, "sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/vgsales-emulator-admin"
    client(admin, "s3").put_object(Bucket=neighbour_bucket, Key="admin.txt", Body=b"x")
    client(admin, "s3").delete_object(Bucket=neighbour_bucket, Key="admin.txt")
    assert client(admin, "iam").list_roles()["Roles"]


@pytest.mark.parametrize("change", ["unknown key", "wrong secret", "wrong session token", "no session token", "unsigned"])
def test_only_keys_this_emulator_issued_get_in(identities, change):
    notebook, admin = identities
    variables = dict(admin if change in ("unknown key", "wrong secret") else notebook)
    if change == "unknown key":
        variables["AWS_ACCESS_KEY_ID"] = "AKIAZZZZZZZZZZZZZZZZ"
    elif change == "wrong secret":
        variables["AWS_SECRET_ACCESS_KEY"] = variables["AWS_SECRET_ACCESS_KEY"][::-1]
    elif change == "wrong session token":
        variables["AWS_SESSION_TOKEN"] = variables["AWS_SESSION_TOKEN"][:-4] + "AAAA"
    elif change == "no session token":
        variables.pop("AWS_SESSION_TOKEN")
    if change == "unsigned":
        from botocore import UNSIGNED
        from botocore.config import Config

        sagemaker = boto3.client(
            "sagemaker", region_name="us-east-1", endpoint_url=notebook["AWS_ENDPOINT_URL"],
            verify=notebook["AWS_CA_BUNDLE"], config=Config(signature_version=UNSIGNED),
        )
        assert error_of(sagemaker.list_training_jobs)["Code"] == "MissingAuthenticationTokenException"
        return
    # STS (the query protocol) and SageMaker (JSON) word an unknown key or a token that is not the key's as AWS
    # does: InvalidClientTokenId and UnrecognizedClientException (emulator/admission.py).
    by_sts, by_sagemaker = {
        "unknown key": ("InvalidClientTokenId", "UnrecognizedClientException"),
        "wrong secret": ("SignatureDoesNotMatch", "SignatureDoesNotMatch"),
        "wrong session token": ("InvalidClientTokenId", "UnrecognizedClientException"),
        "no session token": ("InvalidClientTokenId", "UnrecognizedClientException"),
    }[change]
    assert error_of(lambda: client(variables, "sts").get_caller_identity())["Code"] == by_sts
    assert error_of(lambda: client(variables, "sagemaker").list_training_jobs())["Code"] == by_sagemaker


def test_the_admin_key_is_new_at_each_start_and_opens_no_other_emulator(tmp_path):
    """Two emulators, as two accounts on one machine would run them: neither accepts the other's key."""
    first, second = daemon.start(tmp_path / "first"), daemon.start(tmp_path / "second")
    try:
        assert first.credentials != second.credentials
        crossed = {**first.client_env(), "AWS_ENDPOINT_URL": second.url, "AWS_CA_BUNDLE": str(second.ca_bundle)}
        assert error_of(lambda: client(crossed, "sts").get_caller_identity())["Code"] == "InvalidClientTokenId"
        assert client(second.client_env(), "sts").get_caller_identity()["Account"] == "123456789012"
        assert (tmp_path / "first" / daemon.CREDENTIALS_FILE).stat().st_mode & 0o077 == 0
    finally:
        daemon.stop(tmp_path / "first")
        daemon.stop(tmp_path / "second")
    assert not (tmp_path / "first" / daemon.CREDENTIALS_FILE).exists(), "the key goes with its emulator"


def test_the_emulator_does_not_serve_motos_control_api(client_stack):
    """moto's /moto-api answers unsigned requests, including a dump of every backend with its secrets."""
    import ssl
    import urllib.error
    import urllib.request

    info = daemon.status(emulator_dir(client_stack.settings))
    context = ssl.create_default_context(cafile=str(info.ca_bundle))
    for path in ("/moto-api/data.json", "/moto-api/reset", "/moto-api/"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(info.url + path, context=context, timeout=10)
        assert refused.value.code == 403, path


@pytest.mark.parametrize("name", ["vgsales-tune-0101", "vgsalestune-0101", "tune-0101"])
def test_tuning_and_transform_jobs_are_reached_by_the_tag_not_the_name(client_stack, identities, name):
    """No job of these names carries the stack's tag (none exists), so the role may neither stop nor describe one,
    whether its name has the stack's prefix, a look-alike, or none: with stack_tag, the tag decides."""
    notebook, _ = identities
    sagemaker = client(notebook, "sagemaker")
    for call in (lambda: sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                 lambda: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                 lambda: sagemaker.stop_transform_job(TransformJobName=name)):
        assert error_of(call)["Code"] == "AccessDeniedException"
    assert sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] is not None
    assert sagemaker.list_transform_jobs()["TransformJobSummaries"] is not None
