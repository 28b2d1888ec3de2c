"""KMS behind the gate: key policies, IAM delegation, grants and key states.

AWS KMS Developer Guide: "Key policies in AWS KMS" ("Allows access to the AWS
account and enables IAM policies"), "Grants in AWS KMS", "Key states of AWS KMS
keys"; IAM User Guide, "Troubleshoot access denied error messages".
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, TESTER_ARN, Scenario, key_policy, statement

ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def _denied(who: str, action: str, resource: str, reason: str) -> tuple[str, str, int]:
    return ("AccessDeniedException",
            f"User: {who} is not authorized to perform: {action} on resource: {resource} {reason}", 400)


def _set_policy(scenario: Scenario, *extra: dict) -> None:
    scenario.client("orchestrator", "kms").put_key_policy(
        KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(*extra))


def test_describe_key_not_allowed_by_iam_alone(scenario: Scenario) -> None:
    """AmazonDynamoDBFullAccess grants kms:DescribeKey, but the key policy neither names nor delegates."""
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").describe_key(KeyId=scenario.key_id)
    assert _error(excinfo) == _denied(TESTER_ARN, "kms:DescribeKey", scenario.key_arn,
                                      "because no resource-based policy allows the kms:DescribeKey action")


def test_describe_key_by_alias_names_the_key_arn(scenario: Scenario) -> None:
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").describe_key(KeyId="alias/orders")
    assert scenario.key_arn in _error(excinfo)[1]


def test_root_delegation_enables_iam_policies(scenario: Scenario) -> None:
    """A key policy naming the account lets IAM decide: DescribeKey allowed, Decrypt not."""
    _set_policy(scenario, statement("EnableIAM", ROOT, ["kms:*"]))
    tester = scenario.client("tester", "kms")
    assert tester.describe_key(KeyId=scenario.key_id)["KeyMetadata"]["Arn"] == scenario.key_arn
    blob = scenario.client("orchestrator", "kms").encrypt(KeyId=scenario.key_id, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as excinfo:
        tester.decrypt(CiphertextBlob=blob)
    assert _error(excinfo) == _denied(TESTER_ARN, "kms:Decrypt", scenario.key_arn,
                                      "because no identity-based policy allows the kms:Decrypt action")


def test_explicit_deny_in_key_policy(scenario: Scenario) -> None:
    deny = {"Sid": "NoTester", "Effect": "Deny", "Principal": {"AWS": TESTER_ARN},
            "Action": "kms:DescribeKey", "Resource": "*"}
    _set_policy(scenario, statement("EnableIAM", ROOT, ["kms:*"]), deny)
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").describe_key(KeyId=scenario.key_id)
    assert _error(excinfo) == _denied(TESTER_ARN, "kms:DescribeKey", scenario.key_arn,
                                      "with an explicit deny in a resource-based policy")


def test_explicit_deny_in_identity_policy(scenario: Scenario) -> None:
    _set_policy(scenario, statement("TesterDescribe", TESTER_ARN, ["kms:DescribeKey"]))
    deny = {"Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "kms:DescribeKey", "Resource": "*"}]}
    scenario.client("orchestrator", "iam").put_user_policy(
        UserName="tester", PolicyName="NoDescribe", PolicyDocument=json.dumps(deny))
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").describe_key(KeyId=scenario.key_id)
    assert _error(excinfo) == _denied(TESTER_ARN, "kms:DescribeKey", scenario.key_arn,
                                      "with an explicit deny in an identity-based policy")


def test_create_key_needs_identity_permission(scenario: Scenario) -> None:
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").create_key()
    assert _error(excinfo) == _denied(TESTER_ARN, "kms:CreateKey", "*",
                                      "because no identity-based policy allows the kms:CreateKey action")


def test_grant_allows_decrypt(scenario: Scenario) -> None:
    """A grant to tester for Decrypt allows it although the key policy does not."""
    kms = scenario.client("orchestrator", "kms")
    blob = kms.encrypt(KeyId=scenario.key_id, Plaintext=b"x", EncryptionContext={"app": "orders"})["CiphertextBlob"]
    kms.create_grant(KeyId=scenario.key_id, GranteePrincipal=TESTER_ARN, Operations=["Decrypt"],
                     Constraints={"EncryptionContextSubset": {"app": "orders"}})
    tester = scenario.client("tester", "kms")
    assert tester.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "orders"})["Plaintext"] == b"x"
    verdict = scenario.handler.verdicts[-1]
    assert verdict.steps[-1][1].layer == "grant"


def test_pending_deletion_refuses_decrypt(scenario: Scenario) -> None:
    """KMSInvalidStateException "<arn> is pending deletion." — for the administrator too."""
    kms = scenario.client("orchestrator", "kms")
    blob = kms.encrypt(KeyId=scenario.key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=scenario.key_id, PendingWindowInDays=7)
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob)
    assert _error(excinfo) == ("KMSInvalidStateException", f"{scenario.key_arn} is pending deletion.", 400)
    assert scenario.handler.verdicts[-1].layer == "key-state"


def test_disabled_key_refuses_encrypt_but_not_describe(scenario: Scenario) -> None:
    kms = scenario.client("orchestrator", "kms")
    kms.disable_key(KeyId=scenario.key_id)
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=scenario.key_id, Plaintext=b"x")
    assert _error(excinfo) == ("DisabledException", f"{scenario.key_arn} is disabled.", 400)
    assert kms.describe_key(KeyId=scenario.key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_authorization_is_checked_before_key_state(scenario: Scenario) -> None:
    """An unauthorized caller learns nothing about the key's state."""
    kms = scenario.client("orchestrator", "kms")
    blob = kms.encrypt(KeyId=scenario.key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=scenario.key_id)
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").decrypt(CiphertextBlob=blob)
    assert _error(excinfo)[0] == "AccessDeniedException"


MADE_UP_KEY = "11111111-2222-3333-4444-555555555555"


def test_a_key_the_world_does_not_know_is_decided_by_iam_alone(scenario: Scenario) -> None:
    """A made-up key id is no pass: the gate once allowed any call on a key it could not find and
    left the answer to moto. IAM alone decides, on `*`: tester (no
    kms:GetKeyPolicy) is refused, and only a caller IAM allows hears NotFoundException."""
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").get_key_policy(KeyId=MADE_UP_KEY, PolicyName="default")
    assert _error(excinfo)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as excinfo:  # AmazonDynamoDBFullAccess allows kms:DescribeKey on *
        scenario.client("tester", "kms").describe_key(KeyId=MADE_UP_KEY)
    assert _error(excinfo)[0] == "NotFoundException", _error(excinfo)
