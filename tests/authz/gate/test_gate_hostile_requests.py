"""Hostile hand-made requests against the gated server: the gate decides the call moto runs,
or refuses the request in the protocol's own words (issue 21).

AWS Query API "Common Errors" (MissingAction, InvalidAction, InvalidParameterCombination 400,
MalformedQueryString 404, IncompleteSignature 400); DynamoDB Developer Guide "Error handling with
DynamoDB" (``com.amazonaws.dynamodb.v20120810#SerializationException``, 400); S3 API Reference
"GetObject" (the key is the path decoded once) and "Error responses".
"""
from __future__ import annotations

import gzip
import http.client
import json
from typing import Iterator

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT
from hostile_server import ORCHESTRATOR, Answer, client, recording_server, reset, send, sign, signed_send, user

from orchestrator.authz.gate.wsgi import GatedMotoServer

FORM = "application/x-www-form-urlencoded; charset=utf-8"
DDB = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}
KMS = {"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"}
TESTER_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:GetUser", "dynamodb:ListTables", "kms:ListKeys"],
     "Resource": "*"}]}


def bucket_policy(tester_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": tester_arn}, "Action": "s3:GetObject",
         "Resource": ["arn:aws:s3:::pct/aA", "arn:aws:s3:::pct/b%42"]},
        {"Effect": "Allow", "Principal": {"AWS": tester_arn}, "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::pct"}]})


class World:
    """Users tester (a few read rights) and admin, bucket ``pct`` whose policy lets tester read
    ``aA`` and ``b%42`` only, bucket ``secret`` nobody else may read."""

    def __init__(self, server: GatedMotoServer) -> None:
        reset(server)
        self.server = server
        self.tester = user(server, ORCHESTRATOR, "tester", TESTER_POLICY)
        self.admin = user(server, ORCHESTRATOR, "admin")
        s3 = client(server, ORCHESTRATOR, "s3")
        for bucket in ("pct", "secret"):
            s3.create_bucket(Bucket=bucket)
        for key in ("aA", "a%41", "b%42", "bB"):
            s3.put_object(Bucket="pct", Key=key, Body=key.encode())
        s3.put_object(Bucket="secret", Key="pct/aA", Body=b"secret")
        s3.put_bucket_policy(Bucket="pct", Policy=bucket_policy(f"arn:aws:iam::{ACCOUNT}:user/tester"))

    def users(self) -> set[str]:
        return {u["UserName"] for u in client(self.server, ORCHESTRATOR, "iam").list_users()["Users"]}

    def admin_keys(self) -> int:
        iam = client(self.server, ORCHESTRATOR, "iam")
        return len(iam.list_access_keys(UserName="admin")["AccessKeyMetadata"])


@pytest.fixture(scope="module")
def server() -> Iterator[GatedMotoServer]:
    with recording_server() as (running, _):
        yield running


@pytest.fixture
def world(server: GatedMotoServer) -> World:
    return World(server)


def _query_error(answer: Answer) -> tuple[int, str]:
    text = answer.body.decode()
    return answer.status, text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else text[:200]


def _json_error(answer: Answer) -> tuple[int, str]:
    return answer.status, json.loads(answer.body)["__type"]


# --- S3 keys: decoded once ---------------------------------------------------------------------

def test_a_percent_in_an_s3_key_is_not_decoded_twice(world: World) -> None:
    """boto3 sends Key "a%41" as /pct/a%2541: the key is "a%41" (not the allowed "aA"), and the key
    "b%42" the policy allows is not judged as "bB"."""
    s3 = client(world.server, world.tester, "s3")
    assert s3.get_object(Bucket="pct", Key="aA")["Body"].read() == b"aA"
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="pct", Key="a%41")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert '"arn:aws:s3:::pct/a%41"' in denied.value.response["Error"]["Message"]
    assert s3.get_object(Bucket="pct", Key="b%42")["Body"].read() == b"b%42"


def test_a_virtual_hosted_request_is_judged_on_the_bucket_moto_reads(world: World) -> None:
    """moto takes the bucket from a dotted Host: the gate must not judge the path's bucket."""
    answer = signed_send(world.server, world.tester, "s3", "GET", "/pct/aA", {"Host": "secret.example.com"})
    assert answer.status == 403 and b"secret" not in answer.body.split(b"<Message>")[0]
    assert b"arn:aws:s3:::secret/pct/aA" in answer.body


def test_an_s3_sub_resource_is_the_operation_moto_runs(world: World) -> None:
    """?acl is GetBucketAcl (not ListObjects, which tester may do); ?Policy (another case) is no
    sub-resource: ListObjects, as moto runs it."""
    assert signed_send(world.server, world.tester, "s3", "GET", "/pct?acl").status == 403
    assert signed_send(world.server, world.tester, "s3", "GET", "/pct?Policy").status == 200
    denied = signed_send(world.server, world.tester, "s3", "GET", "/pct?policy=")
    assert denied.status == 403 and b"s3:GetBucketPolicy" in denied.body


# --- query protocol ----------------------------------------------------------------------------

def test_an_action_in_both_the_url_and_the_body_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "iam", "POST",
                         "/?Action=CreateAccessKey&UserName=admin&Version=2010-05-08",
                         {"Content-Type": FORM}, b"Action=ListRoles&Version=2010-05-08")
    assert _query_error(answer) == (400, "InvalidParameterCombination")
    assert world.admin_keys() == 1


def test_a_parameter_given_twice_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "iam", "POST", "/", {"Content-Type": FORM},
                         b"Action=CreateAccessKey&Action=ListRoles&UserName=admin&Version=2010-05-08")
    assert _query_error(answer) == (400, "InvalidParameterCombination")
    assert world.admin_keys() == 1


@pytest.mark.parametrize("content_type", ["APPLICATION/X-WWW-FORM-URLENCODED", "Application/X-Www-Form-Urlencoded; charset=UTF-8"])
def test_a_form_body_in_any_case_is_read(world: World, content_type: str) -> None:
    answer = signed_send(world.server, world.tester, "iam", "POST", "/", {"Content-Type": content_type},
                         b"Action=CreateUser&UserName=mallory&Version=2010-05-08")
    assert _query_error(answer) == (403, "AccessDenied")
    assert "mallory" not in world.users()


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "deflate"])
def test_a_compressed_query_body_is_refused(world: World, encoding: str) -> None:
    body = gzip.compress(b"Action=CreateUser&UserName=mallory&Version=2010-05-08")
    answer = signed_send(world.server, world.tester, "iam", "POST", "/",
                         {"Content-Type": FORM, "Content-Encoding": encoding}, body)
    assert _query_error(answer) == (404, "MalformedQueryString")
    assert "mallory" not in world.users()


def test_a_chunked_query_body_is_read(world: World) -> None:
    """A chunked body has no Content-Length; werkzeug still hands it to moto."""
    body = b"Action=CreateUser&UserName=mallory&Version=2010-05-08"
    host, port = world.server.get_host_and_port()
    headers = sign(world.tester, "iam", "POST", f"http://{host}:{port}/", {"Content-Type": FORM}, body)
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("POST", "/", body=iter([body]), headers={**headers, "Content-Type": FORM},
                       encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, b"<Code>AccessDenied</Code>" in response.read()) == (403, True)
    connection.close()
    assert "mallory" not in world.users()


def test_a_json_target_on_a_query_service_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "iam", "POST", "/",
                         {"Content-Type": FORM, "X-Amz-Target": "AWSIdentityManagementV20100508.ListRoles"},
                         b"Action=CreateUser&UserName=mallory&Version=2010-05-08")
    assert _query_error(answer) == (400, "InvalidParameterCombination")
    assert "mallory" not in world.users()


@pytest.mark.parametrize(("body", "error"), [
    (b"Version=2010-05-08", (400, "MissingAction")),
    (b"Action=Create%00User&Version=2010-05-08", (400, "InvalidAction")),
    (b"Action=CreateUser&UserName=%ff", (404, "MalformedQueryString")),
    (b"Action=CreateUser&UserName=\xff", (404, "MalformedQueryString")),
])
def test_undecodable_query_requests_get_the_query_error(world: World, body: bytes, error: tuple[int, str]) -> None:
    answer = signed_send(world.server, world.tester, "iam", "POST", "/", {"Content-Type": FORM}, body)
    assert _query_error(answer) == error


# --- JSON protocols ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"{", b'{"Limit": NaN}', b'{"Limit": Infinity}', b"[" * 100_000, b"[]", b'"x"',
                                  b"\xff\xfe{}", b'{"a": 1, "a": 2}', b"", b'{"a":' + b'{"a":' * 150 + b"1" + b"}" * 151])
@pytest.mark.parametrize(("headers", "code"), [
    (DDB, "com.amazonaws.dynamodb.v20120810#SerializationException"), (KMS, "SerializationException")])
def test_malformed_json_is_a_serialization_exception(world: World, body: bytes, headers: dict[str, str],
                                                     code: str) -> None:
    service = "dynamodb" if "DynamoDB" in headers["X-Amz-Target"] else "kms"
    answer = signed_send(world.server, world.tester, service, "POST", "/", headers, body)
    assert _json_error(answer) == (400, code)
    assert answer.headers["x-amzn-errortype"] == "SerializationException"


@pytest.mark.parametrize("service", ["dynamodb", "kms"])
def test_gzipped_json_is_a_serialization_exception(world: World, service: str) -> None:
    headers = {**(DDB if service == "dynamodb" else KMS), "Content-Encoding": "gzip"}
    answer = signed_send(world.server, world.tester, service, "POST", "/", headers, gzip.compress(b"{}"))
    assert answer.status == 400 and json.loads(answer.body)["__type"].endswith("SerializationException")


@pytest.mark.parametrize("target", ["dynamodb_20120810.ListTables", "DynamoDB_20111205.ListTables",
                                    "DynamoDBStreams_20120810.ListStreams", "DynamoDB_20120810.ListTables,x",
                                    "DynamoDB_20120810.", "TrentService.ListKeys"])
def test_an_odd_dynamodb_target_is_an_unknown_operation(world: World, target: str) -> None:
    answer = signed_send(world.server, world.tester, "dynamodb", "POST", "/",
                         {**DDB, "X-Amz-Target": target}, b"{}")
    assert _json_error(answer) == (400, "com.amazonaws.dynamodb.v20120810#UnknownOperationException")


def test_an_action_beside_a_json_target_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "kms", "POST", "/?Action=CreateKey", KMS, b"{}")
    assert _json_error(answer) == (400, "UnknownOperationException")


def test_a_well_formed_json_call_still_passes(world: World) -> None:
    answer = signed_send(world.server, world.tester, "dynamodb", "POST", "/", DDB, b"{}")
    assert answer.status == 200 and "TableNames" in json.loads(answer.body)


# --- where moto would send it ------------------------------------------------------------------

def test_a_credential_moto_reads_elsewhere_is_refused(world: World) -> None:
    """moto reads the scope from the header's first comma-separated part only (and would route
    this KMS-scoped request to S3)."""
    body = b"{}"
    host, port = world.server.get_host_and_port()
    signed = sign(world.tester, "kms", "POST", f"http://{host}:{port}/", dict(KMS), body)
    algorithm, rest = signed["Authorization"].split(" ", 1)
    headers = {**KMS, "X-Amz-Date": signed["X-Amz-Date"], "Authorization": f"{algorithm} Foo=bar, {rest}"}
    answer = send(world.server, "POST", "/", headers, body)
    assert _json_error(answer) == (400, "IncompleteSignature")


def test_a_region_moto_takes_from_the_user_agent_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "kms", "POST", "/",
                         {**KMS, "User-Agent": "Boto3/1 region/eu-west-1"}, b"{}")
    assert _json_error(answer) == (400, "IncompleteSignature")


def test_an_upper_case_service_scope_is_refused(world: World) -> None:
    answer = signed_send(world.server, world.tester, "IAM", "POST", "/", {"Content-Type": FORM},
                         b"Action=CreateUser&UserName=mallory&Version=2010-05-08")
    assert _query_error(answer) == (400, "IncompleteSignature")
    assert "mallory" not in world.users()


@pytest.mark.parametrize("unsigned", [False, True], ids=["signed", "unsigned"])
def test_a_body_above_the_limit_is_refused_unread(world: World, monkeypatch: pytest.MonkeyPatch, unsigned: bool) -> None:
    """The gate buffers what it reads, so it reads no more than wsgi.MAX_BODY (lowered here): a
    longer CreateUser form, signed or not, is answered 413 and moto runs nothing."""
    from orchestrator.authz.gate import wsgi

    monkeypatch.setattr(wsgi, "MAX_BODY", 64)
    body = ("Action=CreateUser&Version=2010-05-08&UserName=" + "x" * 60).encode()
    keys = None if unsigned else ORCHESTRATOR
    answer = signed_send(world.server, keys, "iam", "POST", "/", {"Content-Type": FORM}, body)
    assert answer.status == 413, answer.body[:200]
    monkeypatch.undo()
    assert "x" * 60 not in world.users()
