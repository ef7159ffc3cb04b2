"""What a request must show before the emulator reads its body: a key the emulator issued, and a size the
operation takes.

moto reads a request's whole body before it checks the signature (BaseResponse.setup_class, then
_authenticate_and_authorize_action), so four 200 MiB bodies with a made-up `Credential=` grew the emulator by
1.4 GiB before the 403 (issue 26). Here, from the request head alone:

- a request signed with a key this emulator never issued (or whose session is gone), or not signed at all while
  it carries a body, is refused as moto would refuse it later (the same codes and wording);
- a body larger than its operation takes is refused by its Content-Length: 6 MiB for InvokeEndpoint (SageMaker's
  documented payload limit, answered as hosting.py answers it), 5 GiB for an S3 PUT of an object or a part
  (S3's single-PUT limit, EntityTooLarge), and MAX_OTHER_BODY_BYTES for every other call (the emulator's own
  bound: no control-plane request of the SDKs comes near it);
- a body without a Content-Length (Transfer-Encoding: chunked) must say its size in X-Amz-Decoded-Content-Length
  (botocore's aws-chunked uploads do), else it is refused with S3's 411 MissingContentLength.

A refusal of a request without an issued key closes the connection (Connection: close), so its unread body never
enters the emulator. A request by an issued key that is too large, up to MAX_DRAIN_BYTES, is read to its end and
thrown away as it arrives (listener.py), so that its client sees the answer. The signature itself is checked after
the body is read, by moto, bounded by the limits above; only a holder of the issued key ID gets that far.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import access_control
from moto.iam import models as iam_models
from moto.utilities.utils import get_partition

from . import access, hosting
from .shapes import Environ

Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Answer:
    """A refusal from the head: the response, and whether the body is to be read to its end (and thrown away)
    before it is sent (see Refusal.drain)."""

    response: Response
    drain: bool


INVOCATION_BODY_BYTES = 6 * 1024 * 1024  # SageMaker Runtime's InvokeEndpoint payload limit
S3_PUT_BODY_BYTES = 5 * 1024**3  # S3: "Upload an object in a single operation ... up to 5 GB"; a part as well
MAX_OTHER_BODY_BYTES = 64 * 1024 * 1024

# "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=..."
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
# How each service words its errors: AWS's JSON protocol (access.JSON_SERVICES), S3's REST-XML, or the query
# protocol (IAM, STS).


@dataclass(frozen=True)
class Refusal(Exception):
    """Why a request is refused from its head: the status, the service's error code and message."""

    status: int
    code: str
    message: str
    # Read the body to its end (and throw it away) before answering. A client that is still sending its body when
    # the connection closes sees only a broken connection, not the answer (botocore: "SSL validation failed ...
    # EOF occurred in violation of protocol"), so a request by a key the emulator issued, refused for its size,
    # is drained when it is at most MAX_DRAIN_BYTES (an InvokeEndpoint a little over 6 MiB): it costs time, not
    # memory. A larger one, or a request without an issued key, is never drained.
    drain: bool = False


def _unknown_key(service: str, reason: str) -> Refusal:
    """What each service answers for a key it does not know, or a session token that is not the key's (moto's
    access_control raises the same S3 and query-protocol codes later)."""
    if service == "s3" and reason == "InvalidToken":
        return Refusal(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
    if service == "s3":
        return Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    if service in access.JSON_SERVICES:  # with a 400, as SageMaker answers it (aws/amazon-sagemaker-operator-for-k8s#99)
        return Refusal(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
    return Refusal(403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def refusal(environ: Environ) -> Answer | None:
    """The answer that refuses this request before its body is read, or None to let it through. Needs the request
    head only (the environ's wsgi.input is not read)."""
    if not access.enforced():
        return None
    length = environ.get("CONTENT_LENGTH")
    credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    query = parse_qs(environ.get("QUERY_STRING", ""))
    presigned = query.get("X-Amz-Credential", [""])[0]
    target = "HTTP_X_AMZ_TARGET" in environ
    service = credential.group(3) if credential else ("sagemaker" if target else "s3")
    try:
        if environ.get("HTTP_TRANSFER_ENCODING") and not length:
            # botocore streams a body of unknown length as aws-chunked with a checksum trailer, over HTTP chunking,
            # and says the object's size in X-Amz-Decoded-Content-Length, which S3 then requires.
            length = environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH")
            if not length:
                raise Refusal(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        if length and not length.isdigit():
            raise Refusal(400, "InvalidArgument", "The Content-Length header is not a number.")
        size = int(length or 0)
        if credential:
            _require_issued_key(credential.group(1), credential.group(2), service, environ.get("HTTP_X_AMZ_SECURITY_TOKEN"))
        elif presigned:
            key, _, scope = presigned.partition("/")
            token = query.get("X-Amz-Security-Token", [None])[0]
            _require_issued_key(key, (scope.split("/") + ["", ""])[1], "s3", token)
        elif target:
            # An unsigned JSON-protocol call (SageMaker, Logs): moto would route it to S3 by default, which then
            # answers S3's XML AccessDenied.
            raise Refusal(403, "MissingAuthenticationTokenException", access.UNSIGNED_MESSAGE)
        elif size:
            raise Refusal(403, "AccessDenied", "Access Denied")  # anonymous S3: only a public bucket could allow it
        _require_size(environ, service, size)
    except Refusal as refused:
        if refused.drain and int(length or 0) > MAX_DRAIN_BYTES:
            refused = dataclasses.replace(refused, drain=False)
        return Answer(_render(refused, service), refused.drain)
    return None


MAX_DRAIN_BYTES = 64 * 1024 * 1024


def _require_issued_key(access_key_id: str, region: str, service: str, token: str | None) -> None:
    """moto's own lookup of a signing key (moto/iam/access_control.py create_access_key), which fails for a key it
    did not issue, or a session token (a header, or a presigned URL's parameter) that does not match it."""
    headers = {"X-Amz-Security-Token": token} if token else {}
    # Looked up through the module: access.install() replaces moto's lookup with one that creates no backends.
    account = iam_models.get_account_id_from(access_key_id) or DEFAULT_ACCOUNT_ID
    try:
        access_control.create_access_key(account, get_partition(region or "us-east-1"), access_key_id, headers)
    except access_control.CreateAccessKeyFailure as failure:
        raise _unknown_key(service, failure.reason) from None


def _require_size(environ: Environ, service: str, size: int) -> None:
    path = environ.get("PATH_INFO", "")
    if service == "sagemaker" and hosting.INVOCATION_PATH.match(path):
        if size > INVOCATION_BODY_BYTES:  # worded as hosting.invoke words it
            raise Refusal(413, "ValidationError", f"Request {uuid.uuid4()} has oversize body.", drain=True)
    elif service == "s3" and environ.get("REQUEST_METHOD") == "PUT":
        if size > S3_PUT_BODY_BYTES:
            raise Refusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", drain=True)
    elif size > MAX_OTHER_BODY_BYTES:
        raise Refusal(413, "RequestEntityTooLarge", f"The request body is larger than {MAX_OTHER_BODY_BYTES} bytes.", drain=True)


def _render(refused: Refusal, service: str) -> Response:
    request_id = str(uuid.uuid4())
    if service in access.JSON_SERVICES:
        content = json.dumps({"__type": refused.code, "message": refused.message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", refused.code)]
    elif service == "s3":
        content = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + escape(refused.code) + "</Code><Message>"
            + escape(refused.message) + "</Message><RequestId>" + request_id + "</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml")]
    else:
        content = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>" + escape(refused.code) + "</Code><Message>"
            + escape(refused.message) + "</Message></Error><RequestId>" + request_id + "</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    headers += [("x-amzn-RequestId", request_id), ("Content-Length", str(len(content)))]
    if not refused.drain:
        headers.append(("Connection", "close"))  # the unread body is never drained into the emulator
    return refused.status, headers, content


def describe(answer: Answer) -> str:
    """One line for the log: the status and the error code, never the request's values."""
    status, _, content = answer.response
    match = re.search(rb'"__type": "([^"]*)"|<Code>([^<]*)</Code>', content)
    code = next((group.decode() for group in match.groups() if group), "") if match else ""
    return f"{status} {code}"
