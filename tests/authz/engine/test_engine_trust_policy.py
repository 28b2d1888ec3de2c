"""sts:AssumeRole decided with the role trust policy (issue 11, item 1).

IAM User Guide, "How AWS enforcement code logic evaluates requests to allow or deny access"
(EVAL-TRUST: "role trust policies ... must allow explicitly", even in the same account; a
resource-based policy naming the IAM user itself is not limited by an implicit deny in the
identity-based policies or the permissions boundary); "AWS JSON policy elements: Principal",
AWS account principals (PRN-ACCT: naming the account "delegates authority to the account", so
the caller's identity-based policy must allow too); "Cross-account policy evaluation logic"
(XACCT: both the trust policy and the caller's identity-based policy must allow).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate

ACCOUNT = "123456789012"
OTHER = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/data/reader"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/caller", account=ACCOUNT)
FOREIGN = Principal(arn=f"arn:aws:iam::{OTHER}:user/alien", account=OTHER)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trusting(principal: Any, effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}


def decide(who: Principal, trust: list[dict[str, Any]], iam: str | None, boundary: bool | None = None) -> tuple[str, str]:
    """``iam``: None (no identity policy), "allow" or "deny" of sts:AssumeRole on the role;
    ``boundary``: None (none), True (allows sts:AssumeRole), False (allows something else)."""
    identity = [] if iam is None else [PolicySource("identity", "id", doc(
        {"Effect": "Allow" if iam == "allow" else "Deny", "Action": "sts:AssumeRole", "Resource": ROLE}))]
    boundaries = [] if boundary is None else [PolicySource("boundary", "pb", doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole" if boundary else "s3:GetObject", "Resource": "*"}))]
    inputs = PolicyInputs(identity=identity, boundaries=boundaries,
                          resource_policy=PolicySource("trust", "trust policy", doc(*trust)), resource_account=ACCOUNT)
    result = evaluate(Request(who, "sts:AssumeRole", ROLE), inputs)
    return result.decision, result.layer


ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
NAMES_USER = {"AWS": USER.arn}
CASES = [
    # (id, caller, trust statements, identity policy, boundary, decision, layer)
    ("EVAL-TRUST account trusted, identity allows", USER, [trusting(ACCOUNT_ROOT)], "allow", None, "allowed", "trust-policy"),
    ("PRN-ACCT account trusted, no identity allow", USER, [trusting(ACCOUNT_ROOT)], None, None, "implicitDeny", "identity-policy"),
    ("PRN-ACCT bare account id delegates too", USER, [trusting({"AWS": ACCOUNT})], None, None, "implicitDeny", "identity-policy"),
    ("EVAL-TRUST user named, no identity allow", USER, [trusting(NAMES_USER)], None, None, "allowed", "trust-policy"),
    ("EVAL-TRUST user named, boundary does not limit", USER, [trusting(NAMES_USER)], None, False, "allowed", "trust-policy"),
    ("EVAL-TRUST wildcard principal, same account", USER, [trusting("*")], None, None, "allowed", "trust-policy"),
    ("EVAL-TRUST identity alone is not enough", USER, [trusting({"AWS": f"arn:aws:iam::{ACCOUNT}:user/other"})], "allow",
     None, "implicitDeny", "trust-policy"),
    ("EVAL-TRUST a policy allowing nothing (no such role)", USER, [{"Effect": "Allow", "Principal": "*", "NotAction": "*"}], "allow", None, "implicitDeny", "trust-policy"),
    ("explicit deny in the identity policy wins", USER, [trusting(NAMES_USER)], "deny", None, "explicitDeny", "explicit-deny"),
    ("explicit deny in the trust policy wins", USER, [trusting(ACCOUNT_ROOT), trusting(NAMES_USER, "Deny")], "allow", None,
     "explicitDeny", "explicit-deny"),
    ("account trusted, boundary does not allow", USER, [trusting(ACCOUNT_ROOT)], "allow", False, "implicitDeny",
     "permissions-boundary"),
    ("XACCT foreign user named, no identity allow", FOREIGN, [trusting({"AWS": FOREIGN.arn})], None, None, "implicitDeny",
     "identity-policy"),
    ("XACCT foreign account trusted, identity allows", FOREIGN, [trusting({"AWS": f"arn:aws:iam::{OTHER}:root"})], "allow",
     None, "allowed", "trust-policy"),
    ("XACCT foreign caller, trust names only the home account", FOREIGN, [trusting(ACCOUNT_ROOT)], "allow", None,
     "implicitDeny", "trust-policy"),
]


@pytest.mark.parametrize(("who", "trust", "iam", "boundary", "decision", "layer"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_assume_role_is_decided_with_the_trust_policy(who, trust, iam, boundary, decision, layer) -> None:
    assert decide(who, trust, iam, boundary) == (decision, layer)


def test_the_reason_names_the_trust_policy_and_the_missing_identity_allow() -> None:
    inputs = PolicyInputs(identity=[], resource_policy=PolicySource("trust", "trust policy", doc(
        {"Sid": "TrustTheAccount", **trusting(ACCOUNT_ROOT)})), resource_account=ACCOUNT)
    result = evaluate(Request(USER, "sts:AssumeRole", ROLE), inputs)
    assert 'statement "TrustTheAccount" of the role trust policy delegates sts:AssumeRole' in result.reason
    assert "no identity-based policy allows" in result.reason
