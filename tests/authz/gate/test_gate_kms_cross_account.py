"""Another account cannot manage our key, in-process and through the gated server (issue 20).

AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key": only the cryptographic
and grant operations, DescribeKey, GetKeyRotationStatus and GetPublicKey work across accounts; a
permission for another operation "has no effect" (its example: kms:ScheduleKeyDeletion). Here both
the key policy and the partner's IAM policy allow kms:*, and the partner's management calls fail with
KMS's AccessDeniedException (HTTP 400, never a 500 from moto) while its Encrypt works, and the key is
left as it was: its policy, its state.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import REGION, gated_server

from orchestrator.authz.gate.hooks import GateHandler
from orchestrator.authz.gate.wsgi import GatedMotoServer

HOME, PARTNER = "123456789012", "210987654321"
ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Home", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "kms:*",
     "Resource": "*"}]})
LOCKOUT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "kms:*", "Resource": "*"}]})
#: The partner's management calls, each with its parameters for the key ARN.
MANAGEMENT: dict[str, Callable[[str], dict[str, Any]]] = {
    "put_key_policy": lambda arn: {"KeyId": arn, "PolicyName": "default", "Policy": LOCKOUT},
    "schedule_key_deletion": lambda arn: {"KeyId": arn, "PendingWindowInDays": 7},
    "disable_key": lambda arn: {"KeyId": arn},
    "enable_key": lambda arn: {"KeyId": arn},
    "get_key_policy": lambda arn: {"KeyId": arn, "PolicyName": "default"},
    "tag_resource": lambda arn: {"KeyId": arn, "Tags": [{"TagKey": "owner", "TagValue": "partner"}]},
    "cancel_key_deletion": lambda arn: {"KeyId": arn},
}


def _in_account(client: Any, account: str) -> Any:
    client.meta.events.register_first(
        "before-call.*.*", lambda params, **_: params.setdefault("headers", {}).__setitem__("x-moto-account-id", account))
    return client


class World:
    """The home key and the partner's user, made through ``make(service, account)`` clients."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self.make = make
        self.key = _in_account(make("kms"), HOME).create_key(Policy=KEY_POLICY)["KeyMetadata"]
        iam = _in_account(make("iam"), PARTNER)
        iam.create_user(UserName="analyst")
        iam.put_user_policy(UserName="analyst", PolicyName="kms", PolicyDocument=json.dumps(ALL_KMS))
        access = iam.create_access_key(UserName="analyst")["AccessKey"]
        self.partner = make("kms", access["AccessKeyId"], access["SecretAccessKey"])

    def key_as_it_is(self) -> tuple[str, str, str]:
        kms = _in_account(self.make("kms"), HOME)
        metadata = kms.describe_key(KeyId=self.key["KeyId"])["KeyMetadata"]
        return metadata["KeyState"], kms.get_key_policy(KeyId=self.key["KeyId"], PolicyName="default")["Policy"], \
            json.dumps(kms.list_resource_tags(KeyId=self.key["KeyId"]).get("Tags", []))


def _check(world: World) -> None:
    before = world.key_as_it_is()
    for operation, params in MANAGEMENT.items():
        with pytest.raises(ClientError) as raised:
            getattr(world.partner, operation)(**params(world.key["Arn"]))
        error = raised.value.response
        assert error["Error"]["Code"] == "AccessDeniedException", (operation, error)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400, operation
        assert f"arn:aws:iam::{PARTNER}:user/analyst" in error["Error"]["Message"]
    assert world.key_as_it_is() == before
    blob = world.partner.encrypt(KeyId=world.key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    assert blob  # a cryptographic operation works across accounts


def test_in_process_a_partner_cannot_manage_the_home_key(handler: GateHandler) -> None:
    def make(service: str, key: str = "testing", secret: str = "testing") -> Any:
        return boto3.client(service, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)

    _check(World(make))


@pytest.fixture
def server() -> Iterator[GatedMotoServer]:
    with gated_server() as running:
        urllib.request.urlopen(urllib.request.Request(f"{running.endpoint_url}/moto-api/reset", method="POST"),
                               timeout=30).read()
        yield running


def test_through_the_gated_server_a_partner_cannot_manage_the_home_key(server: GatedMotoServer) -> None:
    def make(service: str, key: str = "testing", secret: str = "testing") -> Any:
        return boto3.client(service, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
                            endpoint_url=server.endpoint_url)

    _check(World(make))
