"""The anonymous principal and what S3 counts as a *public* bucket policy (issue 20, item 5).

Cited pages:

* IAM User Guide, "AWS JSON policy elements: Principal", anonymous users (ANON): "anonymous
  users" are named by ``"Principal": "*"`` or ``{"AWS": "*"}``; an unsigned request has no
  identity-based policies, so only such a resource-policy grant allows it.
* Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage" > "The meaning of
  'public'" (PUBLIC): a bucket policy is public unless every granting statement is bounded to
  fixed values of aws:SourceIp (no broader than /8), aws:SourceVpc, aws:SourceVpce,
  aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalAccount,
  aws:PrincipalArn, aws:userid..., or names specific principals; a wildcard or a policy variable
  is not a fixed value.
* Same page, RestrictPublicBuckets (RPB): "restricts access to an access point or bucket with a
  public policy to only AWS service principals and authorized users within the bucket owner's
  account", blocking cross-account access "including non-public delegation to specific accounts".
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.engine.public import is_public, public_statements
from orchestrator.authz.engine.request import anonymous_principal

OWNER = "123456789012"
OTHER = "210987654321"
USER = Principal(arn=f"arn:aws:iam::{OWNER}:user/reader", account=OWNER, username="reader")
FOREIGN = Principal(arn=f"arn:aws:iam::{OTHER}:user/alien", account=OTHER, username="alien")
OBJECT = "arn:aws:s3:::public-docs/readme.txt"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def grant(principal: Any = "*", condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": "s3:GetObject",
                                 "Resource": "arn:aws:s3:::public-docs/*"}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def decide(principal: Principal, policy: dict[str, Any] | None, restrict: bool = False,
           identity: tuple[PolicySource, ...] = (), context: dict[str, tuple[str, ...]] | None = None) -> Any:
    inputs = PolicyInputs(identity=identity,
                          resource_policy=None if policy is None else PolicySource("resource", "bucket policy", policy),
                          resource_account=OWNER, restrict_public=restrict)
    return evaluate(Request(principal, "s3:GetObject", OBJECT, context or {}), inputs)


# --- PUBLIC: which policies are public --------------------------------------------------------

@pytest.mark.parametrize("policy, public", [
    pytest.param(doc(grant("*")), True, id="principal-star"),
    pytest.param(doc(grant({"AWS": "*"})), True, id="aws-star"),
    pytest.param(doc(grant({"AWS": f"arn:aws:iam::{OWNER}:user/reader"})), False, id="named-user"),
    pytest.param(doc(grant({"AWS": OWNER})), False, id="named-account"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), False, id="fixed-vpce"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), False, id="fixed-vpc"),
    pytest.param(doc(grant("*", {"StringLike": {"aws:SourceVpc": "vpc-*"}})), True, id="wildcard-vpc"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})), False, id="fixed-org"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:PrincipalAccount": OWNER}})), False, id="fixed-account"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}})), True,
                 id="policy-variable"),
    pytest.param(doc(grant("*", {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), True, id="if-exists"),
    pytest.param(doc(grant("*", {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), True, id="negated"),
    pytest.param(doc(grant("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), False, id="narrow-cidr"),
    pytest.param(doc(grant("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), True, id="broad-cidr"),
    pytest.param(doc(grant("*", {"StringEquals": {"s3:prefix": "home/"}})), True, id="unrelated-key"),
    pytest.param(doc(grant("*", effect="Deny")), False, id="deny-only"),
    pytest.param(doc(grant({"AWS": OWNER}), grant("*")), True, id="one-public-statement"),
])
def test_meaning_of_public(policy: dict[str, Any], public: bool) -> None:
    """PUBLIC: every granting statement must be bounded for the policy to be non-public."""
    assert is_public(policy) is public
    assert is_public(__import__("json").dumps(policy)) is public


def test_public_statements_name_the_culprits() -> None:
    policy = doc(grant({"AWS": OWNER}), grant("*"), grant("*", {"StringEquals": {"aws:SourceVpce": "vpce-1"}}))
    assert public_statements(policy) == [1]


def test_no_policy_is_not_public() -> None:
    assert is_public(None) is False


# --- ANON: the anonymous principal ------------------------------------------------------------

@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}], ids=["star", "aws-star"])
def test_anonymous_allowed_only_by_a_grant_to_everyone(principal: Any) -> None:
    decision = decide(anonymous_principal(), doc(grant(principal)))
    assert decision.allowed, decision.reason
    assert decision.layer == "resource-policy"


@pytest.mark.parametrize("policy", [
    pytest.param(None, id="no-policy"),
    pytest.param(doc(grant({"AWS": OWNER})), id="account-delegation"),
    pytest.param(doc(grant({"AWS": f"arn:aws:iam::{OWNER}:root"})), id="root"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), id="vpce-bound"),
    pytest.param(doc(grant("*", {"StringEquals": {"aws:PrincipalAccount": OWNER}})), id="principal-account-bound"),
])
def test_anonymous_denied_without_a_grant_to_everyone(policy: dict[str, Any] | None) -> None:
    """ANON: no identity-based policy exists for an anonymous request; a grant to an account
    delegates to that account's identity policies, which an anonymous caller has none of."""
    decision = decide(anonymous_principal(), policy)
    assert not decision.allowed
    assert decision.layer == "resource-policy"


def test_identity_policies_never_count_for_anonymous() -> None:
    admin = PolicySource("identity", "admin", doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assert not decide(anonymous_principal(), None, identity=(admin,)).allowed


def test_explicit_deny_applies_to_anonymous() -> None:
    decision = decide(anonymous_principal(), doc(grant("*"), grant("*", effect="Deny")))
    assert decision.decision == "explicitDeny"


# --- RPB: RestrictPublicBuckets ---------------------------------------------------------------

def test_restrict_public_buckets_denies_anonymous_through_a_public_policy() -> None:
    decision = decide(anonymous_principal(), doc(grant("*")), restrict=True)
    assert not decision.allowed
    assert decision.layer == "block-public-access"


def test_restrict_public_buckets_keeps_the_owner_accounts_users() -> None:
    """RPB: "authorized users within the bucket owner's account" keep the public grant."""
    assert decide(USER, doc(grant("*")), restrict=True).allowed


def test_restrict_public_buckets_blocks_cross_account_even_when_named() -> None:
    """RPB: with a public policy, cross-account access "including non-public delegation to
    specific accounts" is blocked."""
    identity = PolicySource("identity", "alien", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    policy = doc(grant("*"), grant({"AWS": OTHER}))
    assert decide(FOREIGN, policy, identity=(identity,)).allowed
    decision = decide(FOREIGN, policy, restrict=True, identity=(identity,))
    assert not decision.allowed
    assert decision.layer == "block-public-access"


def test_restrict_public_buckets_ignores_a_non_public_policy() -> None:
    """RPB applies to buckets with a public policy only: a named cross-account grant stands."""
    identity = PolicySource("identity", "alien", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    assert decide(FOREIGN, doc(grant({"AWS": OTHER})), restrict=True, identity=(identity,)).allowed
