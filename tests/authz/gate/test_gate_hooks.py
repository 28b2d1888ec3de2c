"""The botocore adapter: per-client and global installation, ordering against moto.

botocore ``BaseClient._make_api_call``: ``before-call`` may answer instead of
sending; moto's ``mock_aws`` answers in the later ``before-send`` event.
"""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.handlers import BUILTIN_HANDLERS
from gate_scenario import DDB_FULL, REGION, TABLE, TESTER_ARN, encrypted_table, key_policy, user_session

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import install_gate, install_global_gate
from orchestrator.backends.moto_world import MotoWorld

KEY = {"pk": {"S": "order-1"}}


class RecordingGate(Gate):
    def __init__(self, events: list[str]) -> None:
        super().__init__(REGION, MotoWorld())
        self.events = events

    def check(self, *args: Any, **kwargs: Any) -> Any:
        self.events.append("gate")
        return super().check(*args, **kwargs)


@pytest.fixture
def world(aws: None) -> boto3.Session:
    """The seed world built *without* any gate; returns tester's session."""
    admin = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    tester = user_session(admin.client("iam"), "tester", DDB_FULL)
    user_session(admin.client("iam"), "admin")
    key = admin.client("kms").create_key(Policy=key_policy())["KeyMetadata"]
    encrypted_table(admin.client("dynamodb"), key["Arn"])
    return tester


def test_moto_alone_does_not_enforce_the_key_policy(world: boto3.Session) -> None:
    assert world.client("dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]


def test_install_on_one_client_and_uninstall(world: boto3.Session) -> None:
    client = world.client("dynamodb")
    uninstall = install_gate(client, Gate(REGION, MotoWorld()))
    with pytest.raises(ClientError):
        client.get_item(TableName=TABLE, Key=KEY)
    uninstall()
    assert client.get_item(TableName=TABLE, Key=KEY)["Item"]


def test_install_on_session_gates_later_clients(world: boto3.Session) -> None:
    install_gate(world, Gate(REGION, MotoWorld()))
    with pytest.raises(ClientError):
        world.client("dynamodb").get_item(TableName=TABLE, Key=KEY)


def test_gate_runs_before_moto_before_send(world: boto3.Session) -> None:
    events: list[str] = []
    client = world.client("dynamodb")
    client.meta.events.register_first("before-send", lambda **_: events.append("send"))
    install_gate(client, RecordingGate(events))
    client.describe_table(TableName=TABLE)
    assert events == ["gate", "send"]
    events.clear()
    with pytest.raises(ClientError):
        client.get_item(TableName=TABLE, Key=KEY)
    assert events == ["gate"]


def test_global_install_and_uninstall(world: boto3.Session) -> None:
    credentials = world.get_credentials()
    handle = install_global_gate(Gate(REGION, MotoWorld()))
    session = boto3.Session(aws_access_key_id=credentials.access_key,
                            aws_secret_access_key=credentials.secret_key, region_name=REGION)
    with pytest.raises(ClientError):
        session.client("dynamodb").get_item(TableName=TABLE, Key=KEY)
    handle.uninstall()
    assert not any(entry in BUILTIN_HANDLERS for entry in handle.handler.entries())
    assert session.client("dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]


def test_predict_names_the_deciding_layer(world: boto3.Session) -> None:
    verdict = Gate(REGION, MotoWorld()).predict(TESTER_ARN, "dynamodb", "GetItem", {"TableName": TABLE, "Key": KEY})
    assert not verdict.allowed and verdict.layer == "key-policy"
    assert [(s.action, d.decision) for s, d in verdict.steps] == [
        ("dynamodb:GetItem", "allowed"), ("kms:Decrypt", "implicitDeny")]
    context = verdict.steps[1][0].context
    assert context["kms:ViaService"] == (f"dynamodb.{REGION}.amazonaws.com",)
    assert context["kms:EncryptionContext:aws:dynamodb:tableName"] == (TABLE,)
    assert verdict.steps[0][0].context["dynamodb:LeadingKeys"] == ("order-1",)
    with pytest.raises(LookupError):
        Gate(REGION, MotoWorld()).predict("arn:aws:iam::123456789012:user/nobody", "dynamodb", "GetItem", {})


def test_orchestrator_identity_is_evaluated(world: boto3.Session) -> None:
    """Credentials of no IAM identity are moto's caller, user/moto: decided like any principal,
    its GetItem's kms:Decrypt allowed by the key-policy statement that names it."""
    verdict = Gate(REGION, MotoWorld()).check("dynamodb", "GetItem", {"TableName": TABLE, "Key": KEY}, "testing")
    assert verdict.allowed and verdict.admin
    assert verdict.principal.arn == "arn:aws:iam::123456789012:user/moto"
    decrypt = verdict.steps[1][1]
    assert decrypt.layer == "key-policy" and [ref.sid for ref in decrypt.matched] == ["Orchestrator"]
