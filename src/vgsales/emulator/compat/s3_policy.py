"""Bucket policy conditions, evaluated against how the request really arrived.

moto gap (5.2.5, FakeBucket.get_permission): bucket policies are evaluated without any request context,
and moto's condition check knows only StringEquals and treats every other operator as "matches". A
`Deny ... Bool aws:SecureTransport=false` statement (the stack's deny-non-TLS policy) therefore denies
every object call, including the DeleteObjects that empties the bucket on destroy; and a condition that
does not match makes moto return DENIED even for Allow statements.

Here the bucket policy is evaluated with AWS's rules (policy.py) against the request context: whether the
request came over TLS, and which TLS version.

A second gap (S3Response._key_response): an object request that the bucket policy denies gets a 403 with an
empty body, where S3 answers `<Error><Code>AccessDenied</Code><Message>Access Denied</Message>`, so clients
saw an error code of "403". It is answered as S3 does.

PolicyBucket and S3Service are the emulator's bucket and S3 response classes (compat/s3.py, services.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from xml.sax.saxutils import escape
from urllib.parse import parse_qs, quote, unquote, urlparse

from werkzeug.exceptions import HTTPException
from moto.core.responses import TYPE_RESPONSE, ActionResult
from moto.iam.access_control import PermissionResult, S3IAMRequest
from moto.s3.exceptions import S3AccessDeniedError, S3ClientError
from moto.s3.models import FakeBucket
from moto.s3.responses import ACTION_MAP, S3Response

from . import policy
from ..shapes import Environ, Json, StartResponse, WsgiApp

# Set per request by record_transport(); empty outside a served request (e.g. moto's in-process mock).
_NO_CONTEXT: Mapping[str, str] = MappingProxyType({})
_request_context: ContextVar[Mapping[str, str]] = ContextVar("vgsales_request_context", default=_NO_CONTEXT)

# The WSGI environ key the emulator's request handler fills with the connection's TLS version.
TLS_VERSION_ENVIRON_KEY = "vgsales.tls_version"


# moto's bare answer to an object request the bucket policy denies (S3Response._key_response, moto 5.2.5).
BARE_DENIAL = (403, {}, "")


class MethodNotAllowed(HTTPException):
    """S3's answer to a method a resource does not take: 405 and an S3 <Error> MethodNotAllowed. moto's own
    exception of that name is rendered through S3's service model, which does not define it: a 400."""

    code = 405

    def __init__(self, method: str, resource_type: str) -> None:
        super().__init__()
        self.description = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MethodNotAllowed</Code>'
            "<Message>The specified method is not allowed against this resource.</Message>"
            f"<Method>{escape(method)}</Method><ResourceType>{escape(resource_type)}</ResourceType></Error>"
        )

    def get_headers(self, *args: Json, **kwargs: Json) -> list[tuple[str, str]]:
        return [("Content-Type", "application/xml")]

    def get_body(self, *args: Json, **kwargs: Json) -> str:
        return self.description or ""


# S3's longest object key, in bytes of its UTF-8 encoding (S3 User Guide, "Naming Amazon S3 objects").
MAX_KEY_BYTES = 1024


class KeyTooLongError(S3ClientError):
    """S3's answer to a write of a key over MAX_KEY_BYTES (400 KeyTooLongError); moto accepts any length."""

    code = "KeyTooLongError"

    def __init__(self) -> None:
        super().__init__("KeyTooLongError", "Your key is too long")


class S3Service(S3Response):
    """S3, answering a policy denial of an object request with S3's AccessDenied, authorising a copy's source as
    well as its destination, and HeadBucket as s3:ListBucket."""

    def _set_action(self, action_resource_type: str, method: str, querystring: dict[str, Json]) -> None:
        """moto's, but a method with no default action on the resource (POST on an object without ?uploads,
        ?uploadId, ?restore or ?select: moto's ACTION_MAP has no "DEFAULT" for it) is S3's 405 MethodNotAllowed,
        not moto's KeyError (a 500). An unsigned InvokeEndpoint, POST /endpoints/<name>/invocations, is routed
        to S3 (moto routes an unsigned request by its path) and reached that."""
        actions = ACTION_MAP.get(action_resource_type, {}).get(method, {})
        if "DEFAULT" not in actions and not any(name in querystring for name in actions):
            raise MethodNotAllowed(method, "OBJECT" if action_resource_type == "KEY" else action_resource_type)
        super()._set_action(action_resource_type, method, querystring)
        if (action_resource_type, method, self.data.get("Action")) == ("BUCKET", "HEAD", "HeadBucket"):
            # No IAM action is called s3:HeadBucket: S3 authorises HeadBucket with s3:ListBucket (the S3 API
            # reference's HeadBucket permissions), which moto's ACTION_MAP (5.x) names HeadBucket. A role allowed
            # ListBucket, as the SDK's default_bucket() needs, was refused with 403.
            self.data["Action"] = "ListBucket"

    def _key_response_put(self, query: dict[str, Json], key_name: str) -> TYPE_RESPONSE:
        _check_key_length(key_name)
        return super()._key_response_put(query, key_name)

    def _key_response_post(
        self, request: Json, body: bytes, bucket_name: str, query: dict[str, Json], key_name: str
    ) -> TYPE_RESPONSE:
        _check_key_length(key_name)  # CreateMultipartUpload
        return super()._key_response_post(request, body, bucket_name, query, key_name)

    def _bucket_response_get(self, bucket_name: str, querystring: dict[str, Json]) -> str | TYPE_RESPONSE:
        """moto's, with GetBucketRequestPayment, which moto lacks (5.2.5): GET ?requestPayment fell through to
        ListObjects (authorised as s3:ListBucket), so Terraform's provider, reading every bucket's request
        payment configuration, parsed the object listing, and a key with a control character made its XML
        invalid and every refresh and destroy fail. The bucket's owner pays, as for every bucket S3 creates."""
        if "requestPayment" not in querystring:
            return super()._bucket_response_get(bucket_name, querystring)
        self.data["Action"] = "GetBucketRequestPayment"
        self._authenticate_and_authorize_s3_action(bucket_name=bucket_name)
        self.backend.get_bucket(bucket_name)  # NoSuchBucket
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Payer>BucketOwner</Payer></RequestPaymentConfiguration>"
        )
        return 200, {"Content-Type": "application/xml"}, body

    def list_object_versions(self) -> TYPE_RESPONSE:
        """moto's, honouring encoding-type=url as S3 does (ListObjectVersions: "Key", "Prefix", "Delimiter",
        "KeyMarker", "NextKeyMarker" URL-encoded). moto ignores it (5.2.5; its ListObjectsV2 honours it), and a
        raw control character (a NUL in a key) is not valid XML: boto3 and Terraform's provider fail to parse
        the listing, so a bucket holding such a key could never be emptied on teardown."""
        if self.querystring.get("encoding-type", [None])[0] != "url":
            return super().list_object_versions()
        serialize = self.serialized

        def encoded(result: ActionResult) -> TYPE_RESPONSE:
            listing = dict(result.result)  # type: ignore[call-overload]
            for name in ("Prefix", "Delimiter", "KeyMarker", "NextKeyMarker"):
                if listing.get(name):
                    listing[name] = quote(listing[name])
            for name in ("Versions", "DeleteMarkers"):
                listing[name] = [{**entry, "Key": quote(entry["Key"])} for entry in listing.get(name, [])]
            if listing.get("CommonPrefixes"):
                listing["CommonPrefixes"] = [{"Prefix": quote(entry["Prefix"])} for entry in listing["CommonPrefixes"]]
            listing["EncodingType"] = "url"
            return serialize(ActionResult(listing))

        self.serialized = encoded  # type: ignore[method-assign]
        try:
            return super().list_object_versions()
        finally:
            del self.serialized

    def copy_object(self) -> TYPE_RESPONSE:
        self._authorize_copy_source()
        return super().copy_object()

    def upload_part_copy(self) -> TYPE_RESPONSE:
        self._authorize_copy_source()
        return super().upload_part_copy()

    def _authorize_copy_source(self) -> None:
        """AWS authorises CopyObject and UploadPartCopy on both objects: s3:PutObject on the destination and
        s3:GetObject on the source, s3:GetObjectVersion when the source names a version (S3 API reference,
        CopyObject, "Permissions"). moto (5.2.5, S3Response._key_response_put) checks only the destination.
        The source is parsed as moto's copy_object and upload_part_copy parse it, so the object authorised is
        the one they read."""
        source = self.headers.get("x-amz-copy-source") or ""
        if isinstance(source, bytes):
            source = source.decode("utf-8")
        parsed = urlparse(source)
        bucket, _, key = unquote(parsed.path).lstrip("/").partition("/")
        version = parse_qs(parsed.query).get("versionId", [None])[0]
        destination_action = self.data.get("Action")
        self.data["Action"] = "GetObjectVersion" if version else "GetObject"
        try:
            self._authenticate_and_authorize_action(S3IAMRequest, f"arn:{self.partition}:s3:::{bucket}/{key}")
        finally:
            self.data["Action"] = destination_action

    def _key_response(self, request: Json, full_url: str) -> TYPE_RESPONSE:
        response = super()._key_response(request, full_url)
        if response == BARE_DENIAL:
            raise S3AccessDeniedError()  # key_response renders it as S3's XML error
        return response


def _check_key_length(key_name: str) -> None:
    if len(key_name.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLongError()


class PolicyBucket(FakeBucket):
    """A bucket whose policy is evaluated with AWS's rules against the request's context."""

    def get_permission(self, action: str, resource: str) -> PermissionResult:
        return _PERMISSION[bucket_policy_decision(self, action, resource, _request_context.get())]


def bucket_policy_decision(bucket: FakeBucket, action: str, resource: str, context: Mapping[str, str]) -> policy.Decision:
    """What a bucket's policy says about an action on it, with AWS's rules; IMPLICIT_DENY when it says nothing.
    Client requests (PolicyBucket) and the work SageMaker does as a job's role (role_access.py) both ask here."""
    if bucket.policy is None:
        return policy.Decision.IMPLICIT_DENY
    document = json.loads(bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy)
    return policy.evaluate([document], action, resource, context, resource_policy=True).decision


def record_transport(app: WsgiApp) -> WsgiApp:
    """WSGI middleware: remember, for the duration of each request, whether it arrived over TLS."""

    def recorded(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        token = _request_context.set(request_context(environ))
        try:
            return app(environ, start_response)
        finally:
            _request_context.reset(token)

    return recorded


def current_request_context() -> Mapping[str, str]:
    """The condition keys of the request being served (empty outside one)."""
    return _request_context.get()


def request_context(environ: Mapping[str, Json]) -> dict[str, str]:
    """The global condition keys we can know about a request, lower-cased as AWS compares them."""
    secure = environ.get("wsgi.url_scheme") == "https"
    context = {"aws:securetransport": "true" if secure else "false"}
    version = environ.get(TLS_VERSION_ENVIRON_KEY)
    if secure and version:
        # "TLSv1.3" -> "1.3", the form s3:TlsVersion takes
        context["s3:tlsversion"] = version.removeprefix("TLSv")
    return context


_PERMISSION = {
    policy.Decision.EXPLICIT_DENY: PermissionResult.DENIED,
    policy.Decision.ALLOWED: PermissionResult.PERMITTED,
    policy.Decision.IMPLICIT_DENY: PermissionResult.NEUTRAL,  # moto then falls back to ACLs
}
