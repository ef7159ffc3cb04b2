"""Who may call the emulator, and what each identity may do: IAM enforced as AWS enforces it.

- Every request must be signed (SigV4) with a key that this emulator issued: its administrative key, or the
  temporary key of a session of an assumed role. A request signed with any other key, or not signed at all,
  is refused (InvalidClientTokenId, SignatureDoesNotMatch, AccessDenied), so another account on the same
  machine cannot use a learner's emulator.
- The administrative identity is an IAM user with one inline policy that allows everything. Its secret comes
  from `secrets` at each start and lives only in the emulator's 0700 state folder. Terraform, the tasks and
  `invoke emulator.env --admin` sign with it. It also stands in for the AWS services: it may assume a role
  whose trust policy names a service principal, as SageMaker does when it starts a notebook instance.
- Every other identity (the notebook identity: a session of the stack's execution role) is held to its own
  policies. moto's access control (moto/iam/access_control.py) checks the key and the signature; the
  decision on the action comes from compat/policy.py, the evaluator the bucket policy and
  SimulatePrincipalPolicy already use (moto's own knows only StringEquals and lets other operators match),
  on the resource ARN AWS authorises the action on, with the request's global condition keys.

Resource ARNs follow the Service Authorization Reference for each service: S3 is moto's own (bucket and
object ARNs), and IAM's role actions too; SageMaker, SageMaker Runtime, CloudWatch Logs and IAM's
SimulatePrincipalPolicy are added here (each service's response class calls the function for it from its
_determine_resource), since moto checks every action of theirs against "*" (BaseResponse.call_action without
_determine_resource). An action AWS authorises on
several resources (CreateEndpoint: the endpoint and its config) is checked on the first one listed below.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Mapping

from urllib.parse import unquote

from moto import settings as moto_settings
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, InvalidClientTokenIdError, JsonRESTError
from moto.iam import access_control
from moto.iam import models as iam_models
from moto.iam.models import PARTITION_NAMES, Policy, iam_backends
from moto.iam.responses import IamResponse
from moto.logs.responses import LogsResponse
from moto.s3.exceptions import S3AccessDeniedError
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from .compat import policy, s3_policy, s3_presigned
from .endpoint import Credentials
from .shapes import Document, Environ, Json

# What signed a request: a user's key or a role session's (moto/iam/access_control.py).
AccessKey = access_control.IAMUserAccessKey | access_control.AssumedRoleAccessKey
from .compat._patching import patch, replaced

ADMIN_USER = "vgsales-emulator-admin"
ADMIN_POLICY_NAME = "administrator"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_SECRET_ALPHABET = string.ascii_letters + string.digits

# Services whose errors botocore reads as JSON ({"__type": ..., "message": ...}); the rest answer XML.
JSON_SERVICES = frozenset({"sagemaker", "sagemaker-runtime", "logs"})

# SageMaker's request parameters that name the resource an action is authorised on, in the order AWS's
# reference lists the resource types for actions with several (CreateTransformJob: the job, then its model).
# SageMaker lower-cases names in its ARNs.
SAGEMAKER_RESOURCE_PARAMETERS = (
    ("TrainingJobName", "training-job"),
    ("HyperParameterTuningJobName", "hyper-parameter-tuning-job"),
    ("TransformJobName", "transform-job"),
    ("EndpointName", "endpoint"),
    ("EndpointConfigName", "endpoint-config"),
    ("ModelName", "model"),
    ("NotebookInstanceName", "notebook-instance"),
    ("NotebookInstanceLifecycleConfigName", "notebook-instance-lifecycle-config"),
)
# CloudWatch Logs actions that act on one log stream; the rest of a group's actions act on the log group.
LOG_STREAM_ACTIONS = frozenset({"GetLogEvents", "PutLogEvents", "DeleteLogStream"})
# Where a SageMaker request names the role it hands to SageMaker, which needs iam:PassRole.
PASSED_ROLE_PARAMETERS = ("RoleArn", "ExecutionRoleArn", "TrainingJobDefinition.RoleArn")


def install() -> None:
    """moto's access control is shared by every service (a mixin of BaseResponse and a module function), so
    there is no service class to subclass: these three are replaced in place."""
    patch(access_control.IAMRequestBase, "check_action_permitted", _check_action_permitted)
    patch(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authenticate_and_authorize_action)
    patch(iam_models, "get_account_id_from", _account_of_key)


def issue_admin_credentials(account_id: str = DEFAULT_ACCOUNT_ID, partition: str = "aws") -> Credentials:
    """A fresh key of the administrative user (created if needed). Servers sharing this process's moto (the
    tests start several) each get their own, so one that stops revokes only its own."""
    backend = iam_backends[account_id][partition]
    if ADMIN_USER not in backend.users:
        backend.create_user(None, ADMIN_USER, path="/", tags=[])
    backend.put_user_policy(ADMIN_USER, ADMIN_POLICY_NAME, json.dumps(ADMIN_POLICY))
    # The user's own create_access_key, not the backend's: that one caps a user at AWS's two keys.
    key = backend.get_user(ADMIN_USER).create_access_key(prefix="AKIA")
    backend.access_keys[key.physical_resource_id] = key
    # moto draws secrets from its seedable random generator; ours come from the operating system's.
    key.secret_access_key = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return Credentials(key.access_key_id, key.secret_access_key)


def revoke(credentials: Credentials, account_id: str = DEFAULT_ACCOUNT_ID, partition: str = "aws") -> None:
    backend = iam_backends[account_id][partition]
    if ADMIN_USER in backend.users:
        for key in list(backend.list_access_keys(ADMIN_USER)):
            if key.access_key_id == credentials.access_key_id:
                backend.delete_access_key(key.access_key_id, ADMIN_USER)


class Enforcement:
    """IAM enforcement for this process's moto while at least one server that enabled it runs."""

    _holders = 0
    _previous: float = float("inf")
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._holding = False

    def enable(self) -> None:
        with Enforcement._lock:
            if self._holding:
                return
            if Enforcement._holders == 0:
                Enforcement._previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
            Enforcement._holders += 1
            self._holding = True
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    def disable(self) -> None:
        with Enforcement._lock:
            if not self._holding:
                return
            self._holding = False
            Enforcement._holders -= 1
            if Enforcement._holders == 0:
                moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = Enforcement._previous


def enforced() -> bool:
    return ActionAuthenticatorMixin.request_count >= moto_settings.INITIAL_NO_AUTH_ACTION_COUNT


# --- moto's access control, replaced in place (install) ---------------------------------------------------


def _account_of_key(access_key: str) -> str:
    """moto's get_account_id_from (moto/iam/models.py), without creating the IAM backend of every partition to
    look in it: each one loads AWS's ~1,600 managed policies, 0.5 s in all on the first request. A partition
    whose backend was never created holds no key."""
    for account_id, account in list(iam_backends.items()):
        for partition in PARTITION_NAMES:
            if partition != "aws" and not dict.__contains__(account, partition):
                continue
            if access_key in account[partition].access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


def _authenticate_and_authorize_action(
    self: ActionAuthenticatorMixin, iam_request_cls: type, resource: str = "*"
) -> None:
    """moto's check, but an unsigned request is refused as AWS refuses it, instead of failing inside moto
    (it reads the Authorization header unconditionally: a KeyError, so a 500); a presigned S3 URL signs in its
    query string instead (compat/s3_presigned.py)."""
    if enforced() and "Authorization" not in self.headers:
        if iam_request_cls is access_control.S3IAMRequest:
            if s3_presigned.is_presigned(self.uri):
                return s3_presigned.authenticate_and_authorize(self, resource)
            raise S3AccessDeniedError()  # anonymous: only a bucket policy for everyone could allow it
        raise _unsigned(self.service_name or "")
    try:
        replaced(_authenticate_and_authorize_action)(self, iam_request_cls, resource)
    except HTTPException as error:
        # moto renders InvalidClientTokenId and SignatureDoesNotMatch as XML whatever the service; botocore
        # then reports SageMaker's and Logs' errors as a bare "403".
        if self.service_name in JSON_SERVICES and not isinstance(error, JsonRESTError) and hasattr(error, "to_json"):
            raise error.to_json() from None
        raise


# SigV4 signing names that are not the service's IAM prefix: moto builds the action from the credential scope's
# service (IAMRequestBase.__init__), so CloudWatch's ListMetrics became monitoring:ListMetrics, an action no policy
# names (botocore's cloudwatch service-2.json signs as "monitoring"; IAM's Service Authorization Reference: cloudwatch).
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}


def _check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
    """moto's IAMRequestBase.check_action_permitted, with AWS's policy evaluation (see the module docstring)."""
    service, _, operation = self._action.partition(":")
    if service in IAM_PREFIX_OF_SIGNING_NAME:
        self._action = f"{IAM_PREFIX_OF_SIGNING_NAME[service]}:{operation}"
    if self._action == "sts:GetCallerIdentity":  # always allowed on AWS, even under an explicit Deny
        return
    key = self._access_key
    context = {**request_context(self, key), **sagemaker_tag_context(self, resource)}
    documents = [policy_document(found) for found in key.collect_policies()]
    decision = policy.evaluate(documents, self._action, resource, context).decision
    if decision is not policy.Decision.ALLOWED:
        _raise_access_denied_for(self, resource, decision)
    if self._action == "sts:AssumeRole" and not _trusted(self, key, resource, context):
        _raise_access_denied_for(self, resource, None)
    for role in _passed_roles(self):
        passing = {**context, "iam:passedtoservice": "sagemaker.amazonaws.com"}
        if policy.evaluate(documents, "iam:PassRole", role, passing).decision is not policy.Decision.ALLOWED:
            self._action = "iam:PassRole"
            _raise_access_denied_for(self, role, None)
    if _tags_on_create(self, context):
        # Tag-on-create: a create that carries Tags also needs sagemaker:AddTags on the new resource, with
        # sagemaker:TaggingAction naming the create (the SageMaker developer guide, "Provide permissions for
        # tagging SageMaker AI resources"; AWS's managed policies grant it with that condition).
        tagging = {**context, "sagemaker:taggingaction": self._action.partition(":")[2]}
        decision = policy.evaluate(documents, "sagemaker:AddTags", resource, tagging).decision
        if decision is not policy.Decision.ALLOWED:
            self._action = "sagemaker:AddTags"
            _raise_access_denied_for(self, resource, decision)


def request_context(request: access_control.IAMRequestBase, key: AccessKey) -> dict[str, str]:
    """The global condition keys of a request, lower-cased as compat/policy.py compares them."""
    principal = key.arn
    if isinstance(key, access_control.AssumedRoleAccessKey):
        # aws:PrincipalArn of a role session is the role's ARN, not the session's
        principal = f"arn:{key.partition}:iam::{key.account_id}:role/{key._owner_role_name}"
    return {
        **s3_policy.current_request_context(),
        "aws:requestedregion": request._region,
        "aws:principalarn": principal,
        "aws:principalaccount": key.account_id,
    }


def _trusted(request: access_control.IAMRequestBase, key: AccessKey, role_arn: str, context: Mapping[str, str]) -> bool:
    """The role's trust policy must let the caller assume it."""
    if _is_admin(key):
        return True  # the administrative identity stands in for the AWS services (module docstring)
    try:
        role = request.backend.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFoundException; AWS answers AccessDenied either way
        return False
    trust = policy_document(role.assume_role_policy_document)
    caller = context["aws:principalarn"]
    account_root = f"arn:{key.partition}:iam::{key.account_id}:root"
    effects = set()
    for statement in policy.statements(trust):
        principals = statement.get("Principal", {})
        aws = principals.get("AWS", []) if isinstance(principals, Mapping) else principals
        aws = [aws] if isinstance(aws, str) else list(aws)
        if not any(name in ("*", caller, account_root, key.account_id) for name in aws):
            continue
        unconditional = {k: v for k, v in statement.items() if k != "Principal"}
        if policy.statement_applies({**unconditional, "Resource": "*"}, "sts:AssumeRole", role_arn, context):
            effects.add(statement.get("Effect"))
    return "Allow" in effects and "Deny" not in effects  # an explicit Deny wins, wherever it stands


def _is_admin(key: AccessKey) -> bool:
    return isinstance(key, access_control.IAMUserAccessKey) and key._owner_user_name == ADMIN_USER


# SageMaker operations whose request body names tags (aws:RequestTag, aws:TagKeys); every other body (an
# InvokeEndpoint payload of up to 6 MiB among them) is never parsed for them.
TAGGING_OPERATIONS = frozenset({"AddTags", "DeleteTags"})


def sagemaker_tag_context(request: access_control.IAMRequestBase, resource: str) -> dict[str, str | tuple[str, ...]]:
    """SageMaker's tag condition keys (the Service Authorization Reference, Amazon SageMaker): a create and AddTags
    carry aws:RequestTag/<key> and aws:TagKeys, DeleteTags aws:TagKeys; an action on an existing resource carries
    its tags as aws:ResourceTag/<key> and SageMaker's own sagemaker:ResourceTag/<key>. Tag keys in condition
    keys are not case-sensitive (policy.py compares keys lower-cased); values are."""
    if request._service != "sagemaker":
        return {}
    operation = request._action.partition(":")[2]
    creating = operation.startswith("Create")
    context: dict[str, str | tuple[str, ...]] = {}
    if creating or operation in TAGGING_OPERATIONS:
        body = _json_body(request)
        tags = [tag for tag in body.get("Tags") or [] if isinstance(tag, Mapping) and isinstance(tag.get("Key"), str)]
        if tags:
            context.update(_tag_keys(tags, "aws:requesttag/"))
            context["aws:tagkeys"] = tuple(tag["Key"] for tag in tags)
        if operation == "DeleteTags":
            context["aws:tagkeys"] = tuple(str(key) for key in body.get("TagKeys") or [])
    if not creating and resource != "*":  # a resource being created has no tags yet
        tags = _resource_tags(resource)
        for prefix in ("aws:resourcetag/", "sagemaker:resourcetag/"):
            context.update(_tag_keys(tags, prefix))
    return context


def _tag_keys(tags: list[Mapping[str, Json]], prefix: str) -> dict[str, str | tuple[str, ...]]:
    """Tag condition keys: the key's name is not case-sensitive in IAM, while SageMaker keeps `Stack` and `stack`
    apart; tags whose keys differ only in case give one condition key with all their values, and a plain operator
    holds only if it holds for each (policy.py), so `vgsales:stack=a` cannot hide behind `VGSALES:STACK=b`."""
    values: dict[str, list[str]] = {}
    for tag in tags:
        values.setdefault(prefix + str(tag["Key"]).lower(), []).append(str(tag.get("Value", "")))
    return {key: found[0] if len(found) == 1 else tuple(found) for key, found in values.items()}


def _resource_tags(arn: str) -> list[dict[str, str]]:
    """The tags of the SageMaker resource an ARN names (none if it does not exist), from the backend that holds it."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return []
    _, _, _, region, account, _ = parts
    # dict's own lookup: moto's would create the backend of an account or region nothing was ever created in
    if not dict.__contains__(sagemaker_backends, account) or not dict.__contains__(sagemaker_backends[account], region):
        return []
    backend = sagemaker_backends[account][region]
    tags_of = getattr(backend, "tags_of", None)  # the emulator's backend (compat/sagemaker.py)
    return tags_of(arn) if tags_of else []


def _tags_on_create(request: access_control.IAMRequestBase, context: Mapping[str, Json]) -> bool:
    return request._action.startswith("sagemaker:Create") and "aws:tagkeys" in context


def _json_body(request: access_control.IAMRequestBase) -> Mapping[str, Json]:
    try:
        body = json.loads(request._body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, Mapping) else {}


def _passed_roles(request: access_control.IAMRequestBase) -> list[str]:
    if request._service != "sagemaker" or not request._action.startswith("sagemaker:Create"):
        return []
    body = _json_body(request)
    roles = []
    for path in PASSED_ROLE_PARAMETERS:
        value: Json = body
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            roles.append(value)
    return roles


def policy_document(found: Json) -> Document:
    """A policy document from what moto's collect_policies() returns: text, a managed Policy, or a dict."""
    if isinstance(found, Policy):
        found = next(version.document for version in found.versions if version.is_default)
    elif isinstance(found, Mapping):
        found = found.get("policy_document", found)
    if isinstance(found, Mapping):
        return dict(found)
    text = str(found)
    if not text.lstrip().startswith("{"):
        text = unquote(text)
    return json.loads(text)


def _raise_access_denied_for(
    self: access_control.IAMRequestBase, resource: str, decision: policy.Decision | None
) -> None:
    """AWS's wording: who, which action, on which resource, and why (S3 says only "Access Denied")."""
    if isinstance(self, access_control.S3IAMRequest):
        self._raise_access_denied()
    reason = (
        "with an explicit deny in an identity-based policy"
        if decision is policy.Decision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {self._action} action"
    )
    detail = f"{self._action} on resource: {resource} {reason}"
    if self._service in JSON_SERVICES:
        raise JsonRESTError("AccessDeniedException", f"User: {self._access_key.arn} is not authorized to perform: {detail}")
    raise AccessDeniedError(user_arn=self._access_key.arn, action=detail)


UNSIGNED_MESSAGE = "Missing Authentication Token: the request is not signed with a key this emulator issued."


def _unsigned(service: str) -> Exception:
    """AWS answers an unsigned request with 403 MissingAuthenticationToken."""
    message = UNSIGNED_MESSAGE
    if service in JSON_SERVICES:
        error = JsonRESTError("MissingAuthenticationTokenException", message)
    else:
        error = InvalidClientTokenIdError()
        error.message = message
    error.code = 403
    return error


# --- resource ARNs ----------------------------------------------------------------------------------------


def sagemaker_resource(self: SageMakerResponse) -> str:
    arn = self._get_param("ResourceArn")  # AddTags, ListTags, DeleteTags
    if isinstance(arn, str) and arn:
        return arn
    for parameter, kind in SAGEMAKER_RESOURCE_PARAMETERS:
        name = self._get_param(parameter)
        if isinstance(name, str) and name:
            return f"arn:{self.partition}:sagemaker:{self.region}:{self.current_account}:{kind}/{name.lower()}"
    return "*"  # List* and account-wide actions


def iam_resource(self: IamResponse) -> str | None:
    """The principal that SimulatePrincipalPolicy simulates; None: moto's own (the role of RoleName)."""
    source = self._get_param("PolicySourceArn")  # the value compat/iam.py simulates, not the query's first
    return str(source) if source else None


def sagemaker_runtime_resource(self: SageMakerRuntimeResponse) -> str:
    parts = self.path.split("/")  # /endpoints/<name>/invocations
    if len(parts) > 2 and parts[1] == "endpoints" and parts[2]:
        return sagemaker_endpoint_arn(self.partition, self.region, self.current_account, unquote(parts[2]))
    return "*"


def sagemaker_endpoint_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:sagemaker:{region}:{account}:endpoint/{name.lower()}"


def logs_parameters(self: LogsResponse) -> Mapping[str, Json]:
    """A CloudWatch Logs request's parameters, the one source of both its access check (logs_resource) and
    its handler (services.LogsService._get_param). Logs speaks AWS's JSON protocol (awsJson1_1, botocore's
    service model): every parameter is in the JSON body and none in the URL, so anything elsewhere (a query
    string, the body read as a form) is ignored by both. Parsed once per request."""
    cached = getattr(self, "_vgsales_parameters", None)
    if cached is not None and cached[0] is self.body:
        return cached[1]
    try:
        parsed = json.loads(self.body or "{}")
    except (TypeError, ValueError):
        parsed = {}
    parameters: Mapping[str, Json] = parsed if isinstance(parsed, Mapping) else {}
    self._vgsales_parameters = (self.body, parameters)  # type: ignore[attr-defined]
    return parameters


def json_protocol_action(self: LogsResponse | SageMakerResponse) -> str:
    """The operation of a request in AWS's JSON protocol (CloudWatch Logs, SageMaker): named in X-Amz-Target only,
    never by an Action parameter (moto's generic _get_action reads ?Action= in the URL first)."""
    return str(self.headers.get("X-Amz-Target") or "").rpartition(".")[2]


def logs_resource(self: LogsResponse) -> str:
    body = logs_parameters(self)
    group = body.get("logGroupName")
    if not isinstance(group, str) or not group:
        return "*"
    arn = f"arn:{self.partition}:logs:{self.region}:{self.current_account}:log-group:{group}"
    action = json_protocol_action(self)
    stream = body.get("logStreamName")
    if action in LOG_STREAM_ACTIONS and isinstance(stream, str) and stream:
        return f"{arn}:log-stream:{stream}"
    return arn


# --- the InvokeEndpoint fast path (hosting.serve_invocations) ---------------------------------------------


def refuse_invocation(
    environ: Environ, account_id: str, region: str, endpoint_name: str, body: bytes
) -> tuple[int, dict[str, str], bytes] | None:
    """Authenticate and authorise an InvokeEndpoint request that skips moto's routing, exactly as moto's
    SageMakerRuntimeResponse would (same signature check, same decision); None when it may proceed, else the
    error response to send."""
    if not enforced():
        return None
    headers = EnvironHeaders(dict(environ))
    path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
    try:
        if "Authorization" not in headers:
            raise _unsigned("sagemaker-runtime")
        request = access_control.IAMRequest(
            account_id=account_id,
            method=str(environ.get("REQUEST_METHOD", "POST")),
            path=str(path),
            data={},
            body=body,
            headers=headers,
            action="InvokeEndpoint",
        )
        request.check_signature()
        request.check_action_permitted(sagemaker_endpoint_arn("aws", region, account_id, endpoint_name))
    except JsonRESTError as error:
        return _response(error)
    except HTTPException as error:
        if hasattr(error, "to_json"):  # moto's XML errors; the runtime speaks JSON
            return _response(error.to_json())
        raise
    return None


def _response(error: JsonRESTError) -> tuple[int, dict[str, str], bytes]:
    return int(error.code or 403), dict(error.get_headers()), error.get_body().encode()
