"""Hostile payloads sent straight to the stack's local endpoint: each gets a 4xx with a message, and the endpoint
keeps serving the same predictions afterwards."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from vgsales.pipeline import deploy


@pytest.fixture
def serving(shared_stack):
    """The endpoint's name and ten real test rows in both formats, on whatever model the stack serves now (other
    tests may have trained and deployed another one since the last payload)."""
    shared_stack.ensure("endpoint")
    libsvm, dense = shared_stack.test_rows(10)
    return deploy.endpoint_name(shared_stack.settings), libsvm, dense


def test_a_bad_payload_gets_a_4xx_and_the_endpoint_keeps_serving(
    payload_case, serving, shared_stack, catalogue, trust_doc
):
    name, libsvm, dense = serving
    body = catalogue.payload_body(payload_case, dense[0], libsvm[0])
    request = {"EndpointName": payload_case.endpoint or name, "ContentType": payload_case.content_type, "Body": body}
    if payload_case.accept:
        request["Accept"] = payload_case.accept
    rows = "\n".join(dense).encode()
    with shared_stack.aws() as aws:
        scores = aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=rows)["Body"].read()
        with pytest.raises(ClientError) as refused:
            aws.runtime.invoke_endpoint(**request)
        response = refused.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == payload_case.status, response
        assert response["Error"]["Code"] == payload_case.code, response
        # A ModelError carries the container's own message; AWS wraps it with a pointer to the logs.
        message = response.get("OriginalMessage") or response["Error"]["Message"]
        assert payload_case.expect in message, response
        again = aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=rows)
        assert again["Body"].read() == scores, "the endpoint must keep serving the same model"
    if "OriginalStatusCode" in response:
        message = f"{response['OriginalStatusCode']} from the container: {message}"
    trust_doc.message("payloads", payload_case.key, message)
