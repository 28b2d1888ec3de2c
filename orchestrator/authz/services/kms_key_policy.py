"""The KMS key policy's own rule (AWS KMS Developer Guide, "Key policies in AWS KMS"): every key
has exactly one key policy and it must allow (an IAM policy alone never does), so a KMS key ARN
decided without a key policy fails closed; naming the account delegates to IAM policies ("Allows
access to the AWS account and enables IAM policies"); "Grants in AWS KMS" are an alternative allow.
Handed an :class:`~orchestrator.authz.engine.evaluate.Evaluation` after the engine found no
explicit deny."""
from __future__ import annotations

from orchestrator.authz.engine.evaluate import (OWN, Evaluation, allowed_by_identity, allowed_by_role,
                                                role_limited)
from orchestrator.authz.engine.explain import Hit
from orchestrator.authz.engine.inputs import ALLOWED, IMPLICIT_DENY, Decision, Grant, StatementRef
from orchestrator.authz.engine.matching import ROLE
from orchestrator.authz.services.kms_grants import matching_grants

__all__ = ["decide_with_key_policy", "no_key_policy"]


def _grant_decision(run: Evaluation) -> Decision | None:
    inputs, request = run.inputs, run.request
    if not inputs.grants:
        return None
    context = inputs.encryption_context
    if context is None:
        context = run.context.encryption_context()
    found = matching_grants(inputs.grants, request.principal, request.action, request.resource, context)
    if not found:
        return None
    grants: list[Grant] = [inputs.grants[i] for i in found]
    extra = tuple(StatementRef("grant", g.name, None, i, "Allow") for g, i in zip(grants, found))
    names = ", ".join(g.name or f"#{i}" for g, i in zip(grants, found))
    return run.decide(ALLOWED, "grant", (), f"{request.action} is allowed by KMS grant {names}", extra)


def no_key_policy(run: Evaluation) -> Decision:
    """A KMS key ARN without its key policy: no key-policy statement can allow (fail closed)."""
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    return run.decide(IMPLICIT_DENY, "key-policy", (),
                      "no key policy was given for the KMS key: without a key policy that allows it, "
                      f"no IAM policy can allow {run.who()}")


def decide_with_key_policy(run: Evaluation) -> Decision:
    request, cross = run.request, run.cross_account
    role: list[Hit] = []
    if not cross:
        own = run.named(OWN)
        if own:
            return run.decide(ALLOWED, "key-policy", own,
                              f"{request.action} is allowed by {run.grants(own, relative=True)}")
        role = run.named((ROLE,))  # only when the key policy does not name the caller itself
        if role and run.boundary_ok():
            return allowed_by_role(run, role, "key-policy")
    if run.resource and run.identity_ok() and run.boundary_ok():
        return allowed_by_identity(run, run.resource, "key-policy" if cross else "identity-policy")
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    if not run.resource:
        extra = " and no grant allows it" if run.inputs.grants else ""
        return run.decide(IMPLICIT_DENY, "key-policy", (),
                          f"no statement in the key policy allows {run.who()}{extra}")
    if role:
        return role_limited(run, role)
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(run.resource)}, but no IAM policy allows {run.who()}")
    return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                      f"the permissions boundary does not allow {run.who()}")
