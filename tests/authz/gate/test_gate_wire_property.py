"""Property: the gate decides exactly the call moto runs (issue 21).

Thousands of generated hand-made requests reach the gated server in-process: operation names in
the URL and the body, case and encoding variants of Content-Type, Content-Encoding and
X-Amz-Target, duplicated parameters, odd JSON, percent-encoded S3 keys and sub-resources spelled
every which way, signed (SigV4, botocore) as an IAM user with a few rights or as one with none.
For every request: whatever moto ran, the gate allowed that very operation on the same parameters
(S3: the same bucket and key); the rightless user never makes moto run anything; nothing answers 500
unless the gate allowed it. Cedar's symbolic compiler checks its encoding the same way: against the
concrete evaluator, by differential property testing (HOUSE.md).
"""
from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hostile_server import ORCHESTRATOR, Keys, MotoRan, Recorder, client, recording_server, reset, signed_send, user

from orchestrator.authz.gate.wsgi import GatedMotoServer

EXAMPLES = 4000
_READS = ("List", "Get", "Describe", "Head")
TESTER_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:GetUser", "iam:ListUsers", "dynamodb:ListTables",
                                   "dynamodb:DescribeTable", "kms:ListKeys", "kms:ListAliases"], "Resource": "*"}]}
BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tester"},
     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pct/a*"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tester"},
     "Action": ["s3:PutObject", "s3:GetObjectTagging"], "Resource": ["arn:aws:s3:::pct/aA", "arn:aws:s3:::pct/a%41"]},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tester"},
     "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::pct"}]}


@dataclass
class World:
    server: GatedMotoServer
    recorder: Recorder
    principals: dict[str, Keys]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with recording_server() as (server, recorder):
        reset(server)
        principals = {"tester": user(server, ORCHESTRATOR, "tester", TESTER_POLICY),
                      "nobody": user(server, ORCHESTRATOR, "nobody")}
        user(server, ORCHESTRATOR, "admin")
        s3 = client(server, ORCHESTRATOR, "s3")
        s3.create_bucket(Bucket="pct")
        for key in ("aA", "a%41", "a+b", "a b"):
            s3.put_object(Bucket="pct", Key=key, Body=b"x")
        s3.put_bucket_policy(Bucket="pct", Policy=json.dumps(BUCKET_POLICY))
        client(server, ORCHESTRATOR, "dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        yield World(server, recorder, principals)


@dataclass(frozen=True)
class Request:
    service: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""


def _case(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.title(), word.lower()])


_QUERY_ACTIONS = st.sampled_from(["CreateAccessKey", "ListRoles", "CreateUser", "GetUser", "DeleteUser",
                                  "ListUsers", "createuser", "Create%55ser", "", "GetCallerIdentity", "List%52oles"])
_PARAM = st.tuples(st.sampled_from(["Action", "UserName", "Version", "action", "X-Amz-Date"]),
                   st.sampled_from(["admin", "tester", "mallory", "CreateUser", "ListRoles", "2010-05-08", "%41", ""]))


@st.composite
def clean_query_requests(draw: st.DrawFn) -> Request:
    """A well-formed query request (one Action, in the URL or the body), in odd spellings."""
    pairs = [("Action", draw(_QUERY_ACTIONS)), ("Version", "2010-05-08")]
    if draw(st.booleans()):
        pairs.append(("UserName", draw(st.sampled_from(["admin", "tester", "mallory", "a%41", "a+b"]))))
    encoded = "&".join(f"{k}={v}" for k, v in pairs)
    in_url = draw(st.integers(0, 3)) == 0
    content_type = draw(st.sampled_from(["application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED",
                                         "application/x-www-form-urlencoded; charset=utf-8"]))
    service = "sts" if pairs[0][1] == "GetCallerIdentity" else "iam"
    if in_url:
        return Request(service, draw(st.sampled_from(["GET", "POST"])), f"/?{encoded}", {})
    return Request(service, "POST", "/", {"Content-Type": content_type}, encoded.encode())


@st.composite
def query_requests(draw: st.DrawFn) -> Request:
    url_pairs = draw(st.lists(_PARAM, max_size=3))
    body_pairs = draw(st.lists(_PARAM, max_size=3))
    if draw(st.booleans()):
        (body_pairs if draw(st.booleans()) else url_pairs).append(("Action", draw(_QUERY_ACTIONS)))
    url = "/" + ("?" + "&".join(f"{k}={v}" for k, v in url_pairs) if url_pairs else "")
    body = "&".join(f"{k}={v}" for k, v in body_pairs).encode()
    headers: dict[str, str] = {}
    content_type = draw(st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
                                         "text/plain", "application/x-amz-json-1.1", "multipart/form-data; boundary=x", None]))
    if content_type is not None:
        headers["Content-Type"] = draw(_case(content_type)) if draw(st.booleans()) else content_type
    encoding = draw(st.sampled_from([None, "gzip", "GZIP", "identity", "deflate"]))
    if encoding is not None:
        headers["Content-Encoding"] = encoding
        body = gzip.compress(body) if encoding.lower() == "gzip" else body
    if draw(st.integers(0, 5)) == 0:
        headers["X-Amz-Target"] = draw(st.sampled_from(["AWSIdentityManagementV20100508.ListRoles", "TrentService.ListKeys"]))
    return Request(draw(st.sampled_from(["iam", "iam", "sts"])), draw(st.sampled_from(["POST", "POST", "GET"])),
                   url, headers, body)


_JSON_BODIES = st.sampled_from([b"{}", b'{"TableName": "orders"}', b'{"Limit": 5}', b'{"Limit": NaN}', b"[]",
                                b"[" * 3000, b"{", b"\xff", b'{"a": 1, "a": 2}', b"", b'{"KeyId": "alias/x"}',
                                b'{"TableName": "orders", "TableName": "x"}', b'{"TableName": "orders"} '])


@st.composite
def json_requests(draw: st.DrawFn) -> Request:
    service = draw(st.sampled_from(["dynamodb", "kms"]))
    right = "DynamoDB_20120810" if service == "dynamodb" else "TrentService"
    prefix = draw(st.sampled_from([right, right, right, "DynamoDB_20120810", "TrentService", "dynamodb_20120810",
                                   "DynamoDB_20111205", "DynamoDBStreams_20120810", "TRENTSERVICE"]))
    operation = draw(st.sampled_from(["ListTables", "DescribeTable", "ListKeys", "ListAliases", "DeleteTable",
                                      "CreateKey", "ScheduleKeyDeletion", "listtables", ""]))
    headers = {"X-Amz-Target": f"{prefix}.{operation}"}
    content_type = draw(st.sampled_from(["application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json",
                                         "application/x-amz-json-1.0", "application/x-amz-json-1.1",
                                         "APPLICATION/X-AMZ-JSON-1.0", "application/x-www-form-urlencoded", None]))
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = draw(_JSON_BODIES) if draw(st.booleans()) else b'{"TableName": "orders"}'
    if draw(st.integers(0, 6)) == 0:
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "GZIP"]))
        body = gzip.compress(body)
    url = draw(st.sampled_from(["/", "/", "/", "/", "/?Action=DeleteTable", "/?Action=CreateKey&x=1"]))
    return Request(service, "POST", url, headers, body)


_KEYS = st.one_of(
    st.sampled_from(["aA", "a%41", "a%2541", "a+b", "a%2Bb", "a%20b", "a%2520b", "A%41", "a%2F", "a/b"]),
    st.lists(st.sampled_from(["a", "A", "%41", "%2541", "%2B", "+", "%20", "b", "%2F", "/", "%25"]),
             min_size=0, max_size=4).map("".join))
_SUBRESOURCES = st.lists(st.sampled_from(["x-id=GetObject", "versionId=", "tagging", "policy", "policy", "policy=", "Policy", "POLICY", "acl", "tagging", "TAGGING",
                                          "uploads", "uploadId=1", "partNumber=1", "versionId=x", "versionId=",
                                          "list-type=2", "versions", "delete", "location", "encryption", "x-id=GetObject",
                                          "cors", "lifecycle", "publicAccessBlock", "ownershipControls", "restore"]),
                         max_size=3)


@st.composite
def s3_requests(draw: st.DrawFn) -> Request:
    key = draw(_KEYS)
    path = draw(st.sampled_from(["/pct", "/pct/", "/pct2", "/"])) if not key else f"/pct/{key}"
    query = "&".join(draw(_SUBRESOURCES))
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "PUT", "PUT", "DELETE", "POST"]))
    headers: dict[str, str] = {}
    if method == "PUT" and draw(st.booleans()):
        headers["x-amz-copy-source"] = "/pct/aA"
    if draw(st.integers(0, 5)) == 0:
        headers["Host"] = draw(st.sampled_from(["secret.example.com", "pct.s3.amazonaws.com", "localhost"]))
    body = b"" if method in ("GET", "HEAD", "DELETE") else draw(st.sampled_from([b"", b"data"]))
    return Request("s3", method, path + (f"?{query}" if query else ""), headers, body)


def _gate_decision(world: World, ran: MotoRan) -> Any:
    decided = [(call, verdict) for call, verdict in world.recorder.verdicts if verdict.allowed]
    assert decided, f"moto ran {ran} with no allowing verdict (verdicts: {world.recorder.verdicts})"
    return decided[-1][0]


def _check_query_or_json(world: World, ran: MotoRan) -> None:
    call = _gate_decision(world, ran)
    assert (call.service, call.operation) == (ran.service, ran.operation), (call, ran)
    seen = {k: v for k, v in ran.params.items() if k != "Action" and not k.lower().startswith("x-amz-")}
    gate = {k: v for k, v in call.params.items() if not k.lower().startswith("x-amz-")}
    assert seen == gate, (gate, seen)


def _check_s3(world: World, ran: MotoRan) -> None:
    call = _gate_decision(world, ran)
    assert (call.service, call.operation) == ("s3", ran.operation), (call, ran)
    assert (call.params.get("Bucket") or None, call.params.get("Key", "")) == (ran.bucket or None, ran.key or ""), (call, ran)


def _check(world: World, who: str, request: Request, status: int) -> None:
    ran = world.recorder.moto
    if who == "nobody":  # no rights: moto changes nothing (a KMS call naming no key fails in moto)
        reads = all(record.operation.startswith(_READS) for record in ran)
        assert not world.recorder.mutations and (reads or status >= 400), (request, ran, status)
    if world.recorder.mutations and not ran:
        raise AssertionError(f"moto changed state {world.recorder.mutations} outside any handler: {request}")
    for record in ran[:1]:
        (_check_s3 if record.service == "s3" else _check_query_or_json)(world, record)
    allowed = any(verdict.allowed for _, verdict in world.recorder.verdicts)
    assert status < 500 or allowed, (request, status)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(who=st.sampled_from(["tester", "tester", "tester", "nobody"]),
       request=st.sampled_from([clean_query_requests, query_requests, json_requests, json_requests, s3_requests,
                                 s3_requests]).flatmap(lambda strategy: strategy()))
def test_the_gate_decides_the_call_moto_runs(world: World, who: str, request: Request) -> None:
    world.recorder.reset()
    answer = signed_send(world.server, world.principals[who], request.service, request.method, request.target,
                         request.headers, request.body)
    _check(world, who, request, answer.status)
    ran = world.recorder.moto
    event(f"{request.service}: " + ("moto ran " + ran[0].operation if ran else
                                    "refused by the parse" if not world.recorder.verdicts else "denied by the gate"))


def test_the_property_runs_fast_enough(world: World) -> None:
    """Speed guard for CI: 200 requests of the mix in a few seconds (the property runs EXAMPLES)."""
    started = time.perf_counter()
    for index in range(200):
        signed_send(world.server, world.principals["tester"], "s3", "GET", f"/pct/{quote('a%41')}?acl={index}")
    assert time.perf_counter() - started < 20
