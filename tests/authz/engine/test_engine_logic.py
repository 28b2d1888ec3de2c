"""Policy evaluation logic across policy types.

Tables cite: IAM User Guide "Policy evaluation logic" (PEL), "Determining
whether a request is allowed or denied within an account" (PEL-ACCT),
"Permissions boundaries for IAM entities" (PB), "Cross-account policy
evaluation logic" (XACCT); AWS KMS Developer Guide "Default key policy —
Allows access to the AWS account and enables IAM policies" (KMS-DEFAULT),
"Key policies" (KMS-KP) and "Grants in AWS KMS" / "Grant constraints" (KMS-GRANT).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import Grant, PolicyInputs, PolicySource, Principal, Request, evaluate

ACCOUNT = "123456789012"
OTHER = "210987654321"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)
FOREIGN = Principal(arn=f"arn:aws:iam::{OTHER}:user/alien", account=OTHER)
ROOT = Principal(arn=f"arn:aws:iam::{ACCOUNT}:root", account=ACCOUNT, type="Account")
SESSION = Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/i-1", account=ACCOUNT, type="AssumedRole")
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"


def stmt(effect: str, action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    out = {"Effect": effect, "Action": action}
    if resource is not None:
        out["Resource"] = resource
    out.update(extra)
    return out


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def identity(*statements: dict[str, Any]) -> list[PolicySource]:
    return [PolicySource("identity", "id", doc(*statements))]


def boundary(*statements: dict[str, Any]) -> list[PolicySource]:
    return [PolicySource("boundary", "pb", doc(*statements))]


def resource(*statements: dict[str, Any], kind: str = "resource") -> PolicySource:
    return PolicySource(kind, "rp", doc(*statements))


ALLOW_ALL = stmt("Allow")
DENY_ALL = stmt("Deny")
ALLOW_OTHER_ACTION = stmt("Allow", "s3:PutObject")


def rp_allow(principal: Any) -> dict[str, Any]:
    return stmt("Allow", Principal={"AWS": principal}, resource=None)


def rp_deny(principal: Any) -> dict[str, Any]:
    return stmt("Deny", Principal={"AWS": principal}, resource=None)


# (identity statements, boundary statements, resource statements, resource_account, principal, decision, layer)
SAME_ACCOUNT = [
    pytest.param([], None, None, USER, "implicitDeny", "identity-policy", id="PEL-default-implicit-deny"),
    pytest.param([ALLOW_ALL], None, None, USER, "allowed", "identity-policy", id="PEL-identity-allows"),
    pytest.param([ALLOW_OTHER_ACTION], None, None, USER, "implicitDeny", "identity-policy", id="PEL-identity-other-action"),
    pytest.param([ALLOW_ALL, DENY_ALL], None, None, USER, "explicitDeny", "explicit-deny", id="PEL-explicit-deny-wins-same-policy"),
    pytest.param([ALLOW_ALL], None, [rp_deny("*")], USER, "explicitDeny", "explicit-deny", id="PEL-resource-deny-wins"),
    pytest.param([], [DENY_ALL], [rp_allow(USER.arn)], USER, "explicitDeny", "explicit-deny", id="PEL-boundary-deny-wins"),
    pytest.param([], None, [rp_allow(USER.arn)], USER, "allowed", "resource-policy", id="PEL-ACCT-resource-policy-alone"),
    # PRN "AWS account principals": naming the account delegates to its identity-based policies.
    pytest.param([], None, [rp_allow(ACCOUNT)], USER, "implicitDeny", "identity-policy", id="PRN-resource-policy-naming-account-delegates"),
    pytest.param([], None, [rp_allow(f"arn:aws:iam::{ACCOUNT}:root")], USER, "implicitDeny", "identity-policy", id="PRN-resource-policy-naming-root-arn-delegates"),
    pytest.param([ALLOW_ALL], None, [rp_allow(ACCOUNT)], USER, "allowed", "identity-policy", id="PRN-delegation-plus-identity-allow"),
    pytest.param([ALLOW_ALL], None, [rp_allow(f"arn:aws:iam::{ACCOUNT}:user/other")], USER, "allowed", "identity-policy", id="PEL-ACCT-union-identity-side"),
    pytest.param([], None, [rp_allow(f"arn:aws:iam::{ACCOUNT}:user/other")], USER, "implicitDeny", "identity-policy", id="PEL-ACCT-resource-names-someone-else"),
    # PB: the boundary limits identity-based allows ...
    pytest.param([ALLOW_ALL], [ALLOW_OTHER_ACTION], None, USER, "implicitDeny", "permissions-boundary", id="PB-limits-identity"),
    pytest.param([ALLOW_ALL], [ALLOW_ALL], None, USER, "allowed", "identity-policy", id="PB-both-allow"),
    pytest.param([ALLOW_OTHER_ACTION], [ALLOW_ALL], None, USER, "implicitDeny", "identity-policy", id="PB-boundary-alone-grants-nothing"),
    # ... and resource-based allows naming the account, but not those naming the user ARN.
    pytest.param([], [ALLOW_OTHER_ACTION], [rp_allow(USER.arn)], USER, "allowed", "resource-policy", id="PB-user-arn-in-resource-policy-not-limited"),
    pytest.param([ALLOW_ALL], [ALLOW_OTHER_ACTION], [rp_allow(ACCOUNT)], USER, "implicitDeny", "permissions-boundary", id="PB-account-in-resource-policy-limited"),
    pytest.param([ALLOW_ALL], [ALLOW_ALL], [rp_allow(ACCOUNT)], USER, "allowed", "identity-policy", id="PB-account-in-resource-policy-boundary-allows"),
    pytest.param([], [ALLOW_ALL], [rp_allow(ACCOUNT)], USER, "implicitDeny", "identity-policy", id="PB-boundary-and-account-grant-nothing"),
    # The root user needs no identity policy in its own account (explicit denies still apply).
    pytest.param([], None, None, ROOT, "allowed", "identity-policy", id="PEL-root-user-implicit-allow"),
    pytest.param([], None, [rp_deny(ACCOUNT)], ROOT, "explicitDeny", "explicit-deny", id="PEL-root-user-resource-deny"),
    # Statements naming a role apply to its sessions.
    pytest.param([], None, [rp_allow(f"arn:aws:iam::{ACCOUNT}:role/AppRole")], SESSION, "allowed", "resource-policy", id="PEL-role-session"),
]


@pytest.mark.parametrize("ident,bound,res,who,decision,layer", SAME_ACCOUNT)
def test_same_account(ident: list[Any], bound: list[Any] | None, res: list[Any] | None, who: Principal,
                      decision: str, layer: str) -> None:
    inputs = PolicyInputs(identity=identity(*ident) if ident else (),
                          boundaries=boundary(*bound) if bound else (),
                          resource_policy=resource(*res) if res else None)
    result = evaluate(Request(who, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs)
    assert (result.decision, result.layer) == (decision, layer)


CROSS_ACCOUNT = [
    pytest.param([ALLOW_ALL], None, None, "implicitDeny", "resource-policy", id="XACCT-identity-alone-not-enough"),
    pytest.param([], None, [rp_allow(OTHER)], "implicitDeny", "identity-policy", id="XACCT-resource-alone-not-enough"),
    pytest.param([], None, [rp_allow(FOREIGN.arn)], "implicitDeny", "identity-policy", id="XACCT-resource-naming-user-still-needs-identity"),
    pytest.param([ALLOW_ALL], None, [rp_allow(OTHER)], "allowed", "resource-policy", id="XACCT-both-allow-account"),
    pytest.param([ALLOW_ALL], None, [rp_allow(FOREIGN.arn)], "allowed", "resource-policy", id="XACCT-both-allow-user"),
    pytest.param([ALLOW_ALL], None, [rp_allow("*")], "allowed", "resource-policy", id="XACCT-resource-star"),
    pytest.param([ALLOW_ALL], None, [rp_allow(ACCOUNT)], "implicitDeny", "resource-policy", id="XACCT-resource-names-own-account-only"),
    pytest.param([ALLOW_ALL, DENY_ALL], None, [rp_allow(OTHER)], "explicitDeny", "explicit-deny", id="XACCT-identity-deny"),
    pytest.param([ALLOW_ALL], None, [rp_allow(OTHER), rp_deny(FOREIGN.arn)], "explicitDeny", "explicit-deny", id="XACCT-resource-deny"),
    pytest.param([ALLOW_ALL], [ALLOW_OTHER_ACTION], [rp_allow(FOREIGN.arn)], "implicitDeny", "permissions-boundary", id="XACCT-boundary-limits"),
]


@pytest.mark.parametrize("ident,bound,res,decision,layer", CROSS_ACCOUNT)
def test_cross_account(ident: list[Any], bound: list[Any] | None, res: list[Any] | None, decision: str, layer: str) -> None:
    inputs = PolicyInputs(identity=identity(*ident) if ident else (),
                          boundaries=boundary(*bound) if bound else (),
                          resource_policy=resource(*res) if res else None, resource_account=ACCOUNT)
    result = evaluate(Request(FOREIGN, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs)
    assert (result.decision, result.layer) == (decision, layer)


def test_resource_account_equal_to_principal_is_same_account() -> None:
    # XACCT applies only when the accounts differ.
    inputs = PolicyInputs(identity=identity(ALLOW_ALL), resource_account=ACCOUNT)
    assert evaluate(Request(USER, "s3:GetObject", "*"), inputs).allowed


def key(*statements: dict[str, Any]) -> PolicySource:
    return resource(*statements, kind="key")


def kp_allow(principal: Any, action: Any = "kms:*", **extra: Any) -> dict[str, Any]:
    return stmt("Allow", action, Principal={"AWS": principal}, **extra)


ENABLE_IAM = kp_allow(f"arn:aws:iam::{ACCOUNT}:root")
DECRYPT = stmt("Allow", "kms:Decrypt", KEY)

KMS = [
    pytest.param([], None, [ENABLE_IAM], USER, "implicitDeny", "identity-policy", id="KMS-DEFAULT-delegation-needs-iam"),
    pytest.param([DECRYPT], None, [ENABLE_IAM], USER, "allowed", "identity-policy", id="KMS-DEFAULT-delegation-plus-iam"),
    pytest.param([stmt("Allow", "kms:Decrypt", "arn:aws:kms:*:*:key/other")], None, [ENABLE_IAM], USER, "implicitDeny", "identity-policy", id="KMS-DEFAULT-iam-other-key"),
    pytest.param([DECRYPT], None, [kp_allow(ACCOUNT)], USER, "allowed", "identity-policy", id="KMS-KP-bare-account-id-delegates"),
    pytest.param([], None, [kp_allow(ACCOUNT)], USER, "implicitDeny", "identity-policy", id="KMS-KP-bare-account-id-needs-iam"),
    pytest.param([], None, [kp_allow("*")], USER, "allowed", "key-policy", id="KMS-KP-star-names-everyone"),
    pytest.param([DECRYPT], None, [kp_allow("*")], USER, "allowed", "key-policy", id="KMS-KP-star-plus-iam"),
    pytest.param([], None, [kp_allow(USER.arn)], USER, "allowed", "key-policy", id="KMS-KP-naming-user-allows-alone"),
    pytest.param([DECRYPT], None, [kp_allow(f"arn:aws:iam::{ACCOUNT}:user/other")], USER, "implicitDeny", "key-policy", id="KMS-KP-iam-alone-never-enough"),
    pytest.param([DECRYPT], None, [], USER, "implicitDeny", "key-policy", id="KMS-KP-no-key-statement"),
    pytest.param([DECRYPT], None, [kp_allow(f"arn:aws:iam::{ACCOUNT}:root", "kms:Encrypt")], USER, "implicitDeny", "key-policy", id="KMS-KP-delegates-other-action"),
    pytest.param([DECRYPT], None, [ENABLE_IAM, stmt("Deny", "kms:Decrypt", Principal="*")], USER, "explicitDeny", "explicit-deny", id="KMS-KP-deny-star"),
    pytest.param([DECRYPT], None, [ENABLE_IAM, stmt("Deny", "kms:Decrypt", Principal={"AWS": ACCOUNT})], USER, "explicitDeny", "explicit-deny", id="KMS-KP-deny-account-covers-users"),
    pytest.param([DECRYPT, stmt("Deny", "kms:*")], None, [kp_allow(USER.arn)], USER, "explicitDeny", "explicit-deny", id="KMS-KP-iam-deny-beats-key-allow"),
    pytest.param([DECRYPT], [ALLOW_OTHER_ACTION], [ENABLE_IAM], USER, "implicitDeny", "permissions-boundary", id="KMS-PB-delegated-limited-by-boundary"),
    pytest.param([], [ALLOW_OTHER_ACTION], [kp_allow(USER.arn)], USER, "allowed", "key-policy", id="KMS-PB-user-named-not-limited"),
    pytest.param([], None, [ENABLE_IAM], ROOT, "allowed", "key-policy", id="KMS-DEFAULT-root-user-allowed"),
    pytest.param([], None, [kp_allow(USER.arn)], ROOT, "implicitDeny", "key-policy", id="KMS-KP-root-needs-key-policy"),
    pytest.param([], None, [kp_allow(f"arn:aws:iam::{ACCOUNT}:role/AppRole")], SESSION, "allowed", "key-policy", id="KMS-KP-role-session"),
    pytest.param([DECRYPT], None, [kp_allow(ACCOUNT, Condition={"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}})], USER,
                 "implicitDeny", "key-policy", id="KMS-KP-condition-absent-key"),
]


@pytest.mark.parametrize("ident,bound,kp,who,decision,layer", KMS)
def test_kms_key_policy(ident: list[Any], bound: list[Any] | None, kp: list[Any], who: Principal, decision: str, layer: str) -> None:
    inputs = PolicyInputs(identity=identity(*ident) if ident else (), boundaries=boundary(*bound) if bound else (),
                          resource_policy=PolicySource("key", "key-policy", doc(*kp)) if kp else PolicySource("key", "kp", doc(stmt("Allow", "kms:Nothing", Principal={"AWS": "arn:aws:iam::999999999999:root"}))))
    result = evaluate(Request(who, "kms:Decrypt", KEY), inputs)
    assert (result.decision, result.layer) == (decision, layer)


@pytest.mark.parametrize("via,expected", [
    pytest.param("dynamodb.us-east-1.amazonaws.com", "allowed", id="KMS-KP-via-service-matches"),
    pytest.param("s3.us-east-1.amazonaws.com", "implicitDeny", id="KMS-KP-via-service-other"),
])
def test_kms_via_service(via: str, expected: str) -> None:
    kp = doc(kp_allow(USER.arn, "kms:Decrypt", Condition={"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}))
    inputs = PolicyInputs(resource_policy=PolicySource("key", "kp", kp))
    assert evaluate(Request(USER, "kms:Decrypt", KEY, {"kms:ViaService": [via]}), inputs).decision == expected


KMS_CROSS = [
    pytest.param([], [kp_allow(OTHER)], "implicitDeny", "identity-policy", id="KMS-XACCT-key-policy-alone"),
    pytest.param([], [kp_allow(FOREIGN.arn)], "implicitDeny", "identity-policy", id="KMS-XACCT-key-names-user-still-needs-iam"),
    pytest.param([stmt("Allow", "kms:Decrypt", KEY)], [kp_allow(OTHER)], "allowed", "key-policy", id="KMS-XACCT-both"),
    pytest.param([stmt("Allow", "kms:Decrypt", KEY)], [kp_allow(FOREIGN.arn)], "allowed", "key-policy", id="KMS-XACCT-both-user"),
    pytest.param([stmt("Allow", "kms:Decrypt", KEY)], [ENABLE_IAM], "implicitDeny", "key-policy", id="KMS-XACCT-key-names-only-owner"),
]


@pytest.mark.parametrize("ident,kp,decision,layer", KMS_CROSS)
def test_kms_cross_account(ident: list[Any], kp: list[Any], decision: str, layer: str) -> None:
    inputs = PolicyInputs(identity=identity(*ident) if ident else (), resource_policy=PolicySource("key", "kp", doc(*kp)),
                          resource_account=ACCOUNT)
    result = evaluate(Request(FOREIGN, "kms:Decrypt", KEY), inputs)
    assert (result.decision, result.layer) == (decision, layer)


NO_KEY_ACCESS = PolicySource("key", "kp", doc(kp_allow("arn:aws:iam::999999999999:root")))


def grant(**overrides: Any) -> Grant:
    values: dict[str, Any] = {"grantee_principal": USER.arn, "operations": ["Decrypt"], "key_arn": KEY, "name": "g1"}
    values.update(overrides)
    return Grant(**values)


GRANTS = [
    pytest.param(grant(), "kms:Decrypt", None, {}, "allowed", id="KMS-GRANT-allows"),
    pytest.param(grant(), "KMS:decrypt", None, {}, "allowed", id="KMS-GRANT-action-case-insensitive"),
    pytest.param(grant(operations=["Encrypt"]), "kms:Decrypt", None, {}, "implicitDeny", id="KMS-GRANT-other-operation"),
    pytest.param(grant(grantee_principal=f"arn:aws:iam::{ACCOUNT}:user/other"), "kms:Decrypt", None, {}, "implicitDeny", id="KMS-GRANT-other-grantee"),
    pytest.param(grant(key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/other"), "kms:Decrypt", None, {}, "implicitDeny", id="KMS-GRANT-other-key"),
    pytest.param(grant(encryption_context_equals={"a": "1"}), "kms:Decrypt", {"a": "1"}, {}, "allowed", id="KMS-GRANT-ec-equals"),
    pytest.param(grant(encryption_context_equals={"a": "1"}), "kms:Decrypt", {"a": "1", "b": "2"}, {}, "implicitDeny", id="KMS-GRANT-ec-equals-extra-pair"),
    pytest.param(grant(encryption_context_equals={"a": "1"}), "kms:Decrypt", {}, {}, "implicitDeny", id="KMS-GRANT-ec-equals-missing"),
    pytest.param(grant(encryption_context_subset={"a": "1"}), "kms:Decrypt", {"a": "1", "b": "2"}, {}, "allowed", id="KMS-GRANT-ec-subset"),
    pytest.param(grant(encryption_context_subset={"a": "1"}), "kms:Decrypt", {"a": "2"}, {}, "implicitDeny", id="KMS-GRANT-ec-subset-wrong-value"),
    pytest.param(grant(encryption_context_subset={"A": "1"}), "kms:Decrypt", {"a": "1"}, {}, "implicitDeny", id="KMS-GRANT-ec-case-sensitive"),
    pytest.param(grant(encryption_context_subset={"a": "1"}), "kms:Decrypt", None, {"kms:EncryptionContext:a": "1"}, "allowed", id="KMS-GRANT-ec-from-context-keys"),
    pytest.param(grant(grantee_principal=f"arn:aws:iam::{ACCOUNT}:role/AppRole"), "kms:Decrypt", None, {}, "allowed", id="KMS-GRANT-role-grantee-session"),
]


@pytest.mark.parametrize("g,action,ec,context,decision", GRANTS)
def test_grants(g: Grant, action: str, ec: dict[str, str] | None, context: dict[str, Any], decision: str) -> None:
    who = SESSION if g.grantee_principal.endswith(":role/AppRole") else USER
    inputs = PolicyInputs(resource_policy=NO_KEY_ACCESS, grants=[g], encryption_context=ec)
    result = evaluate(Request(who, action, KEY, context), inputs)
    assert result.decision == decision
    assert result.layer == ("grant" if decision == "allowed" else "key-policy")


def test_grant_does_not_beat_explicit_deny() -> None:
    # PEL: an explicit deny in any policy overrides every allow, grants included.
    kp = PolicySource("key", "kp", doc(stmt("Deny", "kms:Decrypt", Principal="*")))
    result = evaluate(Request(USER, "kms:Decrypt", KEY), PolicyInputs(resource_policy=kp, grants=[grant()]))
    assert result.decision == "explicitDeny"


def test_grant_allows_when_delegation_lacks_iam() -> None:
    # KMS-GRANT: grants are an alternative to key policy + IAM policy.
    result = evaluate(Request(USER, "kms:Decrypt", KEY),
                      PolicyInputs(resource_policy=key(ENABLE_IAM), grants=[grant()]))
    assert (result.decision, result.layer) == ("allowed", "grant")
    assert result.matched[0].policy_kind == "grant" and result.matched[0].policy_name == "g1"


def test_key_policy_semantics_only_for_kind_key() -> None:
    # PEL: a "resource" policy is a union with IAM (an identity allow suffices); KMS-KP: a key
    # policy must allow, so one that names nobody relevant denies despite the IAM allow.
    statements = [kp_allow("arn:aws:iam::999999999999:root", "kms:Decrypt")]
    iam = identity(DECRYPT)
    as_resource = evaluate(Request(USER, "kms:Decrypt", KEY), PolicyInputs(identity=iam, resource_policy=resource(*statements)))
    as_key = evaluate(Request(USER, "kms:Decrypt", KEY), PolicyInputs(identity=iam, resource_policy=key(*statements)))
    assert as_resource.allowed and not as_key.allowed


def test_multiple_identity_sources_are_a_union() -> None:
    # PEL: identity-based policies (user inline, attached, group) are evaluated together.
    inputs = PolicyInputs(identity=[PolicySource("identity", "a", doc(ALLOW_OTHER_ACTION)),
                                    PolicySource("identity", "b", doc(stmt("Allow", "s3:GetObject")))])
    assert evaluate(Request(USER, "s3:GetObject", "*"), inputs).allowed


def test_multiple_boundaries_all_must_allow() -> None:
    inputs = PolicyInputs(identity=identity(ALLOW_ALL),
                          boundaries=[PolicySource("boundary", "a", doc(ALLOW_ALL)),
                                      PolicySource("boundary", "b", doc(ALLOW_ALL))])
    assert evaluate(Request(USER, "s3:GetObject", "*"), inputs).allowed


def test_multiple_boundaries_one_silent_denies() -> None:
    # PB: the effective permissions are the intersection; each boundary must allow.
    inputs = PolicyInputs(identity=identity(ALLOW_ALL),
                          boundaries=[PolicySource("boundary", "a", doc(ALLOW_ALL)),
                                      PolicySource("boundary", "b", doc(ALLOW_OTHER_ACTION))])
    result = evaluate(Request(USER, "s3:GetObject", "*"), inputs)
    assert (result.decision, result.layer) == ("implicitDeny", "permissions-boundary")


def test_deny_in_second_identity_policy() -> None:
    inputs = PolicyInputs(identity=[PolicySource("identity", "a", doc(ALLOW_ALL)),
                                    PolicySource("identity", "b", doc(stmt("Deny", "s3:Get*")))])
    result = evaluate(Request(USER, "s3:GetObject", "*"), inputs)
    assert result.decision == "explicitDeny" and result.matched[0].policy_name == "b"


def test_key_policy_star_names_every_principal() -> None:
    # KMS "Examining the key policy": "*" gives every identity permission to use the key.
    inputs = PolicyInputs(resource_policy=key(kp_allow("*", "kms:Decrypt")))
    result = evaluate(Request(USER, "kms:Decrypt", KEY), inputs)
    assert (result.decision, result.layer) == ("allowed", "key-policy")
    cross = evaluate(Request(FOREIGN, "kms:Decrypt", KEY), PolicyInputs(resource_policy=inputs.resource_policy, resource_account=ACCOUNT))
    assert (cross.decision, cross.layer) == ("implicitDeny", "identity-policy")   # other accounts still need IAM
