"""Role sessions as AWS makes them (issue 20, item 4): session policies and session tags.

IAM User Guide, "Session policies" (SP-AND: "The permissions for a session are the intersection of
the identity-based policies for the IAM entity (user or role) used to create the session and the
session policies"; SP-ROLE: a resource-based policy that names the role ARN "the permissions from
the resource-based policy are added to the role ... before the session is created. The session
policy limits the total permissions"; SP-SESSION: one that names the session ARN "the permissions
from the resource-based policy are added after the session is created ... are not limited by the
session policy"; SP-DENY: an explicit deny in any policy denies). "Passing session tags in AWS STS"
(TAG-OVER: "If a session tag has the same key as a role tag, the session tag value overrides the
role tag value"). Without session policies nothing changes (the differential run checks 6,000).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.world import session_principal_tags

ACCOUNT = "123456789012"
OTHER = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/alice"
CALLER = Principal(arn=SESSION, account=ACCOUNT, type="AssumedRole", role_arn=ROLE)
BUCKET_OBJECT = "arn:aws:s3:::data/report.csv"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_TRUSTED = f"arn:aws:iam::{ACCOUNT}:role/target"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


BROAD = PolicySource("identity", "role inline broad", doc(allow("s3:*"), allow("kms:*"), allow("sts:AssumeRole")))
NARROW = PolicySource("session", "session policy", doc(allow("s3:GetObject")))
DENY_GET = PolicySource("session", "session policy", doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}))
EMPTY_SESSION = PolicySource("session", "session policy", doc(allow("dynamodb:GetItem")))
BOUNDARY_GET = PolicySource("boundary", "pb", doc(allow("s3:GetObject")))


def bucket(principal: str) -> PolicySource:
    return PolicySource("resource", "bucket policy", doc(
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:PutObject", "Resource": BUCKET_OBJECT}))


def key_policy(principal: str) -> PolicySource:
    return PolicySource("key", "key policy", doc(
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt", "Resource": "*"}))


NO_IDENTITY: tuple[PolicySource, ...] = ()
S3 = [
    # (id, action, identity, session policies, boundaries, resource policy, decision, layer) — S3 in one account
    ("no session policy: identity allows", "s3:PutObject", (BROAD,), (), (), None, "allowed", "identity-policy"),
    ("SP-AND: session keeps GetObject", "s3:GetObject", (BROAD,), (NARROW,), (), None, "allowed", "identity-policy"),
    ("SP-AND: session excludes PutObject", "s3:PutObject", (BROAD,), (NARROW,), (), None, "implicitDeny", "session-policy"),
    ("SP-AND: session allows what no identity policy does", "s3:GetObject", NO_IDENTITY, (NARROW,), (), None,
     "implicitDeny", "identity-policy"),
    ("SP-AND: a session policy about other actions only", "s3:GetObject", (BROAD,), (EMPTY_SESSION,), (), None,
     "implicitDeny", "session-policy"),
    ("SP-AND: two session policies allow together (either one)", "s3:PutObject", (BROAD,),
     (EMPTY_SESSION, PolicySource("session", "arn:aws:iam::aws:policy/AmazonS3FullAccess", doc(allow("s3:*")))), (),
     None, "allowed", "identity-policy"),
    ("SP-DENY: a session policy's explicit deny", "s3:GetObject", (BROAD,), (DENY_GET,), (), None,
     "explicitDeny", "explicit-deny"),
    ("SP-SESSION: bucket policy names the session", "s3:PutObject", NO_IDENTITY, (NARROW,), (), bucket(SESSION),
     "allowed", "resource-policy"),
    ("SP-SESSION: bucket policy names the session, identity broad", "s3:PutObject", (BROAD,), (NARROW,), (),
     bucket(SESSION), "allowed", "resource-policy"),
    ("SP-ROLE: bucket policy names the role: limited by the session policy", "s3:PutObject", NO_IDENTITY, (NARROW,),
     (), bucket(ROLE), "implicitDeny", "session-policy"),
    ("SP-ROLE: bucket policy names the role, no session policy", "s3:PutObject", NO_IDENTITY, (), (), bucket(ROLE),
     "allowed", "resource-policy"),
    ("SP-ROLE: bucket policy names the role, session allows", "s3:PutObject", NO_IDENTITY,
     (PolicySource("session", "sp", doc(allow("s3:PutObject"))),), (), bucket(ROLE), "allowed", "resource-policy"),
    ("delegation to the account: limited by the session policy", "s3:PutObject", (BROAD,), (NARROW,), (),
     bucket(f"arn:aws:iam::{ACCOUNT}:root"), "implicitDeny", "session-policy"),
    ("boundary and session both allow", "s3:GetObject", (BROAD,), (NARROW,), (BOUNDARY_GET,), None,
     "allowed", "identity-policy"),
    ("boundary first: it does not allow", "s3:PutObject", (BROAD,), (NARROW,), (BOUNDARY_GET,), None,
     "implicitDeny", "permissions-boundary"),
]


@pytest.mark.parametrize("case", S3, ids=[c[0] for c in S3])
def test_session_policies_limit_like_aws(case: tuple[Any, ...]) -> None:
    _, action, identity, sessions, boundaries, policy, decision, layer = case
    resource = BUCKET_OBJECT
    inputs = PolicyInputs(identity=identity, boundaries=boundaries, resource_policy=policy,
                          resource_account=ACCOUNT if policy is not None else None, session_policies=sessions)
    result = evaluate(Request(CALLER, action, resource), inputs)
    assert (result.decision, result.layer) == (decision, layer), result.reason


def test_session_policy_denial_says_so() -> None:
    result = evaluate(Request(CALLER, "s3:PutObject", BUCKET_OBJECT),
                      PolicyInputs(identity=(BROAD,), session_policies=(NARROW,)))
    assert "no session policy allows" in result.reason


def test_cross_account_identity_side_is_limited() -> None:
    """"Cross-account policy evaluation logic": the identity side must allow, and for a session
    that side is the intersection with its session policies (SP-AND)."""
    foreign = "arn:aws:s3:::theirs/object"
    policy = PolicySource("resource", "bucket policy", doc(
        {"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "s3:PutObject", "Resource": foreign}))
    inputs = PolicyInputs(identity=(BROAD,), resource_policy=policy, resource_account=OTHER, session_policies=(NARROW,))
    result = evaluate(Request(CALLER, "s3:PutObject", foreign), inputs)
    assert (result.decision, result.layer) == ("implicitDeny", "session-policy")
    inputs = PolicyInputs(identity=(BROAD,), resource_policy=policy, resource_account=OTHER)
    assert evaluate(Request(CALLER, "s3:PutObject", foreign), inputs).allowed


KMS = [
    # (id, key policy names, session policies, decision, layer)
    ("key policy names the session: not limited (SP-SESSION)", SESSION, (NARROW,), "allowed", "key-policy"),
    ("key policy names the role: limited (SP-ROLE)", ROLE, (NARROW,), "implicitDeny", "session-policy"),
    ("key policy names the role, no session policy", ROLE, (), "allowed", "key-policy"),
    ("key policy delegates to the account: identity side limited", f"arn:aws:iam::{ACCOUNT}:root", (NARROW,),
     "implicitDeny", "session-policy"),
]


@pytest.mark.parametrize("case", KMS, ids=[c[0] for c in KMS])
def test_key_policy_and_session_policies(case: tuple[Any, ...]) -> None:
    _, named, sessions, decision, layer = case
    inputs = PolicyInputs(identity=(BROAD,), resource_policy=key_policy(named), resource_account=ACCOUNT,
                          session_policies=sessions)
    result = evaluate(Request(CALLER, "kms:Decrypt", KEY), inputs)
    assert (result.decision, result.layer) == (decision, layer), result.reason


TRUST = [
    # (id, trust policy names, session policies, decision, layer): role chaining from a session
    ("trust names the session: not limited", SESSION, (NARROW,), "allowed", "trust-policy"),
    ("trust names the role: limited", ROLE, (NARROW,), "implicitDeny", "session-policy"),
    ("trust names the role, session allows AssumeRole", ROLE,
     (PolicySource("session", "sp", doc(allow("sts:AssumeRole"))),), "allowed", "trust-policy"),
    ("trust delegates to the account: identity side limited", f"arn:aws:iam::{ACCOUNT}:root", (NARROW,),
     "implicitDeny", "session-policy"),
]


@pytest.mark.parametrize("case", TRUST, ids=[c[0] for c in TRUST])
def test_chained_assume_role_and_session_policies(case: tuple[Any, ...]) -> None:
    _, named, sessions, decision, layer = case
    trust = PolicySource("trust", "trust policy", doc(
        {"Effect": "Allow", "Principal": {"AWS": named}, "Action": "sts:AssumeRole"}))
    inputs = PolicyInputs(identity=(BROAD,), resource_policy=trust, resource_account=ACCOUNT, session_policies=sessions)
    result = evaluate(Request(CALLER, "sts:AssumeRole", ROLE_TRUSTED), inputs)
    assert (result.decision, result.layer) == (decision, layer), result.reason


TAGS = [
    # (id, role tags, session tags, aws:PrincipalTag values)
    ("no session tags: the role's", {"team": "red"}, {}, {"team": "red"}),
    ("TAG-OVER: a session tag overrides the role tag", {"team": "red"}, {"team": "blue"}, {"team": "blue"}),
    ("TAG-OVER: keys compare without case", {"Team": "red"}, {"team": "blue"}, {"team": "blue"}),
    ("both kept when keys differ", {"team": "red"}, {"project": "x"}, {"team": "red", "project": "x"}),
]


@pytest.mark.parametrize("case", TAGS, ids=[c[0] for c in TAGS])
def test_session_tags_override_role_tags(case: tuple[Any, ...]) -> None:
    _, role_tags, session_tags, expected = case
    assert session_principal_tags(role_tags, session_tags) == expected


def test_principal_tag_condition_sees_the_session_tag() -> None:
    tags = session_principal_tags({"team": "red"}, {"team": "blue"})
    caller = Principal(arn=SESSION, account=ACCOUNT, type="AssumedRole", role_arn=ROLE, tags=tags)
    policy = PolicySource("identity", "abac", doc(allow("s3:GetObject", Condition={
        "StringEquals": {"aws:PrincipalTag/team": "blue"}})))
    assert evaluate(Request(caller, "s3:GetObject", BUCKET_OBJECT), PolicyInputs(identity=(policy,))).allowed
    red = Principal(arn=SESSION, account=ACCOUNT, type="AssumedRole", role_arn=ROLE, tags={"team": "red"})
    assert not evaluate(Request(red, "s3:GetObject", BUCKET_OBJECT), PolicyInputs(identity=(policy,))).allowed


def test_source_identity_is_a_principal_key() -> None:
    """IAM User Guide, "aws:SourceIdentity": in the request context of the session's requests."""
    caller = Principal(arn=SESSION, account=ACCOUNT, type="AssumedRole", role_arn=ROLE, source_identity="alice")
    policy = PolicySource("identity", "si", doc(allow("s3:GetObject", Condition={
        "StringEquals": {"aws:SourceIdentity": "alice"}})))
    assert evaluate(Request(caller, "s3:GetObject", BUCKET_OBJECT), PolicyInputs(identity=(policy,))).allowed
    plain = Principal(arn=SESSION, account=ACCOUNT, type="AssumedRole", role_arn=ROLE)
    assert not evaluate(Request(plain, "s3:GetObject", BUCKET_OBJECT), PolicyInputs(identity=(policy,))).allowed
