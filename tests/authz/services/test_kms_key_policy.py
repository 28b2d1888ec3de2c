"""KMS's own rules as the engine and simulate decide them (orchestrator/authz/services/kms_key_policy.py).

AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key" (KMS-XA): "Cross-account
permission is effective only for the following operations": the cryptographic operations, CreateGrant,
DescribeKey, GetKeyRotationStatus, GetPublicKey, ListGrants, RetireGrant, RevokeGrant; a permission for
any other (its example: kms:ScheduleKeyDeletion in a key policy) has no effect and the call fails.
"""
from __future__ import annotations

import io
import json

import pytest

from orchestrator.authz import simulate
from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.services.kms_key_policy import CROSS_ACCOUNT_OPERATIONS

HOME, PARTNER = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ANALYST = Principal(arn=f"arn:aws:iam::{PARTNER}:user/analyst", account=PARTNER, username="analyst")
OWNER = Principal(arn=f"arn:aws:iam::{HOME}:user/admin", account=HOME, username="admin")
ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Home", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "kms:*",
     "Resource": "*"}]}
MANAGEMENT = ("PutKeyPolicy", "GetKeyPolicy", "ScheduleKeyDeletion", "CancelKeyDeletion", "DisableKey", "EnableKey",
              "CreateAlias", "UpdateAlias", "DeleteAlias", "TagResource", "UntagResource", "UpdateKeyDescription",
              "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand", "ListResourceTags", "ReplicateKey")


def decide(principal: Principal, operation: str, key_policy: dict | None = None):  # type: ignore[no-untyped-def]
    inputs = PolicyInputs(identity=[PolicySource("identity", "kms-all", ALL_KMS)],
                          resource_policy=PolicySource("key", "key policy", key_policy or KEY_POLICY), resource_account=HOME)
    return evaluate(Request(principal, f"kms:{operation}", KEY), inputs)


@pytest.mark.parametrize("operation", MANAGEMENT)
def test_kms_xa_a_management_operation_fails_across_accounts_though_both_sides_allow(operation: str) -> None:
    found = decide(ANALYST, operation)
    assert (found.decision, found.layer) == ("implicitDeny", "key-policy")
    assert "cannot be used on a KMS key of another account" in found.reason
    assert decide(OWNER, operation).allowed  # the same policies, in the key's own account


@pytest.mark.parametrize("operation", sorted(CROSS_ACCOUNT_OPERATIONS - {"RetireGrant"}))
def test_kms_xa_the_documented_operations_work_across_accounts(operation: str) -> None:
    assert decide(ANALYST, operation).allowed


def test_kms_xa_retire_grant_across_accounts_is_the_grants_to_allow_not_the_key_policys() -> None:
    """KMS Developer Guide, "Retiring and revoking grants": "The grant determines who can retire it";
    "The kms:RetireGrant permission is not effective in a key policy" (services/kms_retire_grant.py)."""
    from orchestrator.authz.engine.inputs import Grant

    assert not decide(ANALYST, "RetireGrant").allowed  # no grant names the analyst: kms:* in both policies is not enough
    inputs = PolicyInputs(resource_account=HOME, grants=(Grant(OWNER.arn, ("Decrypt",), KEY, retiring_principal=ANALYST.arn),))
    assert evaluate(Request(ANALYST, "kms:RetireGrant", KEY), inputs).allowed


def test_kms_xa_the_list_is_the_documented_one() -> None:
    assert {"Decrypt", "Encrypt", "GenerateDataKey", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GenerateMac",
            "VerifyMac", "CreateGrant", "DescribeKey", "GetKeyRotationStatus", "GetPublicKey", "ListGrants",
            "RetireGrant", "RevokeGrant"} <= CROSS_ACCOUNT_OPERATIONS
    assert not CROSS_ACCOUNT_OPERATIONS & set(MANAGEMENT)


def test_kms_xa_an_explicit_deny_still_reads_as_explicit() -> None:
    deny = {"Version": "2012-10-17", "Statement": [*KEY_POLICY["Statement"], {
        "Effect": "Deny", "Principal": {"AWS": ANALYST.arn}, "Action": "kms:*", "Resource": "*"}]}
    assert decide(ANALYST, "ScheduleKeyDeletion", deny).decision == "explicitDeny"


def test_kms_xa_no_grant_makes_a_management_operation_work_across_accounts() -> None:
    from orchestrator.authz.decide import Grant

    inputs = PolicyInputs(identity=[PolicySource("identity", "kms-all", ALL_KMS)], resource_account=HOME,
                          grants=[Grant(ANALYST.arn, ["Decrypt"], KEY, name="g")])
    assert evaluate(Request(ANALYST, "kms:Decrypt", KEY), inputs).allowed
    refused = evaluate(Request(ANALYST, "kms:DisableKey", KEY), inputs)
    assert refused.decision == "implicitDeny" and "another account" in refused.reason


def simulated(action: str) -> dict:  # type: ignore[type-arg]
    document = {"PolicyInputList": [json.dumps(ALL_KMS)], "ActionNames": [action], "ResourceArns": [KEY],
                "ResourcePolicy": json.dumps(KEY_POLICY), "ResourceOwner": HOME, "CallerArn": ANALYST.arn}
    out, err = io.StringIO(), io.StringIO()
    assert simulate.run(io.StringIO(json.dumps(document)), out, err) == 0, err.getvalue()
    return json.loads(out.getvalue())["EvaluationResults"][0]


@pytest.mark.parametrize("action", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:GetKeyPolicy",
                                    "kms:CreateAlias", "kms:TagResource"])
def test_kms_xa_simulate_denies_every_management_operation_across_accounts(action: str) -> None:
    assert simulated(action)["EvalDecision"] == "implicitDeny"


def test_kms_xa_simulate_allows_decrypt_across_accounts() -> None:
    assert simulated("kms:Decrypt")["EvalDecision"] == "allowed"
