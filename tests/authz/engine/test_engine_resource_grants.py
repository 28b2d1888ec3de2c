"""Who a resource-based policy grants, and what still limits the grant (issue 10, item 7).

Tables cite the IAM User Guide: "AWS JSON policy elements: Principal" — AWS account
principals (PRN-ACCT: naming an account "delegates authority to the account"; "The account
ARN and the shortened account ID behave the same way"), IAM role principals (PRN-ROLE: "the
effective permissions for the principal are limited by any policy types that limit
permissions for the role ... session policies and permissions boundaries"; a wildcard
Principal is not limited by them); "How AWS enforcement code logic evaluates requests to
allow or deny access" — Resource-based policies (EVAL-RBP: a grant to an IAM user ARN or a
role session ARN "is not limited by an implicit deny in an identity-based policy or
permissions boundary"; one to an IAM role ARN "is limited by an implicit deny in a
permissions boundary or session policy"); "Cross-account policy evaluation logic" (XACCT).
AWS KMS Developer Guide, "Key policies in AWS KMS" (KMS-KP: "Every KMS key must have exactly
one key policy ... Unless the key policy explicitly allows it, you cannot use IAM policies to
allow access to a KMS key"). AWS STS API Reference, "GetCallerIdentity" (STS-GCI: "No
permissions are required ... you can still perform this operation" under an explicit deny).
Where the role tables agree with a live test, benkehoe/permissions-boundary-test (BA-RA:
boundary allows + bucket policy names the role -> Allow; RA -> Deny; PA-RA -> Deny).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import Grant, PolicyInputs, PolicySource, Principal, Request, evaluate

ACCOUNT = "123456789012"
OTHER = "210987654321"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)
ROOT = Principal(arn=f"arn:aws:iam::{ACCOUNT}:root", account=ACCOUNT, type="Account")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/AppRole"
SESSION = Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/i-1", account=ACCOUNT, type="AssumedRole")
FOREIGN = Principal(arn=f"arn:aws:iam::{OTHER}:user/alien", account=OTHER)

# One resource of each kind of resource-based policy: (policy kind, action, resource ARN).
BUCKET = ("resource", "s3:GetObject", "arn:aws:s3:::bucket/key")
TABLE = ("resource", "dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders")
KEY = ("key", "kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
RESOURCES = [pytest.param(BUCKET, id="s3-bucket-policy"), pytest.param(TABLE, id="dynamodb-table-policy"),
             pytest.param(KEY, id="kms-key-policy")]


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, **extra}


def decide(target: tuple[str, str, str], who: Principal, principal: Any, iam: bool, boundary: bool | None,
           account: str | None = None) -> tuple[str, str]:
    """Decision for one request: the resource policy names ``principal``; ``iam``: an identity
    policy allows the action; ``boundary``: None (no boundary), True (allows), False (allows
    another action only)."""
    kind, action, arn = target
    identity = [PolicySource("identity", "id", doc(allow(action, Resource="*")))] if iam else []
    boundaries = []
    if boundary is not None:
        bounded = action if boundary else "sqs:SendMessage"
        boundaries = [PolicySource("boundary", "pb", doc(allow(bounded, Resource="*")))]
    policy = PolicySource(kind, "rp", doc(allow(action, Principal=principal, Resource="*")))
    inputs = PolicyInputs(identity=identity, boundaries=boundaries, resource_policy=policy,
                          resource_account=account or ACCOUNT)
    result = evaluate(Request(who, action, arn), inputs)
    return result.decision, result.layer


def own_layer(target: tuple[str, str, str]) -> str:
    return "key-policy" if target[0] == "key" else "resource-policy"


ROOT_ARN = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
BARE_ID = {"AWS": ACCOUNT}

# (principal element, caller, identity allows, boundary, decision, layer or None for the policy's own layer)
SAME_ACCOUNT = [
    # PRN-ACCT: naming the account delegates; the caller's identity side must allow.
    pytest.param(ROOT_ARN, USER, False, None, "implicitDeny", "identity-policy", id="PRN-ACCT-root-arn-alone-denies"),
    pytest.param(BARE_ID, USER, False, None, "implicitDeny", "identity-policy", id="PRN-ACCT-bare-id-alone-denies"),
    pytest.param(ROOT_ARN, USER, True, None, "allowed", "identity-policy", id="PRN-ACCT-root-arn-plus-iam"),
    pytest.param(BARE_ID, USER, True, None, "allowed", "identity-policy", id="PRN-ACCT-bare-id-plus-iam"),
    pytest.param(ROOT_ARN, USER, True, False, "implicitDeny", "permissions-boundary", id="PRN-ACCT-delegation-limited-by-boundary"),
    pytest.param(ROOT_ARN, USER, False, True, "implicitDeny", "identity-policy", id="PRN-ACCT-boundary-grants-nothing"),
    pytest.param(ROOT_ARN, SESSION, False, None, "implicitDeny", "identity-policy", id="PRN-ACCT-session-needs-iam"),
    pytest.param(ROOT_ARN, ROOT, False, None, "allowed", None, id="PRN-ACCT-root-arn-names-the-root-user"),
    # EVAL-RBP: a grant to the user ARN needs nothing else and no boundary limits it.
    pytest.param({"AWS": USER.arn}, USER, False, None, "allowed", None, id="EVAL-RBP-user-arn-alone"),
    pytest.param({"AWS": USER.arn}, USER, False, False, "allowed", None, id="EVAL-RBP-user-arn-not-limited-by-boundary"),
    # EVAL-RBP: a grant to the session ARN, likewise.
    pytest.param({"AWS": SESSION.arn}, SESSION, False, None, "allowed", None, id="EVAL-RBP-session-arn-alone"),
    pytest.param({"AWS": SESSION.arn}, SESSION, False, False, "allowed", None, id="EVAL-RBP-session-arn-not-limited-by-boundary"),
    # EVAL-RBP / PRN-ROLE: a grant to the role ARN needs no identity allow but is limited by the boundary.
    pytest.param({"AWS": ROLE_ARN}, SESSION, False, None, "allowed", None, id="EVAL-RBP-role-arn-no-boundary"),
    pytest.param({"AWS": ROLE_ARN}, SESSION, False, True, "allowed", None, id="EVAL-RBP-role-arn-boundary-allows-BA-RA"),
    pytest.param({"AWS": ROLE_ARN}, SESSION, False, False, "implicitDeny", "permissions-boundary", id="EVAL-RBP-role-arn-limited-RA"),
    pytest.param({"AWS": ROLE_ARN}, SESSION, True, False, "implicitDeny", "permissions-boundary", id="EVAL-RBP-role-arn-and-iam-limited-PA-RA"),
    # PRN "All principals" and PRN-ROLE (a wildcard Principal is not limited by boundaries).
    pytest.param("*", USER, False, None, "allowed", None, id="PRN-star-alone"),
    pytest.param({"AWS": "*"}, USER, False, None, "allowed", None, id="PRN-aws-star-alone"),
    pytest.param({"AWS": "*"}, SESSION, False, False, "allowed", None, id="PRN-star-not-limited-by-boundary"),
    pytest.param({"AWS": [ROLE_ARN, "*"]}, SESSION, False, False, "allowed", None, id="PRN-star-beats-role-in-one-element"),
    pytest.param({"AWS": [ROOT_ARN["AWS"], USER.arn]}, USER, False, False, "allowed", None, id="PRN-user-beats-account-in-one-element"),
]


@pytest.mark.parametrize("target", RESOURCES)
@pytest.mark.parametrize("principal,who,iam,boundary,decision,layer", SAME_ACCOUNT)
def test_same_account_grants(target: tuple[str, str, str], principal: Any, who: Principal, iam: bool,
                             boundary: bool | None, decision: str, layer: str | None) -> None:
    assert decide(target, who, principal, iam, boundary) == (decision, layer or own_layer(target))


CROSS_ACCOUNT = [
    # XACCT: in another account every grant needs the caller's identity side too.
    pytest.param({"AWS": OTHER}, False, "implicitDeny", "identity-policy", id="XACCT-account-alone"),
    pytest.param({"AWS": FOREIGN.arn}, False, "implicitDeny", "identity-policy", id="XACCT-user-arn-alone"),
    pytest.param("*", False, "implicitDeny", "identity-policy", id="XACCT-star-alone"),
    pytest.param({"AWS": f"arn:aws:iam::{OTHER}:root"}, True, "allowed", None, id="XACCT-account-plus-iam"),
    pytest.param({"AWS": FOREIGN.arn}, True, "allowed", None, id="XACCT-user-arn-plus-iam"),
    pytest.param({"AWS": ACCOUNT}, True, "implicitDeny", None, id="XACCT-names-owner-account-only"),
]


@pytest.mark.parametrize("target", RESOURCES)
@pytest.mark.parametrize("principal,iam,decision,layer", CROSS_ACCOUNT)
def test_cross_account_grants(target: tuple[str, str, str], principal: Any, iam: bool, decision: str,
                              layer: str | None) -> None:
    assert decide(target, FOREIGN, principal, iam, None) == (decision, layer or own_layer(target))


def test_delegation_reason_names_the_resource_policy_statement() -> None:
    policy = PolicySource("resource", "bucket policy bucket", doc(
        allow("s3:GetObject", Sid="Account", Principal=ROOT_ARN, Resource="*")))
    result = evaluate(Request(USER, "s3:GetObject", BUCKET[2]), PolicyInputs(resource_policy=policy, resource_account=ACCOUNT))
    assert result.reason == ('statement "Account" of the bucket policy delegates s3:GetObject to account 123456789012, '
                             f"but no identity-based policy allows s3:GetObject on {BUCKET[2]} for {USER.arn}")


def test_role_grant_limited_reason() -> None:
    policy = PolicySource("resource", "table policy t", doc(allow("dynamodb:GetItem", Sid="App", Principal={"AWS": ROLE_ARN}, Resource="*")))
    boundary = PolicySource("boundary", f"arn:aws:iam::{ACCOUNT}:policy/Narrow", doc(allow("sqs:*", Resource="*")))
    result = evaluate(Request(SESSION, "dynamodb:GetItem", TABLE[2]), PolicyInputs(boundaries=[boundary], resource_policy=policy))
    assert result.reason == ('statement "App" of the table policy names the principal\'s role, but the permissions boundary '
                             f"does not allow dynamodb:GetItem on {TABLE[2]} for {SESSION.arn} "
                             "(a grant to a role ARN is limited by the session's permissions boundary)")


def test_role_grant_allowed_reason_names_the_boundary() -> None:
    policy = PolicySource("resource", "table policy t", doc(allow("dynamodb:GetItem", Sid="App", Principal={"AWS": ROLE_ARN}, Resource="*")))
    boundary = PolicySource("boundary", f"arn:aws:iam::{ACCOUNT}:policy/Wide", doc(allow("dynamodb:*", Resource="*")))
    result = evaluate(Request(SESSION, "dynamodb:GetItem", TABLE[2]), PolicyInputs(boundaries=[boundary], resource_policy=policy))
    assert (result.decision, result.layer) == ("allowed", "resource-policy")
    assert result.reason == ('dynamodb:GetItem is allowed by statement "App" of the table policy, which names the '
                             "principal's role; statement #1 of permissions boundary Wide allows it too")
    assert [(ref.policy_kind, ref.sid) for ref in result.matched] == [("resource", "App"), ("boundary", None)]


# STS-GCI: allowed with no policy at all, and whatever denies it.
DENY_GCI = {"Effect": "Deny", "Action": "sts:GetCallerIdentity", "Resource": "*"}
FREE = [
    pytest.param(PolicyInputs(), id="STS-GCI-no-policy"),
    pytest.param(PolicyInputs(identity=[PolicySource("identity", "deny", doc(DENY_GCI))]), id="STS-GCI-identity-deny"),
    pytest.param(PolicyInputs(identity=[PolicySource("identity", "all", doc(allow("*", Resource="*")))],
                              boundaries=[PolicySource("boundary", "pb", doc(DENY_GCI, allow("*", Resource="*")))]), id="STS-GCI-boundary-deny"),
    pytest.param(PolicyInputs(boundaries=[PolicySource("boundary", "pb", doc(allow("s3:*", Resource="*")))]), id="STS-GCI-boundary-silent"),
]


@pytest.mark.parametrize("inputs", FREE)
@pytest.mark.parametrize("action", ["sts:GetCallerIdentity", "STS:getcalleridentity"])
def test_get_caller_identity_needs_no_permission(inputs: PolicyInputs, action: str) -> None:
    result = evaluate(Request(USER, action, "*"), inputs)
    assert (result.decision, result.layer, result.matched) == ("allowed", "no-permission-required", ())
    assert result.reason == f"{action} needs no permission and cannot be denied"


def test_other_sts_actions_still_need_permission() -> None:
    result = evaluate(Request(USER, "sts:GetSessionToken", "*"), PolicyInputs())
    assert result.decision == "implicitDeny"


KEY_ARN = KEY[2]
DECRYPT_ALL = PolicySource("identity", "id", doc(allow("kms:*", Resource="*")))


@pytest.mark.parametrize("who,identity", [
    pytest.param(USER, [DECRYPT_ALL], id="KMS-KP-no-key-policy-iam-allow-not-enough"),
    pytest.param(USER, [], id="KMS-KP-no-key-policy-no-iam"),
    pytest.param(SESSION, [DECRYPT_ALL], id="KMS-KP-no-key-policy-session"),
])
def test_key_arn_without_key_policy_fails_closed(who: Principal, identity: list[PolicySource]) -> None:
    result = evaluate(Request(who, "kms:Decrypt", KEY_ARN), PolicyInputs(identity=identity))
    assert (result.decision, result.layer) == ("implicitDeny", "key-policy")
    assert result.reason == ("no key policy was given for the KMS key: without a key policy that allows it, "
                             f"no IAM policy can allow kms:Decrypt on {KEY_ARN} for {who.arn}")


def test_key_arn_without_key_policy_explicit_deny_still_wins() -> None:
    deny = PolicySource("identity", "deny", doc({"Effect": "Deny", "Action": "kms:*", "Resource": "*"}))
    assert evaluate(Request(USER, "kms:Decrypt", KEY_ARN), PolicyInputs(identity=[deny])).decision == "explicitDeny"


def test_key_arn_without_key_policy_grant_still_allows() -> None:
    # "Grants in AWS KMS": a grant allows the grantee on its own.
    grant = Grant(grantee_principal=USER.arn, operations=["Decrypt"], key_arn=KEY_ARN, name="g")
    result = evaluate(Request(USER, "kms:Decrypt", KEY_ARN), PolicyInputs(grants=[grant]))
    assert (result.decision, result.layer) == ("allowed", "grant")


@pytest.mark.parametrize("resource", [
    pytest.param(f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/orders", id="alias-is-not-a-key"),
    pytest.param("*", id="star"),
    pytest.param(TABLE[2], id="table"),
])
def test_non_key_resources_decide_on_identity_alone(resource: str) -> None:
    assert evaluate(Request(USER, "kms:Decrypt", resource), PolicyInputs(identity=[DECRYPT_ALL])).allowed
