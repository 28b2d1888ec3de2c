"""Requests across accounts behind the gate (issue 11, item 3): both sides must allow, and moto
serves an allowed call in the resource owner's account.

IAM User Guide, "Cross-account policy evaluation logic" (XACCT: the identity-based policy in the
caller's account and the resource-based policy in the owner's must both allow); DynamoDB
Developer Guide, "Cross-account access with resource-based policies" (the table named by its
ARN); AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key" (KMS-XA: the
key policy gives the external account access, its IAM policies delegate it to its users).
"""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import REGION

from orchestrator.authz.gate.hooks import GateHandler

HOME, PARTNER = "123456789012", "210987654321"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{HOME}:table/orders"


def admin(service: str, account: str) -> Any:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    client.meta.events.register_first("before-call.*.*",
                                      lambda params, **_: params.setdefault("headers", {}).__setitem__("x-moto-account-id", account))
    return client


def partner_user(statements: list[dict[str, Any]]) -> boto3.Session:
    iam = admin("iam", PARTNER)
    iam.create_user(UserName="analyst")
    if statements:
        iam.put_user_policy(UserName="analyst", PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName="analyst")["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)


def home_table(policy: dict[str, Any] | None) -> None:
    ddb = admin("dynamodb", HOME)
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.put_item(TableName="orders", Item={"pk": {"S": "o-1"}, "total": {"N": "42"}})
    if policy is not None:
        ddb.put_resource_policy(ResourceArn=TABLE_ARN, Policy=json.dumps(policy))


READ = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN}
SHARE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                                                 "Action": "dynamodb:GetItem", "Resource": TABLE_ARN}]}
DENY_SHARE = {"Version": "2012-10-17", "Statement": [SHARE["Statement"][0], {
    "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:user/analyst"}, "Action": "dynamodb:*", "Resource": TABLE_ARN}]}
CASES = [
    ("XACCT identity side only", [READ], None, False),
    ("XACCT resource side only", [], SHARE, False),
    ("XACCT both sides", [READ], SHARE, True),
    ("an explicit deny in the table policy wins", [READ], DENY_SHARE, False),
]


@pytest.mark.parametrize(("identity", "table_policy", "allowed"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_a_cross_account_read_needs_both_sides(handler: GateHandler, identity: list[dict[str, Any]],
                                               table_policy: dict[str, Any] | None, allowed: bool) -> None:
    home_table(table_policy)
    ddb = partner_user(identity).client("dynamodb")
    try:
        item = ddb.get_item(TableName=TABLE_ARN, Key={"pk": {"S": "o-1"}})["Item"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert not allowed
        return
    assert allowed and item["total"] == {"N": "42"}  # served from the home account's table


def test_a_scenario_identity_cannot_choose_another_accounts_world(handler: GateHandler) -> None:
    """The account header of a request signed by a scenario principal is replaced by the one the
    gate decided for: a partner user naming home's table by name reaches its own account."""
    home_table(SHARE)
    ddb = partner_user([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]).client("dynamodb")
    ddb.meta.events.register_first("before-call.*.*",
                                   lambda params, **_: params.setdefault("headers", {}).__setitem__("x-moto-account-id", HOME))
    with pytest.raises(ClientError) as refused:
        ddb.get_item(TableName="orders", Key={"pk": {"S": "o-1"}})
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_key_shared_with_the_account_decrypts_only_with_the_partners_identity_allow(handler: GateHandler) -> None:
    kms = admin("kms", HOME)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "kms:Decrypt", "Resource": "*"}]}
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    without = partner_user([]).client("kms")
    with pytest.raises(ClientError) as refused:
        without.decrypt(CiphertextBlob=blob)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"  # KMS-XA: the partner's IAM must delegate
    admin("iam", PARTNER).put_user_policy(UserName="analyst", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]}]}))
    assert without.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
