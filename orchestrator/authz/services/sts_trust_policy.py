"""The role trust policy's own rule for sts:AssumeRole (IAM User Guide, "How AWS enforcement code
logic evaluates requests to allow or deny access": role trust policies must allow explicitly).
Handed an :class:`~orchestrator.authz.engine.evaluate.Evaluation` after the engine found no
explicit deny."""
from __future__ import annotations

from orchestrator.authz.engine.evaluate import Evaluation, allowed_as_named, allowed_by_identity, limit_denial
from orchestrator.authz.engine.inputs import IMPLICIT_DENY, Decision

__all__ = ["decide_with_trust_policy", "no_trust_policy", "TRUST_ACTIONS"]

#: The actions a role trust policy decides (IAM User Guide, "Role trust policies"; "Passing session
#: tags in AWS STS": sts:TagSession; "Monitor and control actions taken with assumed roles":
#: sts:SetSourceIdentity).
TRUST_ACTIONS = frozenset({"sts:assumerole", "sts:tagsession", "sts:setsourceidentity"})


def no_trust_policy(run: Evaluation) -> Decision:
    """sts:AssumeRole on a role whose trust policy was not given: every role has one and it must
    allow explicitly, so nothing else can allow (fail closed, as a KMS key without its key policy)."""
    return run.decide(IMPLICIT_DENY, "trust-policy", (),
                      "no role trust policy was given for the role: a trust policy must allow explicitly,"
                      f" even in the same account, so no identity-based policy alone can allow {run.who()}")


def decide_with_trust_policy(run: Evaluation) -> Decision:
    """sts:AssumeRole: the role trust policy must allow, even in the same account (IAM User Guide,
    "How AWS enforcement code logic evaluates requests to allow or deny access": "role trust
    policies ... must allow explicitly"; "Cross-account policy evaluation logic"). In the same
    account a statement naming the caller itself (or "*") allows on its own; one naming the
    account delegates to the caller's identity-based policies ("AWS JSON policy elements:
    Principal", AWS account principals), which must allow too, as across accounts."""
    if not run.cross_account:
        allowed, _ = allowed_as_named(run, "trust-policy")
        if allowed is not None:
            return allowed
    if not run.resource:
        return run.decide(IMPLICIT_DENY, "trust-policy", (),
                          f"no statement in the role trust policy allows {run.who()} (a trust policy must"
                          " allow explicitly, even in the same account)")
    if run.identity_ok() and run.limits_ok():
        return allowed_by_identity(run, run.resource, "trust-policy")
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(run.resource)}, but no identity-based policy allows {run.who()}")
    limited = limit_denial(run)
    assert limited is not None
    return limited
