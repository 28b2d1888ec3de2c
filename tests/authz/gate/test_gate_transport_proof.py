"""Under `orchestrate serve`, the transport headers choose a network position only with orchestrate's
proof (authz/gate/transport_proof.py): a hostile client holding a principal's own keys that claims
a VPC endpoint with an allow-all endpoint policy, or a source address, is denied by a bucket policy
that denies unless the request comes that way, exactly as without the headers; orchestrate's own
proof (transport.transport_signer, made with an administrator pair) is honoured. One in-process
server built as `serve` builds its app (backends/serve.build_app), another with --any-key-as-admin.

S3 User Guide, "Restricting access to a specific VPC endpoint" (aws:SourceVpce); IAM User Guide,
"AWS global condition context keys" (aws:SourceIp); AWS PrivateLink Guide, endpoint policies."""
from __future__ import annotations

import base64
import io
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from gate_scenario import code_of

from orchestrator.authz.gate.authenticate import AdminKeys
from orchestrator.authz.gate.transport import (SOURCE_IP_HEADER, SOURCE_VPC_HEADER, SOURCE_VPCE_HEADER, TRANSPORT_MAC_HEADER,
                                               VPCE_POLICY_HEADER, prepared_binding, read_mac, transport_mac,
                                               transport_signer)
from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.backends.serve import build_app

BUCKET = "guarded-transport"
ENDPOINT_ID = "vpce-0123456789abcdef0"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                                  "Resource": "*"}]})
THROUGH_ENDPOINT = {SOURCE_VPCE_HEADER: ENDPOINT_ID, SOURCE_VPC_HEADER: "vpc-0123456789abcdef0",
                    VPCE_POLICY_HEADER: base64.urlsafe_b64encode(ALLOW_ALL.encode()).decode()}
FROM_THE_OFFICE = {SOURCE_IP_HEADER: "10.0.0.5"}
ADMIN = (DEFAULT_ADMIN.access_key_id, DEFAULT_ADMIN.secret_access_key)


@dataclass
class Served:
    url: str
    log: io.StringIO
    reader: tuple[str, str]
    reader_arn: str


def _start(app: Any) -> tuple[Any, threading.Thread]:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def _stop(server: Any, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _policy(reader_arn: str) -> str:
    """The reader may read `endpoint/*` only through the endpoint and `office/*` only from 10.0.0.0/24;
    anyone may read `office/*` from there (the anonymous case)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyThroughTheEndpoint", "Effect": "Deny", "Principal": {"AWS": reader_arn}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/endpoint/*", "Condition": {"StringNotEquals": {"aws:SourceVpce": ENDPOINT_ID}}},
        {"Sid": "OnlyFromTheOffice", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/office/*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/24"}}},
        {"Sid": "PublicFromTheOffice", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/office/*"},
    ]})


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    log = io.StringIO()
    server, thread = _start(build_app("us-east-1", log_stream=log))
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        iam, s3 = client(url, "iam", ADMIN), client(url, "s3", ADMIN)
        user = iam.create_user(UserName="transport-reader")["User"]
        iam.put_user_policy(UserName="transport-reader", PolicyName="read", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="transport-reader")["AccessKey"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        for name in ("endpoint/report.txt", "endpoint/other.txt", "office/report.txt"):
            s3.put_object(Bucket=BUCKET, Key=name, Body=b"quarterly report")
        s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(user["Arn"]))
        yield Served(url, log, (key["AccessKeyId"], key["SecretAccessKey"]), user["Arn"])
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()
        _stop(server, thread)


def client(url: str, service: str, pair: tuple[str, str] | None) -> Any:
    if pair is None:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=pair[0],
                        aws_secret_access_key=pair[1])


def carrying(s3: Any, headers: dict[str, str], proof: Callable[[Any], str | None] | None = None) -> Any:
    """The client's calls carry ``headers`` (added before signing, as prove/assertions.py does) and,
    once signed, the proof ``proof`` makes of the prepared request (None: no proof header)."""
    s3.meta.events.register_first("before-call", lambda params=None, **_: params["headers"].update(headers))
    if proof is not None:
        def add(request: Any = None, **_: Any) -> None:
            value = proof(request)
            if value is not None:
                request.headers[TRANSPORT_MAC_HEADER] = value

        s3.meta.events.register_last("before-send", add)
    return s3


def signed_with(key_id: str, secret: str) -> Callable[[Any], str]:
    return lambda request: transport_mac(key_id, secret, prepared_binding(request), dict(request.headers))


def read(s3: Any, key: str) -> str:
    return code_of(lambda: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_orchestrates_proof_chooses_the_endpoint_and_the_source_address(served: Served) -> None:
    """The control: with the administrator's proof, the same headers pass both conditions."""
    through = client(served.url, "s3", served.reader)
    through.meta.events.register_last("before-send", transport_signer(*ADMIN))
    assert read(carrying(through, THROUGH_ENDPOINT), "endpoint/report.txt") == "allowed"
    office = client(served.url, "s3", served.reader)
    office.meta.events.register_last("before-send", transport_signer(*ADMIN))
    assert read(carrying(office, FROM_THE_OFFICE), "office/report.txt") == "allowed"


def test_without_headers_the_policy_denies(served: Served) -> None:
    reader = client(served.url, "s3", served.reader)
    assert read(reader, "endpoint/report.txt") == "AccessDenied"
    assert read(reader, "office/report.txt") == "AccessDenied"


HOSTILE: dict[str, Callable[[Served], Callable[[Any], str | None]] | None] = {
    "no proof": None,
    "a wrong MAC": lambda served: lambda request: f"{ADMIN[0]}:{'0' * 64}",
    "a malformed proof": lambda served: lambda request: "let me in",
    "the principal's own key": lambda served: signed_with(*served.reader),
    "the admin's id with the principal's secret": lambda served: signed_with(ADMIN[0], served.reader[1]),
    "the admin's secret under another id": lambda served: signed_with("AKIAORCHESTRATEOTHER0", ADMIN[1]),
}


@pytest.mark.parametrize("how", list(HOSTILE))
@pytest.mark.parametrize("headers, key", [(THROUGH_ENDPOINT, "endpoint/report.txt"), (FROM_THE_OFFICE, "office/report.txt")],
                         ids=["vpce", "source-ip"])
def test_a_hostile_principal_is_denied_as_without_the_headers(served: Served, how: str, headers: dict[str, str],
                                                              key: str) -> None:
    made = HOSTILE[how]
    hostile = carrying(client(served.url, "s3", served.reader), headers, None if made is None else made(served))
    served.log.seek(0)
    served.log.truncate()
    assert read(hostile, key) == "AccessDenied"
    [line] = served.log.getvalue().splitlines()
    assert line.startswith(f"orchestrate serve: transport headers ignored on {served.reader[0]} s3:GetObject: ")
    assert served.reader[1] not in line and ADMIN[1] not in line


def test_a_proof_replayed_from_another_request_is_ignored(served: Served) -> None:
    """A valid proof, captured from orchestrate's own request for another object, moved to this one."""
    captured: list[str] = []
    proved = carrying(client(served.url, "s3", served.reader), THROUGH_ENDPOINT)
    proved.meta.events.register_last("before-send", transport_signer(*ADMIN))
    proved.meta.events.register_last("before-send", lambda request=None, **_: captured.append(request.headers[TRANSPORT_MAC_HEADER]))
    assert read(proved, "endpoint/other.txt") == "allowed"
    assert read_mac(captured[0]) is not None
    replayed = carrying(client(served.url, "s3", served.reader), THROUGH_ENDPOINT, lambda request: captured[0])
    assert read(replayed, "endpoint/report.txt") == "AccessDenied"


def test_an_anonymous_request_is_proved_by_its_target_and_body(served: Served) -> None:
    """An unsigned request has no Authorization header: the proof binds its method, target and body."""
    hostile = carrying(client(served.url, "s3", None), FROM_THE_OFFICE)
    assert read(hostile, "office/report.txt") == "AccessDenied"
    captured: list[str] = []
    proved = carrying(client(served.url, "s3", None), FROM_THE_OFFICE)
    proved.meta.events.register_last("before-send", transport_signer(*ADMIN))
    proved.meta.events.register_last("before-send", lambda request=None, **_: captured.append(request.headers[TRANSPORT_MAC_HEADER]))
    assert read(proved, "office/report.txt") == "allowed"
    moved = carrying(client(served.url, "s3", None), FROM_THE_OFFICE, lambda request: captured[0])
    assert code_of(lambda: moved.head_object(Bucket=BUCKET, Key="office/report.txt")) != "allowed"


@pytest.fixture(scope="module")
def any_key(served: Served) -> Iterator[str]:
    """--any-key-as-admin over the same moto world."""
    server, thread = _start(build_app("us-east-1", admins=AdminKeys(any_key=True), log_stream=io.StringIO()))
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        _stop(server, thread)


def test_any_key_as_admin_takes_a_proof_by_a_key_nobody_holds_as_it_takes_its_signature(served: Served,
                                                                                         any_key: str) -> None:
    """In that mode any client may sign as the administrator with a made-up key; a proof by such a
    key is taken as unverified as that signature. A key the world holds is still no administrator's,
    and a key of serve's own pairs is still verified."""
    anyone = carrying(client(any_key, "s3", served.reader), THROUGH_ENDPOINT, signed_with("AKIAMADEUPADMIN00000", "anything"))
    assert read(anyone, "endpoint/report.txt") == "allowed"
    principal = carrying(client(any_key, "s3", served.reader), THROUGH_ENDPOINT, signed_with(*served.reader))
    assert read(principal, "endpoint/report.txt") == "AccessDenied"
    forged = carrying(client(any_key, "s3", served.reader), THROUGH_ENDPOINT, signed_with(ADMIN[0], "not-the-secret"))
    assert read(forged, "endpoint/report.txt") == "AccessDenied"


def test_orchestrates_endpoint_client_proves_what_an_expectation_carries(served: Served, monkeypatch: pytest.MonkeyPatch,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """The path a run takes (backends/endpoint.py signs, prove/assertions.carrying adds the headers),
    as the principal, with orchestrate's own pair that no log shows."""
    import logging

    from orchestrator.authz.engine.organization import VpcEndpoint
    from orchestrator.authz.gate.transport import Transport
    from orchestrator.backends.base import Credentials
    from orchestrator.backends.endpoint import EndpointBackend
    from orchestrator.prove.assertions import carrying as carried

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    s3 = EndpointBackend("us-east-1", served.url).client("s3", Credentials(*served.reader))
    with caplog.at_level(logging.DEBUG, logger="botocore"):
        with carried(s3, Transport(vpc_endpoint=VpcEndpoint(ENDPOINT_ID))):
            assert read(s3, "endpoint/report.txt") == "allowed"
        with carried(s3, Transport(source_ip="10.0.0.5")):
            assert read(s3, "office/report.txt") == "allowed"
    assert read(s3, "office/report.txt") == "AccessDenied"
    assert "transport_signer" in caplog.text and ADMIN[1] not in caplog.text


def test_the_proof_binds_every_part() -> None:
    from orchestrator.authz.gate.transport import RequestBinding, mac_matches

    request = RequestBinding("GET", "/b/k", "AWS4-HMAC-SHA256 Credential=A/d/r/s3/aws4_request, Signature=1")
    proof = read_mac(transport_mac("AKIAADMIN", "secret", request, FROM_THE_OFFICE))
    assert proof is not None and proof[0] == "AKIAADMIN"
    assert mac_matches("secret", "AKIAADMIN", request, {"X-Orchestrate-Source-Ip": " 10.0.0.5 "}, proof[1])
    changed = [("other", "AKIAADMIN", request, FROM_THE_OFFICE), ("secret", "AKIAOTHER", request, FROM_THE_OFFICE),
               ("secret", "AKIAADMIN", RequestBinding("GET", "/b/k", request.authorization + "2"), FROM_THE_OFFICE),
               ("secret", "AKIAADMIN", RequestBinding("HEAD", "/b/k", request.authorization), FROM_THE_OFFICE),
               ("secret", "AKIAADMIN", RequestBinding("GET", "/b/j", request.authorization), FROM_THE_OFFICE),
               ("secret", "AKIAADMIN", request, {SOURCE_IP_HEADER: "10.0.0.6"}),
               ("secret", "AKIAADMIN", request, {**FROM_THE_OFFICE, SOURCE_VPCE_HEADER: ENDPOINT_ID})]
    assert not any(mac_matches(*case, proof[1]) for case in changed)
    assert [read_mac(v) for v in (None, "", "AKIA:xyz", f"AKIA A:{'0' * 64}", f"{'0' * 64}")] == [None] * 5
