"""Which service's own rule decides a request (the engine's :class:`ServiceRules`).

kms:RetireGrant is decided by the grant it retires (services/kms_retire_grant.py). Any other
request on a KMS key ARN is decided by its key policy (services/kms_key_policy.py), also when no key policy was
given (fail closed); a request decided against a role trust policy (sts:AssumeRole, TagSession,
SetSourceIdentity on a role) by the trust policy's rule (services/sts_trust_policy.py), also when no
trust policy was given (fail closed); anything else by the
engine's general resource-policy logic.
"""
from __future__ import annotations


from orchestrator import arns
from orchestrator.authz.engine.evaluate import Rule
from orchestrator.authz.engine.inputs import PolicyInputs
from orchestrator.authz.engine.request import Request
from orchestrator.authz.services.kms_key_policy import decide_with_key_policy, no_key_policy
from orchestrator.authz.services.kms_retire_grant import RETIRE_GRANT, decide_retire_grant
from orchestrator.authz.services.sts_trust_policy import TRUST_ACTIONS, decide_with_trust_policy, no_trust_policy

__all__ = ["ServiceRulebook", "SERVICE_RULES"]

_KMS_KEY = arns.KMS_KEY_ARN
ROLE_ARN = arns.ROLE_ARN


class ServiceRulebook:
    """The rules of the services orchestrate models (stateless: one is shared)."""

    __slots__ = ()

    def rule(self, request: Request, inputs: PolicyInputs) -> Rule | None:
        if request.action.lower() == RETIRE_GRANT and _KMS_KEY.match(request.resource):
            return decide_retire_grant  # the grant decides, not the key policy (kms_retire_grant.py)
        policy = inputs.resource_policy
        if policy is None:
            if _KMS_KEY.match(request.resource):
                return no_key_policy
            if request.action.lower() in TRUST_ACTIONS and ROLE_ARN.match(request.resource):
                return no_trust_policy
            return None
        if policy.kind == "key":
            return decide_with_key_policy
        if policy.kind == "trust":
            return decide_with_trust_policy
        return None


#: Stateless (no slots, nothing kept): one rulebook serves every engine.
SERVICE_RULES = ServiceRulebook()
