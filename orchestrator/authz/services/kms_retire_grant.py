"""Who may retire a KMS grant: the grant decides, not the key policy.

AWS KMS Developer Guide, "Retiring and revoking grants"
(https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html): "The grant determines
who can retire it." A grant can be retired by its retiring principal, by its grantee principal
"if the grant includes the RetireGrant operation", and by "the AWS account in which the grant was
created". "Principals specified in the grant can retire a grant without the kms:RetireGrant
permission. The kms:RetireGrant permission alone does not allow principals to retire a grant. The
kms:RetireGrant permission is not effective in a key policy": the planner hands the engine no key
policy for it (services/kms.py). "To deny permission to retire a grant, you can use a Deny action
with the kms:RetireGrant permission in your IAM policies": the engine applies an explicit deny of
the caller's IAM policies before this rule. "The AWS account that owns the KMS key can delegate
the kms:RetireGrant permission to an IAM principal in the account", as can the account a
retiring principal names: an IAM policy of a principal of that account that allows
kms:RetireGrant (within its permissions boundary and session policies) allows it.
KMS API Reference, "RetireGrant": "Permission to retire a grant is determined primarily by the
grant"; "Cross-account use: Yes".

The engine's inputs carry exactly one grant, the one the request retires (services/kms.py).
"""
from __future__ import annotations

import re

from orchestrator import arns
from orchestrator.authz.engine.evaluate import Evaluation, allowed_by_identity
from orchestrator.authz.engine.inputs import ALLOWED, IMPLICIT_DENY, Decision, StatementRef
from orchestrator.authz.services.kms_grants import same_principal

__all__ = ["RETIRE_GRANT", "decide_retire_grant"]

RETIRE_GRANT = "kms:retiregrant"


def _account_of(principal: str | None) -> str | None:
    """The account a principal names as a whole (an account id or its root ARN), else None."""
    if not principal:
        return None
    if re.fullmatch(r"\d{12}", principal):
        return principal
    found = arns.ROOT_ARN.match(principal)
    return found["account"] if found else None


def decide_retire_grant(run: Evaluation) -> Decision:
    """RetireGrant on the one grant of ``run.inputs.grants`` (none: KMS found no such grant)."""
    request, grants = run.request, run.inputs.grants
    caller = request.principal
    if not grants:
        return run.decide(IMPLICIT_DENY, "grant", (), f"no grant to retire was found for {run.who()}")
    grant = grants[0]
    label = f"KMS grant {grant.name}" if grant.name else "the KMS grant"
    ref = (StatementRef("grant", grant.name, None, 0, "Allow"),)
    if grant.retiring_principal and same_principal(grant.retiring_principal, caller):
        return run.decide(ALLOWED, "grant", (), f"{request.action} is allowed: {caller.arn} is the retiring principal"
                          f" of {label}", ref)
    if same_principal(grant.grantee_principal, caller) and any(op.lower() == "retiregrant" for op in grant.operations):
        return run.decide(ALLOWED, "grant", (), f"{request.action} is allowed: {caller.arn} is the grantee of"
                          f" {label}, whose operations include RetireGrant", ref)
    key_account = run.inputs.resource_account
    if run.is_root and caller.account == key_account:
        return run.decide(ALLOWED, "grant", (), f"{request.action} is allowed: the account {key_account} created"
                          f" {label}")
    delegating = {key_account, _account_of(grant.retiring_principal)} - {None}
    if caller.account in delegating and run.identity and run.limits_ok():
        return allowed_by_identity(run, [], "identity-policy")
    retiring = grant.retiring_principal or "no retiring principal"
    return run.decide(IMPLICIT_DENY, "grant", (), (
        f"{label} (retiring principal: {retiring}; grantee: {grant.grantee_principal}, operations:"
        f" {', '.join(grant.operations) or 'none'}) does not let {caller.arn} retire it, and no IAM policy of the"
        f" account that may delegate it allows {request.action}; a key policy cannot allow it"
        " (KMS Developer Guide, \"Retiring and revoking grants\")"))
