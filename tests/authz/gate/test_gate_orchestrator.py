"""The gate decides the orchestrator's own calls: an administrator still bound by key policies.

AWS KMS Developer Guide, "Key policies in AWS KMS": no principal, administrators included, may use
a KMS key unless the key policy allows it, by naming the principal or by delegating to its
account (then IAM policies must allow, which an administrator's do). DynamoDB CreateTable under a
customer managed key needs kms:DescribeKey and kms:CreateGrant, PutItem kms:Decrypt of the table
key, as the caller ("How Amazon DynamoDB uses AWS KMS"). IAM User Guide, "AWS global condition
context keys": for the root user aws:PrincipalArn is arn:aws:iam::ACCOUNT:root, aws:PrincipalType
Account, aws:userid the account id, and aws:username is absent.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import (ACCOUNT, ADMIN_ARN, ORCHESTRATOR_ARN, REGION, TABLE, encrypted_table, statement,
                           user_session)

from orchestrator.authz.engine.context import derive_principal_key
from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler, gated
from orchestrator.authz.services import Authorization
from orchestrator.backends.moto_world import MotoWorld

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN_ONLY = statement("AdminOnly", ADMIN_ARN, ["kms:*"])
ORCHESTRATOR = statement("Orchestrator", ORCHESTRATOR_ARN, ["kms:*"])


def orchestrator() -> boto3.Session:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture
def gate(aws: None) -> Iterator[GateHandler]:
    with gated(Gate(REGION, MotoWorld())) as handler:
        yield handler


def _key(key_policy: str) -> str:
    """A key created with the lockout check bypassed (as `lockout: allow` sends it)."""
    kms = orchestrator().client("kms")
    return str(kms.create_key(Policy=key_policy, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"])


def _denied(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return dict(raised.value.response["Error"])


def test_key_policy_naming_someone_else_stops_the_orchestrator(gate: GateHandler) -> None:
    """Neither CreateTable under the key nor DescribeKey: AWS's errors, DynamoDB's KMS wording."""
    key = _key(policy(ADMIN_ONLY))
    error = _denied(encrypted_table, ddb=orchestrator().client("dynamodb"), key_id=key)
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith("KMS key access denied error: com.amazonaws.services.kms.model.AWSKMSException")
    assert gate.verdicts[-1].admin and gate.verdicts[-1].layer == "key-policy"
    assert [s.action for s, _ in gate.verdicts[-1].steps][1:2] == ["kms:DescribeKey"]
    assert orchestrator().client("dynamodb").list_tables()["TableNames"] == []

    error = _denied(orchestrator().client("kms").describe_key, KeyId=key)
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith(f"User: {ORCHESTRATOR_ARN} is not authorized to perform: kms:DescribeKey on resource: {key}")


def test_seeding_a_table_needs_the_key_policy(gate: GateHandler) -> None:
    """A table created while the key allowed it: once the policy names only admin, PutItem and
    BatchWriteItem fail on the table key's kms:Decrypt; IAM and DynamoDB calls without the key pass."""
    key = _key(policy(ADMIN_ONLY, ORCHESTRATOR))
    encrypted_table(orchestrator().client("dynamodb"), key)
    orchestrator().client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=policy(ADMIN_ONLY),
                                                BypassPolicyLockoutSafetyCheck=True)
    ddb = orchestrator().client("dynamodb")
    item = {"pk": {"S": "order-2"}}
    assert _denied(ddb.put_item, TableName=TABLE, Item=item)["Code"] == "AccessDeniedException"
    batch = {TABLE: [{"PutRequest": {"Item": item}}]}
    assert _denied(ddb.batch_write_item, RequestItems=batch)["Code"] == "AccessDeniedException"
    assert gate.verdicts[-1].steps[-1][0].action == "kms:Decrypt"
    assert ddb.describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE
    orchestrator().client("iam").create_user(UserName="someone")


def test_delegation_to_the_account_lets_the_administrator_in(gate: GateHandler) -> None:
    """A key policy naming the account root delegates to IAM; the orchestrator's assumed
    allow-all identity policy then suffices (AWS KMS, "Allows access to the AWS account")."""
    key = _key(policy(statement("Account", ROOT, ["kms:*"])))
    encrypted_table(orchestrator().client("dynamodb"), key)
    assert orchestrator().client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "order-1"}})["Item"]
    assert gate.verdicts[-1].steps[-1][1].layer == "identity-policy"


def test_explicit_deny_binds_the_administrator(gate: GateHandler) -> None:
    key = _key(policy(ORCHESTRATOR, {**statement("NoOne", "*", ["kms:DescribeKey"]), "Effect": "Deny"}))
    error = _denied(orchestrator().client("kms").describe_key, KeyId=key)
    assert "with an explicit deny in a resource-based policy" in error["Message"]
    assert orchestrator().client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"]


def test_root_guard_statement_grants_only_the_root(aws: None) -> None:
    """Orchestrate as the account root, key policy = the scenario's admin-only statement plus the
    guard for a root identity: the root creates and seeds the table; a user with
    AdministratorAccess not named in the policy is denied every guard action it tries."""
    from orchestrator.resources.lockout import management_statement

    with gated(Gate(REGION, MotoWorld(), admin_arn=ROOT)) as handler:
        key = _key(policy(ADMIN_ONLY, management_statement(ROOT)))
        encrypted_table(orchestrator().client("dynamodb"), key)
        assert handler.verdicts[-1].allowed and handler.verdicts[-1].principal.type == "Account"
        boss = user_session(orchestrator().client("iam"), "boss", ADMINISTRATOR)
        kms = boss.client("kms")
        for call in (kms.describe_key, kms.get_key_policy, kms.disable_key):
            params = {"KeyId": key, "PolicyName": "default"} if call == kms.get_key_policy else {"KeyId": key}
            assert _denied(call, **params)["Code"] == "AccessDeniedException"
        assert _denied(boss.client("dynamodb").get_item, TableName=TABLE, Key={"pk": {"S": "order-1"}})["Code"] == "AccessDeniedException"


def test_root_principal_keys_match_the_engine(aws: None) -> None:
    """The gate's request context and the engine's derived keys agree for the root user."""
    gate = Gate(REGION, MotoWorld(), admin_arn=ROOT)
    principal = gate.admin_identity(ACCOUNT).principal
    context = gate.request_context(principal, Authorization("kms:DescribeKey", "*"), REGION)
    assert context["aws:PrincipalArn"] == (ROOT,) == derive_principal_key(principal, "aws:principalarn")
    assert context["aws:PrincipalType"] == ("Account",) == derive_principal_key(principal, "aws:principaltype")
    assert context["aws:userid"] == (ACCOUNT,) == derive_principal_key(principal, "aws:userid")
    assert "aws:username" not in context and derive_principal_key(principal, "aws:username") is None
