"""Presigned S3 URLs (SigV4 query-string authentication), authenticated as S3 authenticates them and then
authorised exactly like a header-signed request by the same identity.

moto gap (5.2.5): its access control reads the Authorization header only (moto/iam/access_control.py,
IAMRequestBase.__init__ and check_signature), so with IAM enforced a presigned URL arrived as an unsigned request
and access.py refused it as anonymous. With enforcement off, moto's S3 takes any URL containing "Signature=" as
signed (moto/s3/responses.py, S3Response._key_response: `signed_url`) and only compares the response-header
overrides in the URL with the request's headers (_invalid_headers): neither the signature nor the expiry is
checked anywhere (moto/core/responses.py reads no X-Amz-Signature at all).

What a presigned request must pass, in this order, each refusal with S3's code and message:

1. The six query parameters, algorithm AWS4-HMAC-SHA256, a credential scope for s3, X-Amz-Expires a number from
   0 to 604800 (400 AuthorizationQueryParametersError). The parameters and the week come from S3's API reference,
   "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"; the over-a-week message is S3's
   response as quoted in bryanjos/aws_auth#31 and aws/aws-cli#5464 (a 400 with that code, not an AccessDenied);
   the other messages as S3-compatible servers tested against S3 reproduce them (MinIO cmd/api-errors.go,
   OpenStack Swift s3api s3request.py).
2. Not expired: 403 AccessDenied "Request has expired", with S3's X-Amz-Expires, Expires and ServerTime elements
   (S3's response as quoted in lukejacksonn/react-slack-clone#27 and aws/aws-sdk-php#1333). The boundary: the URL
   is valid through X-Amz-Date + X-Amz-Expires and expired after it. AWS does not document the instant; its docs
   say the URL is valid for X-Amz-Expires seconds from X-Amz-Date and its error names that sum as <Expires>, and
   the S3-compatible servers that test against S3 all accept a request at exactly that second (Swift s3api
   `timestamp + expires < now`, MinIO `now - date > expires`, VersityGW `passed > exp`).
3. The key: issued by this emulator and not revoked, and a role session's token (moto's create_access_key:
   InvalidAccessKeyId, InvalidToken), as for a header-signed request.
4. The signature, recomputed with botocore's S3SigV4QueryAuth over the same method, path, query parameters
   (all but X-Amz-Signature), signed headers, X-Amz-Date and credential scope, compared in constant time
   (SignatureDoesNotMatch). A URL signed for GET and sent as PUT, or for another key, fails here.

Then access.py authorises the action with the identity's policies and the bucket policy (check_action_permitted),
as it does a header-signed request. Nothing here reads the request's body (a presigned URL signs
UNSIGNED-PAYLOAD), so authenticate() can also run before a server reads one; nothing here logs the query string,
which carries the signature.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from moto.iam import access_control
from moto.iam import models as iam_models
from moto.utilities.utils import get_partition
from werkzeug.exceptions import HTTPException

from ..shapes import Json

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNATURE = "X-Amz-Signature"
REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", SIGNATURE, "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires")
MAX_EXPIRES = 604800  # a week, in seconds
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SERVER_TIME = "%Y-%m-%dT%H:%M:%SZ"

MISSING_PARAMETERS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
    "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
UNSUPPORTED_ALGORITHM = 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'
CREDENTIAL_ERROR = "Error parsing the X-Amz-Credential parameter;"
MALFORMED_CREDENTIAL = (
    f'{CREDENTIAL_ERROR} the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
)
MALFORMED_DATE = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
EXPIRES_NOT_A_NUMBER = "X-Amz-Expires should be a number"
EXPIRES_NEGATIVE = "X-Amz-Expires must be non-negative"
EXPIRES_OVER_A_WEEK = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
    "604800 seconds"
)
EXPIRED = "Request has expired"


def now() -> datetime:
    """The clock expiry is judged by (tests replace it)."""
    return datetime.now(timezone.utc)


class S3Refusal(HTTPException):
    """An S3 <Error> with the elements S3 sends for it; moto's S3 errors carry only a code and a message."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.code = status
        elements = {"Code": code, "Message": message, **(details or {})}
        body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in elements.items())
        self.description = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{body}</Error>'

    def get_headers(self, *args: Json, **kwargs: Json) -> list[tuple[str, str]]:
        return [("Content-Type", "application/xml")]

    def get_body(self, *args: Json, **kwargs: Json) -> str:
        return self.description or ""


def _malformed(message: str) -> S3Refusal:
    return S3Refusal(400, "AuthorizationQueryParametersError", message)


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """The query's parameters, decoded, in order (repeated names kept, as the canonical query string keeps them)."""
    pairs = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def is_presigned(url: str) -> bool:
    """Whether an unsigned request's URL tries query-string authentication (SigV4; a SigV2 URL does not count)."""
    return any(name in REQUIRED for name, _ in query_pairs(urlsplit(url).query))


class PresignedS3Request(access_control.S3IAMRequest):
    """moto's S3IAMRequest, its credentials read from the query string instead of the Authorization header: the
    same key lookup and errors, and (access.py's check_action_permitted) the same policy decision."""

    def __init__(
        self, method: str, path: str, raw_query: str, headers: Mapping[str, str], data: dict[str, Json], action: str
    ) -> None:
        # Not moto's __init__: it reads the Authorization header (and logs the path with its query string).
        self._method = method
        self._path = path
        self._data = data
        self._body = b""
        self._headers = headers
        self._pairs = query_pairs(raw_query)
        first = dict(reversed(self._pairs))
        if any(not first.get(name) for name in REQUIRED):
            raise _malformed(MISSING_PARAMETERS)
        if first["X-Amz-Algorithm"] != ALGORITHM:
            raise _malformed(UNSUPPORTED_ALGORITHM)
        scope = first["X-Amz-Credential"].split("/")
        if len(scope) != 5:
            raise _malformed(MALFORMED_CREDENTIAL)
        if scope[3] != "s3":
            # The service names the action authorised below ("s3:GetObject"): only a scope for s3 may sign for S3.
            raise _malformed(f'{CREDENTIAL_ERROR} incorrect service "{scope[3]}". This endpoint belongs to "s3".')
        if scope[4] != "aws4_request":
            raise _malformed(f'{CREDENTIAL_ERROR} incorrect terminal "{scope[4]}". This endpoint uses "aws4_request".')
        self._expires = _expires(first["X-Amz-Expires"])
        self._date = first["X-Amz-Date"]
        _check_not_expired(self._date, self._expires)
        key_id, _, self._region, self._service, _ = scope
        self._action = f"{self._service}:{action}"
        self._signed_headers = first["X-Amz-SignedHeaders"].split(";")
        self._signature = first[SIGNATURE]
        self.account_id = iam_models.get_account_id_from(key_id)
        token = first.get("X-Amz-Security-Token")
        try:
            self._access_key = access_control.create_access_key(
                account_id=self.account_id,
                partition=get_partition(self._region),
                access_key_id=key_id,
                headers={"X-Amz-Security-Token": token} if token is not None else {},
            )
        except access_control.CreateAccessKeyFailure as failure:
            self._raise_invalid_access_key(failure.reason)

    def check_signature(self) -> None:
        expected = self._calculate_signature()
        if not hmac.compare_digest(expected.encode(), self._signature.encode()):
            self._raise_signature_does_not_match()

    def _calculate_signature(self) -> str:
        signed = HTTPHeaders()
        for name in self._signed_headers:
            value = self._headers.get(name)
            if value is None:
                self._raise_signature_does_not_match()  # S3's answer too, for a signed header the request lacks
            signed[name] = value
        if "host" not in self._signed_headers:
            self._raise_signature_does_not_match()  # SigV4 always signs the host
        request = AWSRequest(
            method=self._method,
            url=f"https://{signed['host']}{self._path}",
            headers=signed,
            params=[(name, value) for name, value in self._pairs if name != SIGNATURE],
        )
        request.context["timestamp"] = self._date
        auth = _ExactHeadersQueryAuth(self._access_key.create_credentials(), self._service, self._region, self._expires)
        canonical_request = auth.canonical_request(request)
        return auth.signature(auth.string_to_sign(request, canonical_request), request)


class _ExactHeadersQueryAuth(S3SigV4QueryAuth):
    """botocore's presigned-URL signer, signing exactly the headers the URL names: botocore's own choice leaves out
    some (user-agent, expect) and adds host when missing, which is right when signing but not when checking."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return request.headers


def _expires(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise _malformed(EXPIRES_NOT_A_NUMBER) from None
    if seconds < 0:
        raise _malformed(EXPIRES_NEGATIVE)
    if seconds > MAX_EXPIRES:
        raise _malformed(EXPIRES_OVER_A_WEEK)
    return seconds


def _check_not_expired(amz_date: str, expires: int) -> None:
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise _malformed(MALFORMED_DATE) from None
    expires_at = signed_at + timedelta(seconds=expires)
    current = now()
    if current > expires_at:  # valid through its last second (module docstring)
        details = {
            "X-Amz-Expires": str(expires),
            "Expires": expires_at.strftime(_SERVER_TIME),
            "ServerTime": current.strftime(_SERVER_TIME),
        }
        raise S3Refusal(403, "AccessDenied", EXPIRED, details)


def authenticate(
    method: str, path: str, raw_query: str, headers: Mapping[str, str], data: dict[str, Json], action: str
) -> PresignedS3Request:
    """The presigned request's identity, or S3's refusal. Needs no body: `path` is the path as it arrived (still
    percent-encoded), `raw_query` the query string likewise."""
    request = PresignedS3Request(method, path, raw_query, headers, data, action)
    request.check_signature()
    return request


def authenticate_and_authorize(response: Json, resource: str) -> None:
    """access.py's hook for an S3 request without an Authorization header that carries a presigned URL's
    parameters: moto's BaseResponse `response` is authenticated here, then authorised on `resource` as moto's
    _authenticate_and_authorize_action authorises a header-signed one."""
    request = authenticate(
        method=response.method,
        path=response.raw_path,
        raw_query=urlsplit(response.uri).query,
        headers=response.headers,
        data=response.data,
        action=response._get_action(),
    )
    request.check_action_permitted(resource)
