"""Per-call transport context (authz/transport.py): what an expectation's `source_ip`,
`secure_transport` and `encryption_context` make the gate see, in-process (botocore hook) and
over HTTP (`orchestrate serve`'s WSGI gate, where the headers carry orchestrate's proof:
test_gate_transport_proof.py).

IAM User Guide, "AWS global condition context keys" (aws:SourceIp with the IpAddress operator,
aws:SecureTransport with Bool); AWS KMS Developer Guide, "kms:EncryptionContext:context-key"
and "Encryption context" (Decrypt needs the context the ciphertext was made with).
"""
from __future__ import annotations

import urllib.request
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, REGION, code_of, key_policy, statement, user_session

from orchestrator.authz.gate.authenticate import MOTO_TESTING
from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.transport import SECURE_TRANSPORT_HEADER, SOURCE_IP_HEADER, Transport, transport_signer
from orchestrator.authz.gate.wsgi import GatedMotoServer
from orchestrator.backends.moto_world import MotoWorld

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
CONTEXT = {"dept": "finance"}
# Allows alice only with the finance context, from 10.0.0.0/24; denies everyone over plain HTTP.
POLICY = key_policy(
    statement("Dept", ALICE, ["kms:Encrypt", "kms:Decrypt"],
              {"StringEquals": {"kms:EncryptionContext:dept": "finance"},
               "IpAddress": {"aws:SourceIp": "10.0.0.0/24"}}),
    {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
)
Clients = Callable[[boto3.Session], Any]


@pytest.fixture(params=["in-process", "serve"])
def world(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Clients, Any, str]]:
    """(kms client factory, alice's kms client, key ARN) on either side of the gate."""
    if request.param == "in-process":
        request.getfixturevalue("handler")
        endpoint = None
    else:
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "127.0.0.1")
        server = GatedMotoServer("127.0.0.1", 0, Gate(REGION, MotoWorld())).start()
        endpoint = server.endpoint_url

        def stop() -> None:  # moto's backends are this process's: reset them for the next test
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
            server.stop()

        request.addfinalizer(stop)
    clients: Clients = lambda session: session.client("kms", endpoint_url=endpoint)
    orchestrator = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    iam = orchestrator.client("iam", endpoint_url=endpoint)
    key_arn = clients(orchestrator).create_key(Policy=POLICY)["KeyMetadata"]["Arn"]
    alice = clients(user_session(iam, "alice"))
    if endpoint is not None:  # serve honours the headers only with orchestrate's proof (transport_proof.py)
        alice.meta.events.register_last("before-send", transport_signer(*MOTO_TESTING))
    yield clients, alice, key_arn


def carrying(client: Any, **headers: str) -> Any:
    """The client's calls carry these headers (added first, as prove/assertions.py does)."""
    def add(params: Any = None, **_: Any) -> None:
        params["headers"].update(headers)

    client.meta.events.register_first("before-call", add)
    return client


def test_encryption_context_condition_allows_only_with_the_right_context(world: tuple[Clients, Any, str]) -> None:
    _, alice, key = world
    carrying(alice, **{SOURCE_IP_HEADER: "10.0.0.5"})
    assert code_of(lambda: alice.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=CONTEXT)) == "allowed"
    assert code_of(lambda: alice.encrypt(KeyId=key, Plaintext=b"x")) == "AccessDeniedException"
    assert code_of(lambda: alice.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"dept": "hr"})) == "AccessDeniedException"


def test_decrypt_with_the_context_the_ciphertext_was_made_with(world: tuple[Clients, Any, str]) -> None:
    clients, alice, key = world
    orchestrator = clients(boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION))
    blob = orchestrator.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=CONTEXT)["CiphertextBlob"]
    carrying(alice, **{SOURCE_IP_HEADER: "10.0.0.5"})
    assert code_of(lambda: alice.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)) == "allowed"
    assert code_of(lambda: alice.decrypt(CiphertextBlob=blob)) == "AccessDeniedException"


@pytest.mark.parametrize("source_ip, expected", [("10.0.0.5", "allowed"), ("192.0.2.1", "AccessDeniedException"),
                                                 ("not-an-address", "AccessDeniedException")])
def test_source_ip_condition(world: tuple[Clients, Any, str], source_ip: str, expected: str) -> None:
    # An unreadable header is ignored: the gate keeps its own 127.0.0.1, outside 10.0.0.0/24.
    _, alice, key = world
    carrying(alice, **{SOURCE_IP_HEADER: source_ip})
    assert code_of(lambda: alice.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=CONTEXT)) == expected


def test_without_a_chosen_source_ip_the_gate_sees_its_own(world: tuple[Clients, Any, str]) -> None:
    _, alice, key = world
    assert code_of(lambda: alice.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=CONTEXT)) == "AccessDeniedException"


def test_insecure_transport_is_denied_by_the_deny_statement(world: tuple[Clients, Any, str]) -> None:
    _, alice, key = world
    carrying(alice, **{SOURCE_IP_HEADER: "10.0.0.5", SECURE_TRANSPORT_HEADER: "false"})
    try:
        alice.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=CONTEXT)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert "DenyInsecure" in error.response["Error"]["Message"] or "explicit" in error.response["Error"]["Message"]
    else:
        pytest.fail("an insecure request was allowed despite the Deny statement")


def test_the_headers_never_reach_moto_in_process(handler: Any) -> None:
    """The in-process hook strips them from the request it lets through."""
    orchestrator = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    kms = carrying(orchestrator.client("kms"), **{SOURCE_IP_HEADER: "10.0.0.5", SECURE_TRANSPORT_HEADER: "true"})
    sent: list[dict[str, str]] = []
    kms.meta.events.register("before-send", lambda request=None, **_: sent.append(dict(request.headers)))
    kms.list_keys()
    assert sent and not [h for h in sent[0] if h.lower().startswith("x-orchestrate-")]


def test_for_call_changes_only_the_view() -> None:
    gate = Gate(REGION, MotoWorld())
    view = gate.for_call(Transport("192.0.2.1", False))
    assert (view.source_ip, view.secure_transport) == ("192.0.2.1", False)
    assert (gate.source_ip, gate.secure_transport) == ("127.0.0.1", True)
    assert view.world is gate.world
    assert gate.for_call(None) is gate and gate.for_call(Transport()) is gate
