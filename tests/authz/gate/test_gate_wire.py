"""Wire parsing and error rendering of the WSGI adapter, without a server.

AWS General Reference "Signature Version 4" (credential scope); S3 API
Reference (request syntax per operation, "Error responses"); Smithy "AWS JSON
1.0 protocol" errors; IAM API Reference "Common Errors".
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from orchestrator.authz.gate.errors import AwsError
from orchestrator.authz.services.s3_rest import rest_operation, rest_params, split_bucket_key
from orchestrator.authz.gate.wsgi import GateMiddleware, parse_call, render_error

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIATESTER/20260101/eu-west-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc")


def _environ(service: str, method: str = "POST", path: str = "/", body: bytes = b"",
             query: str = "", **headers: str) -> dict[str, Any]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "HTTP_AUTHORIZATION": AUTH.format(service=service), "HTTP_HOST": "127.0.0.1:5000"}
    for name, value in headers.items():
        key = name.upper()
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def test_json_protocol_call_and_body_put_back() -> None:
    body = json.dumps({"TableName": "orders", "Key": {"pk": {"S": "a"}}}).encode()
    environ = _environ("dynamodb", body=body, x_amz_target="DynamoDB_20120810.GetItem",
                       content_type="application/x-amz-json-1.0")
    call = parse_call(environ)
    assert call is not None
    assert (call.service, call.operation, call.access_key_id, call.region, call.protocol) == (
        "dynamodb", "GetItem", "AKIATESTER", "eu-west-1", "json")
    assert call.params["TableName"] == "orders"
    assert environ["wsgi.input"].read() == body


def test_query_protocol_call() -> None:
    body = b"Action=CreateUser&UserName=mallory&Version=2010-05-08"
    call = parse_call(_environ("iam", body=body, content_type="application/x-www-form-urlencoded"))
    assert call is not None
    assert (call.operation, call.protocol, call.params["UserName"]) == ("CreateUser", "query", "mallory")


def test_unsigned_request_is_the_anonymous_callers_call() -> None:
    """An unsigned request is decided as the anonymous caller (IAM User Guide, "AWS JSON policy
    elements: Principal", anonymous users), never passed to moto undecided: S3 by its REST form,
    a JSON request by its X-Amz-Target (which the gate answers MissingAuthenticationToken)."""
    environ = _environ("s3", method="GET", path="/reports/data.txt")
    del environ["HTTP_AUTHORIZATION"]
    call = parse_call(environ)
    assert call is not None
    assert (call.service, call.operation, call.access_key_id, call.signed) == ("s3", "GetObject", None, False)
    environ = _environ("dynamodb", body=b"{}", x_amz_target="DynamoDB_20120810.GetItem",
                       content_type="application/x-amz-json-1.0")
    del environ["HTTP_AUTHORIZATION"]
    call = parse_call(environ)
    assert call is not None and (call.service, call.protocol, call.signed) == ("dynamodb", "json", False)


def test_moto_control_api_is_not_a_call() -> None:
    environ = _environ("s3", method="POST", path="/moto-api/reset")
    del environ["HTTP_AUTHORIZATION"]
    assert parse_call(environ) is None


def test_presigned_s3_url() -> None:
    query = "X-Amz-Credential=AKIATESTER%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x"
    environ = _environ("s3", method="GET", path="/reports/data.txt", query=query)
    del environ["HTTP_AUTHORIZATION"]
    call = parse_call(environ)
    assert call is not None and (call.operation, call.params["Key"]) == ("GetObject", "data.txt")


@pytest.mark.parametrize(("method", "path", "query", "headers", "operation"), [
    ("GET", "/", {}, {}, "ListBuckets"),
    ("PUT", "/b", {}, {}, "CreateBucket"),
    ("GET", "/b", {"list-type": "2"}, {}, "ListObjectsV2"),
    ("GET", "/b", {}, {}, "ListObjects"),
    ("PUT", "/b", {"policy": ""}, {}, "PutBucketPolicy"),
    ("GET", "/b", {"encryption": ""}, {}, "GetBucketEncryption"),
    ("GET", "/b/k", {}, {}, "GetObject"),
    ("HEAD", "/b/k", {}, {}, "HeadObject"),
    ("PUT", "/b/k", {}, {"x-amz-copy-source": "/b/j"}, "CopyObject"),
    ("PUT", "/b/dir/k", {}, {}, "PutObject"),
    ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
    ("DELETE", "/b/k", {}, {}, "DeleteObject"),
])
def test_s3_rest_operations(method: str, path: str, query: dict[str, str], headers: dict[str, str],
                            operation: str) -> None:
    bucket, key = split_bucket_key(path)
    assert rest_operation(method, bucket, key, query, headers) == operation


def test_s3_virtual_host_and_sse_headers() -> None:
    assert split_bucket_key("/a%20b.txt", "reports") == ("reports", "a b.txt")
    params = rest_params("reports", "k", {"x-amz-server-side-encryption": "aws:kms",
                                          "x-amz-server-side-encryption-aws-kms-key-id": "alias/x",
                                          "x-amz-server-side-encryption-bucket-key-enabled": "true"})
    assert params == {"Bucket": "reports", "Key": "k", "ServerSideEncryption": "aws:kms",
                      "SSEKMSKeyId": "alias/x", "BucketKeyEnabled": True}


def _error(service: str, code: str = "AccessDeniedException", status: int = 400) -> AwsError:
    return AwsError(code, "User: a <b> & c", status, "key-policy", service, "rid-1")


def test_render_json_error() -> None:
    status, headers, body = render_error(_error("kms"), "json", "POST")
    assert status == "400 Bad Request"
    assert dict(headers)["x-amzn-ErrorType"] == "AccessDeniedException"
    assert json.loads(body) == {"__type": "AccessDeniedException", "message": "User: a <b> & c"}


def test_render_query_and_s3_errors_escape_xml() -> None:
    status, _, body = render_error(_error("iam", "AccessDenied", 403), "query", "POST")
    assert status == "403 Forbidden"
    assert b"<Type>Sender</Type><Code>AccessDenied</Code><Message>User: a &lt;b&gt; &amp; c</Message>" in body
    _, headers, body = render_error(_error("s3", "AccessDenied", 403), "rest-xml", "GET")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>')
    assert render_error(_error("s3", "AccessDenied", 403), "rest-xml", "HEAD")[2] == b""


class _Gate:
    """A gate double that denies everything."""

    def check(self, *args: Any, signed: bool = True) -> Any:
        from orchestrator.authz.gate.core import CallVerdict

        self.signed = signed
        return CallVerdict(False, args[0], args[1], None, True, [], _error(args[0]), "rid-1")


def test_middleware_answers_denials_without_calling_the_app() -> None:
    called: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(True)
        return [b"ok"]

    started: list[str] = []
    gate = _Gate()
    middleware = GateMiddleware(app, gate)  # type: ignore[arg-type]
    environ = _environ("kms", body=b"{}", x_amz_target="TrentService.DescribeKey")
    body = b"".join(middleware(environ, lambda status, headers: started.append(status)))
    assert started == ["400 Bad Request"] and json.loads(body)["__type"] == "AccessDeniedException"
    assert called == []
    unsigned = _environ("s3", method="GET", path="/reports/data.txt")
    del unsigned["HTTP_AUTHORIZATION"]
    assert middleware(unsigned, lambda *a: None) != [b"ok"]  # decided (anonymous), not passed to moto
    assert gate.signed is False and called == []
