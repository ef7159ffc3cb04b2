"""Security checks on what a full local run leaves and creates.

Elsewhere already: checkov over terraform/ (tests/terraform, 0 failed, each skip with its reason inline), and the
emulator refusing any address but loopback (tests/emulator/test_server.py::test_non_loopback_addresses_are_refused,
test_the_server_listens_on_loopback_only, and tests/emulator/test_daemon.py for the daemon).
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from parliament import analyze_policy_string

from vgsales.records import StackRecord

# The execution role's only `Resource: "*"` grants, each for actions that have no resource-level permissions
# in IAM (so no narrower resource exists); parliament's RESOURCE_STAR check confirms that for each.
#   ecr:GetAuthorizationToken   the registry login token is account-wide
#   cloudwatch:PutMetricData    metrics have no ARN; a cloudwatch:namespace condition scopes it to SageMaker's
#   cloudwatch:Get*, List*      reading metrics back: no ARN and no namespace condition key exist for these
#   sagemaker:List*             listing calls are not resource-scoped; the rest of SageMaker is <prefix>-* or
#                               the stack's tag only
# The network interfaces of a VPC-placed job are created in the job's own subnets and security groups, which the
# role cannot know; SageMaker's documented policy and the SDK v3's own least-privilege training policy grant
# them on "*" too, and SDK v3's role check (which simulates with Resource "*") refuses a role that scopes them.
# The statement is limited to the stack's region instead. parliament flags these three, and only these.
VPC_NETWORK_INTERFACE_WRITES = {
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
}
JUSTIFIED_STAR = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    # CloudWatch's reads have no resource types and no namespace condition key (the TrainingJobAnalytics reads).
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListEndpoints",
    "sagemaker:ListHyperParameterTuningJobs",
    "sagemaker:ListModels",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListTransformJobs",
    *VPC_NETWORK_INTERFACE_WRITES,
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
}

# What would be a credential in a file.
CREDENTIALS = {
    # AKIAIOSFODNN7EXAMPLE is AWS's documentation example, which moto reports as the caller's user id (the
    # Terraform state keeps it from aws_caller_identity); user and role ids (AIDA, AROA) are not secrets.
    "AWS access key id": re.compile(rb"\b(?!AKIAIOSFODNN7EXAMPLE)(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    "AWS secret key setting": re.compile(rb"(?i)aws_?secret_?access_?key\W{0,3}[=:]"),
    "session token setting": re.compile(rb"(?i)aws_?session_?token\W{0,3}[=:]"),
    "40-character secret key": re.compile(
        rb"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
    ),
    "private key": re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
# The emulator's TLS key is a private key by design (a throw-away, loopback-only certificate), not an AWS
# credential: it is allowed, if only its owner can read it. So is the emulator's administrative key of this
# start (vgsales.emulator.access), in its own file: it opens nothing but this emulator.
TLS_KEY = "server.key"
ADMIN_KEY = "credentials.json"
SECRET_ENVIRONMENT = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# On AL2023 a lifecycle script must not download code at every start, nor hang on the internet at create.
FETCHING = re.compile(
    r"\b(?:pip3?|conda|mamba|dnf|yum|wget|git)\b[^\n]*\b(?:install|clone|pull|fetch)\b|\bwget\b|\bcurl\b[^\n]*://"
)


@pytest.fixture(scope="module")
def full_run(shared_stack):
    shared_stack.ensure("evaluation")
    return shared_stack


def _role_policy(full_run) -> tuple[dict, dict]:
    """The policy as applied in the target, and as Terraform rendered it (the root's role_policy_json output)."""
    stack = full_run.state().read(StackRecord)
    with full_run.aws() as aws:
        names = aws.iam.list_role_policies(RoleName=stack.role_name)["PolicyNames"]
        applied = [
            aws.iam.get_role_policy(RoleName=stack.role_name, PolicyName=name)["PolicyDocument"] for name in names
        ]
    assert len(applied) == 1, names
    return applied[0], json.loads(stack.role_policy_json)


def test_the_execution_role_policy_passes_parliament(full_run):
    applied, rendered = _role_policy(full_run)
    assert applied == rendered, "the role in the target must carry exactly the policy Terraform rendered"
    findings = [(finding.issue, finding.detail) for finding in analyze_policy_string(json.dumps(rendered)).findings]
    justified = [item for item in findings if item[0] == "RESOURCE_STAR" and set(item[1]) <= VPC_NETWORK_INTERFACE_WRITES]
    assert [item for item in findings if item not in justified] == []
    star = set()
    for statement in rendered["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        assert not any(action == "*" or action.endswith(":*") for action in actions), actions
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        if "*" in resources:
            star.update(actions)
    assert star == JUSTIFIED_STAR, "a new Resource '*' grant needs its justification in JUSTIFIED_STAR"


def test_parliament_catches_what_it_is_here_for():
    """The linter itself works: an unknown action and a needless Resource '*' are both findings."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    assert {f.issue for f in analyze_policy_string(json.dumps(policy)).findings} == {"RESOURCE_STAR"}
    policy["Statement"][0]["Action"] = ["s3:GetObjekt"]
    assert "UNKNOWN_ACTION" in {f.issue for f in analyze_policy_string(json.dumps(policy)).findings}


def _files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():  # the provider binary is a link into the mirror
            yield path


def test_no_credentials_in_the_state_and_run_folders(full_run):
    root = full_run.state_dir
    assert (full_run.state().evaluation_dir / "metrics.json").is_file(), "the scan is meant for a full run"
    patterns = dict(CREDENTIALS)
    for name in SECRET_ENVIRONMENT:  # a real secret of whoever runs the tests must not leak either
        value = os.environ.get(name, "")
        if len(value) >= 8:
            patterns[f"the value of {name}"] = re.compile(re.escape(value.encode()))
    admin = json.loads((full_run.emulator_dir / ADMIN_KEY).read_text())
    patterns["the emulator's administrative secret"] = re.compile(re.escape(admin["secret_access_key"].encode()))
    exact = {what for what in patterns if what not in CREDENTIALS}
    found = []
    scanned = 0
    for path in _files(root):
        content = path.read_bytes()
        scanned += 1
        # A notebook instance's environments hold the project's own wheel, installed by on-create, and the SDKs:
        # source code that names the credential settings, and hashes that look like keys. Only a real secret's value
        # counts there.
        installed = "notebook-instances" in path.parts and "site-packages" in path.parts
        for what, pattern in patterns.items():
            if installed and what not in exact:
                continue
            if what == "private key" and path.name == TLS_KEY:
                continue
            if path == full_run.emulator_dir / ADMIN_KEY:
                continue
            if pattern.search(content):
                found.append(f"{path.relative_to(root)}: {what}")
    assert scanned > 10, f"only {scanned} files under {root}"
    assert found == []


def test_the_emulator_tls_key_is_readable_by_its_owner_only(full_run):
    key = full_run.emulator_dir / TLS_KEY
    assert b"PRIVATE KEY" in key.read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(full_run.emulator_dir.stat().st_mode) == 0o700


def test_the_emulator_admin_key_is_readable_by_its_owner_only(full_run):
    key = full_run.emulator_dir / ADMIN_KEY
    assert set(json.loads(key.read_text())) == {"access_key_id", "secret_access_key"}
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def lifecycle_scripts(full_run) -> dict[str, str]:
    """The scripts as the target holds them (base64-decoded), not as the templates read."""
    name = full_run.state().read(StackRecord).lifecycle_config_name
    with full_run.aws() as aws:
        config = aws.sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    return {hook: base64.b64decode(config[hook][0]["Content"]).decode() for hook in ("OnCreate", "OnStart")}


def test_lifecycle_scripts_hold_no_secrets(lifecycle_scripts):
    for hook, script in lifecycle_scripts.items():
        leaks = [what for what, pattern in CREDENTIALS.items() if pattern.search(script.encode())]
        assert leaks == [], f"{hook}: {leaks}"
        assert "\r" not in script, f"{hook} has CRLF line endings"


def test_lifecycle_scripts_fetch_nothing_from_the_public_internet(full_run, lifecycle_scripts):
    bucket = full_run.state().read(StackRecord).bucket_name
    for hook, script in lifecycle_scripts.items():
        for url in re.findall(r"[a-z0-9]+://[^\s'\"}]+", script):
            parts = urlsplit(url)
            host = parts.hostname or ""
            allowed = (
                (parts.scheme == "s3" and host == bucket)  # the stack's own bucket
                or host in ("localhost", "127.0.0.1")  # Jupyter on the instance
                or host.endswith(".amazonaws.com")  # AWS service endpoints
            )
            assert allowed, f"{hook} reaches {url}"
    # On every start: nothing at all is downloaded.
    assert FETCHING.findall(lifecycle_scripts["OnStart"]) == []
    for line in lifecycle_scripts["OnStart"].splitlines():
        if re.search(r'"\$CURL"', line):
            assert "$JUPYTER_URL" in line, line  # curl only asks the local Jupyter whether it is idle
    # On create, once: the bundle from the stack's bucket, and a background pip install of its pinned requirements
    # (the one fetch from a package index; see docs/trust.md). Nothing else.
    fetches = FETCHING.findall(lifecycle_scripts["OnCreate"])
    assert fetches and all("pip install" in fetch for fetch in fetches), fetches
    assert re.search(r'aws s3 cp [^\n]*"\$BUNDLE_URI"', lifecycle_scripts["OnCreate"])


def test_the_notebook_bundle_installs_only_pinned_packages(full_run):
    stack = full_run.state().read(StackRecord)
    uri = urlsplit(stack.notebook_bundle_s3_uri)
    with full_run.aws() as aws:
        body = aws.s3.get_object(Bucket=uri.netloc, Key=f"{uri.path.lstrip('/')}requirements.txt")["Body"].read()
    requirements = [line.strip() for line in body.decode().splitlines() if line.strip() and not line.startswith("#")]
    assert requirements
    for line in requirements:
        assert re.fullmatch(r"[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+", line), (
            f"{line!r}: only exact pins from the package index, no URLs, VCS links or index options"
        )
