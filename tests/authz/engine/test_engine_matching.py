"""Action, Resource and Principal matching.

Tables cite the IAM User Guide: "IAM JSON policy elements: Action" (ACT),
"NotAction" (NACT), "Resource" (RES), "NotResource" (NRES), "AWS JSON policy
elements: Principal" (PRN), "NotPrincipal" (NPRN).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate

ACCOUNT = "123456789012"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)
OTHER_USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/other", account=ACCOUNT)
FOREIGN = Principal(arn="arn:aws:iam::210987654321:user/alien", account="210987654321")
SESSION = Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/i-123", account=ACCOUNT, type="AssumedRole")
ROOT = Principal(arn=f"arn:aws:iam::{ACCOUNT}:root", account=ACCOUNT, type="Account")


# A KMS key always has a key policy; this one delegates to IAM (KMS "Default key policy").
DELEGATING_KEY_POLICY = PolicySource("key", "kp", {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "*", "Resource": "*"}]})


def identity_allows(statement: dict[str, Any], action: str = "s3:GetObject", resource: str = "arn:aws:s3:::bucket/key") -> bool:
    doc = {"Version": "2012-10-17", "Statement": [dict({"Effect": "Allow"}, **statement)]}
    key_policy = DELEGATING_KEY_POLICY if ":key/" in resource else None
    inputs = PolicyInputs(identity=[PolicySource("identity", "t", doc)], resource_policy=key_policy)
    return evaluate(Request(USER, action, resource), inputs).allowed


@pytest.mark.parametrize("pattern,action,expected", [
    pytest.param("s3:GetObject", "s3:GetObject", True, id="ACT-exact"),
    pytest.param("s3:GetObject", "S3:getobject", True, id="ACT-case-insensitive-request"),
    pytest.param("S3:GETOBJECT", "s3:GetObject", True, id="ACT-case-insensitive-policy"),
    pytest.param("s3:Get*", "s3:GetObjectAcl", True, id="ACT-star-suffix"),
    pytest.param("s3:*Object", "s3:PutObject", True, id="ACT-star-prefix"),
    pytest.param("s3:*Object", "s3:PutObjectAcl", False, id="ACT-star-anchored"),
    pytest.param("s3:Get?bject", "s3:GetObject", True, id="ACT-question"),
    pytest.param("s3:Get?bject", "s3:GetOObject", False, id="ACT-question-one-char"),
    pytest.param("*", "kms:Decrypt", True, id="ACT-star-alone"),
    pytest.param("s3:*", "s3:GetObject", True, id="ACT-service-star"),
    pytest.param("s3:*", "s3x:GetObject", False, id="ACT-service-prefix-exact"),
    pytest.param("kms:*", "KMS:Decrypt", True, id="ACT-service-star-case"),
    pytest.param("s3:GetObject", "s3:GetObjectAcl", False, id="ACT-no-implicit-prefix"),
    pytest.param(["s3:PutObject", "s3:GetObject"], "s3:GetObject", True, id="ACT-list"),
    pytest.param(["s3:PutObject", "kms:*"], "s3:GetObject", False, id="ACT-list-none"),
    pytest.param("s3:Get.bject", "s3:GetObject", False, id="ACT-dot-literal"),
    pytest.param("dynamodb:*Item", "dynamodb:BatchGetItem", True, id="ACT-middle"),
])
def test_action(pattern: Any, action: str, expected: bool) -> None:
    assert identity_allows({"Action": pattern, "Resource": "*"}, action=action) is expected


@pytest.mark.parametrize("pattern,action,expected", [
    pytest.param("s3:DeleteObject", "s3:GetObject", True, id="NACT-other-action-allowed"),
    pytest.param("s3:DeleteObject", "s3:deleteobject", False, id="NACT-listed-action-excluded-case-insensitive"),
    pytest.param("s3:*", "kms:Decrypt", True, id="NACT-other-service"),
    pytest.param("s3:*", "s3:GetObject", False, id="NACT-wildcard-excluded"),
    pytest.param(["iam:*", "kms:*"], "dynamodb:GetItem", True, id="NACT-list"),
])
def test_not_action(pattern: Any, action: str, expected: bool) -> None:
    assert identity_allows({"NotAction": pattern, "Resource": "*"}, action=action) is expected


@pytest.mark.parametrize("pattern,resource,expected", [
    pytest.param("arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/key", True, id="RES-exact"),
    pytest.param("arn:aws:s3:::bucket/KEY", "arn:aws:s3:::bucket/key", False, id="RES-case-sensitive"),
    pytest.param("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key", False, id="RES-case-sensitive-wildcard"),
    pytest.param("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True, id="RES-star-crosses-slash"),
    pytest.param("arn:aws:s3:::*", "arn:aws:s3:::bucket/key", True, id="RES-star-whole-string"),
    pytest.param("arn:aws:dynamodb:*:123456789012:table/orders", "arn:aws:dynamodb:us-east-1:123456789012:table/orders", True, id="RES-region-wildcard"),
    pytest.param("arn:aws:dynamodb:*:123456789012:table/orders", "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/gsi", False, id="RES-anchored-end"),
    pytest.param("arn:aws:dynamodb:*:*:table/orders*", "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/gsi", True, id="RES-trailing-star"),
    pytest.param("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/k", True, id="RES-question"),
    pytest.param("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/kk", False, id="RES-question-one-char"),
    pytest.param("*", "arn:aws:kms:us-east-1:123456789012:key/abc", True, id="RES-star-alone"),
    pytest.param("arn:aws:kms:*:*:key/*", "arn:aws:kms:us-east-1:123456789012:key/abc", True, id="RES-kms-key-glob"),
    pytest.param("arn:aws:kms:*:*:alias/*", "arn:aws:kms:us-east-1:123456789012:key/abc", False, id="RES-kms-alias-not-key"),
    pytest.param(["arn:aws:s3:::x", "arn:aws:s3:::bucket/*"], "arn:aws:s3:::bucket/key", True, id="RES-list"),
    pytest.param("arn:aws:s3:::bucket/key", "*", False, id="RES-request-star-only-matches-star"),
    pytest.param("arn:aws:s3:::bucket/[a]", "arn:aws:s3:::bucket/a", False, id="RES-brackets-literal"),
])
def test_resource(pattern: Any, resource: str, expected: bool) -> None:
    assert identity_allows({"Action": "s3:*", "Resource": pattern}, resource=resource) is expected


@pytest.mark.parametrize("pattern,resource,expected", [
    pytest.param("arn:aws:s3:::secret/*", "arn:aws:s3:::bucket/key", True, id="NRES-other-resource"),
    pytest.param("arn:aws:s3:::secret/*", "arn:aws:s3:::secret/key", False, id="NRES-excluded"),
    pytest.param("arn:aws:s3:::SECRET/*", "arn:aws:s3:::secret/key", True, id="NRES-case-sensitive"),
    pytest.param("*", "arn:aws:s3:::bucket/key", False, id="NRES-star-excludes-all"),
])
def test_not_resource(pattern: Any, resource: str, expected: bool) -> None:
    assert identity_allows({"Action": "s3:*", "NotResource": pattern}, resource=resource) is expected


def test_identity_statement_without_resource_never_applies() -> None:
    # IAM "Resource": identity-based policy statements must include Resource or NotResource.
    assert identity_allows({"Action": "s3:*"}) is False


def test_identity_statement_with_principal_never_applies() -> None:
    # PRN: you cannot use Principal in an identity-based policy.
    assert identity_allows({"Action": "s3:*", "Resource": "*", "Principal": "*"}) is False


def bucket_allows(principal_element: dict[str, Any], who: Principal, statement_extra: dict[str, Any] | None = None) -> bool:
    """Same-account bucket policy only (no identity policies)."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}
    statement.update(principal_element)
    statement.update(statement_extra or {})
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    inputs = PolicyInputs(resource_policy=PolicySource("resource", "bucket-policy", doc), resource_account=ACCOUNT)
    return evaluate(Request(who, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs).allowed


@pytest.mark.parametrize("element,who,expected", [
    pytest.param({"Principal": "*"}, USER, True, id="PRN-star"),
    pytest.param({"Principal": {"AWS": "*"}}, USER, True, id="PRN-aws-star"),
    # PRN "AWS account principals": naming the account "delegates authority to the account";
    # with no identity-based policy of the user's allowing, the bucket policy alone grants nothing.
    pytest.param({"Principal": {"AWS": ACCOUNT}}, USER, False, id="PRN-bare-account-id-delegates"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, USER, False, id="PRN-account-root-arn-delegates"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, ROOT, True, id="PRN-account-root-arn-names-root-user"),
    pytest.param({"Principal": {"AWS": "210987654321"}}, USER, False, id="PRN-other-account"),
    pytest.param({"Principal": {"AWS": USER.arn}}, USER, True, id="PRN-user-arn"),
    pytest.param({"Principal": {"AWS": USER.arn}}, OTHER_USER, False, id="PRN-user-arn-other-user"),
    pytest.param({"Principal": {"AWS": [OTHER_USER.arn, USER.arn]}}, USER, True, id="PRN-list"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"}}, USER, False, id="PRN-no-partial-wildcards"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/AppRole"}}, SESSION, True, id="PRN-role-arn-matches-its-sessions"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/path/AppRole"}}, SESSION, True, id="PRN-role-arn-with-path"),
    pytest.param({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Other"}}, SESSION, False, id="PRN-other-role"),
    pytest.param({"Principal": {"AWS": SESSION.arn}}, SESSION, True, id="PRN-session-arn"),
    pytest.param({"Principal": {"Service": "dynamodb.amazonaws.com"}}, USER, False, id="PRN-service-never-a-user"),
    pytest.param({"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}}, USER, False, id="PRN-canonical-user"),
    pytest.param({"Principal": {"Federated": "cognito-identity.amazonaws.com"}}, USER, False, id="PRN-federated"),
    pytest.param({"Principal": {"Service": "s3.amazonaws.com", "AWS": USER.arn}}, USER, True, id="PRN-mixed-types"),
])
def test_principal(element: dict[str, Any], who: Principal, expected: bool) -> None:
    assert bucket_allows(element, who) is expected


def test_resource_statement_without_principal_never_applies() -> None:
    # PRN: a resource-based policy statement must name a Principal.
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    inputs = PolicyInputs(resource_policy=PolicySource("resource", "b", doc))
    assert not evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs).allowed


@pytest.mark.parametrize("resource_element,expected", [
    pytest.param({}, True, id="RES-missing-in-resource-policy-means-the-resource"),
    pytest.param({"Resource": "arn:aws:s3:::bucket/*"}, True, id="RES-explicit-in-resource-policy"),
    pytest.param({"Resource": "arn:aws:s3:::elsewhere/*"}, False, id="RES-other-in-resource-policy"),
    pytest.param({"NotResource": "arn:aws:s3:::bucket/key"}, False, id="NRES-in-resource-policy"),
])
def test_resource_in_resource_policy(resource_element: dict[str, Any], expected: bool) -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": USER.arn}, "Action": "s3:GetObject", **resource_element}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    inputs = PolicyInputs(resource_policy=PolicySource("resource", "b", doc))
    assert evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs).allowed is expected


def bucket_denies(not_principal: Any, who: Principal, boundary: bool = False) -> bool:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": not_principal, "Action": "s3:*", "Resource": "*"}]}
    boundaries = [PolicySource("boundary", "pb", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})] if boundary else []
    inputs = PolicyInputs(resource_policy=PolicySource("resource", "b", doc), boundaries=boundaries)
    return evaluate(Request(who, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs).decision == "explicitDeny"


@pytest.mark.parametrize("element,who,denied", [
    pytest.param({"AWS": [USER.arn, f"arn:aws:iam::{ACCOUNT}:root"]}, USER, False, id="NPRN-user-and-account-listed-excluded"),
    pytest.param({"AWS": [USER.arn]}, USER, True, id="NPRN-user-without-account-still-denied"),
    pytest.param({"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}, USER, True, id="NPRN-account-only-user-still-denied"),
    pytest.param({"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}, ROOT, False, id="NPRN-account-root-excluded"),
    pytest.param({"AWS": [USER.arn, ACCOUNT]}, OTHER_USER, True, id="NPRN-other-user-denied"),
    # NPRN: the request is made by the assumed-role session, so the session's ARN must be listed; a
    # NotPrincipal naming only the role still denies its sessions (the guide's example lists the
    # session, the role and the account).
    pytest.param({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/AppRole", ACCOUNT]}, SESSION, True, id="NPRN-role-and-account-still-deny-the-session"),
    pytest.param({"AWS": [SESSION.arn, f"arn:aws:iam::{ACCOUNT}:role/AppRole", ACCOUNT]}, SESSION, False,
                 id="NPRN-session-role-and-account-exclude-the-session"),
    pytest.param({"AWS": [SESSION.arn]}, SESSION, True, id="NPRN-session-without-account-still-denied"),
    pytest.param({"AWS": "*"}, USER, False, id="NPRN-star-excludes-everyone"),
    pytest.param({"Service": "s3.amazonaws.com"}, USER, True, id="NPRN-service-listed-user-denied"),
])
def test_not_principal(element: Any, who: Principal, denied: bool) -> None:
    assert bucket_denies(element, who) is denied


def test_not_principal_deny_always_denies_principals_with_boundary() -> None:
    # NPRN: "The NotPrincipal element with a Deny effect will always deny any IAM principal
    # that has a permissions boundary policy attached."
    assert bucket_denies({"AWS": [USER.arn, f"arn:aws:iam::{ACCOUNT}:root"]}, USER, boundary=True)


def test_not_principal_with_allow_is_not_supported() -> None:
    # NPRN: NotPrincipal must be used with "Effect":"Deny".
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotPrincipal": {"AWS": OTHER_USER.arn}, "Action": "s3:*", "Resource": "*"}]}
    inputs = PolicyInputs(resource_policy=PolicySource("resource", "b", doc))
    assert not evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::bucket/key"), inputs).allowed
