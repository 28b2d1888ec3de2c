"""The engine's memory of decisions, an object its owner holds (a gate over a desired world, an
access matrix over all of a scenario's states), never module state.

A decision is a pure function of the question (principal, action, resource, inputs) and of the
context lookups it made (the context is read only through RequestContext.get and
.encryption_context), so a request whose lookups answer alike gets the same decision: an access
matrix asks the same question of every state, and of every DynamoDB action's kms:Decrypt, with only
the clock and unread keys changed. Bounded: emptied when full.
"""
from __future__ import annotations

from typing import Any, Hashable, Sequence

from orchestrator.authz.engine.context import RequestContext
from orchestrator.authz.engine.inputs import Decision, Grant, PolicyInputs, PolicySource
from orchestrator.authz.engine.request import Principal, Request

__all__ = ["DecisionMemo", "caller_question", "step_question", "guardrails_question"]

Reads = tuple[tuple[str | None, Any], ...]
_SIZE = 1 << 18
#: Variants kept per question (a policy that reads aws:CurrentTime makes one per second).
_VARIANTS = 4


def _principal_slot(principal: Principal) -> tuple[Any, ...]:
    return (principal.arn, principal.account, principal.type, principal.username, principal.userid,
            tuple(principal.tags.items()), principal.role_arn, principal.source_identity)


def _sources_slot(sources: Sequence[PolicySource]) -> tuple[Any, ...]:
    # The fields, not the dataclasses: their generated __hash__ is a call per source per request.
    return tuple((source.kind, source.name, source.document) for source in sources)


def _grant_slot(grant: Grant) -> tuple[Any, ...]:
    equals, subset = grant.encryption_context_equals, grant.encryption_context_subset
    return (grant.grantee_principal, tuple(grant.operations), grant.key_arn,
            None if equals is None else tuple(equals.items()), None if subset is None else tuple(subset.items()),
            grant.name, grant.retiring_principal)


def caller_question(principal: Principal, identity: Sequence[PolicySource],
                    boundaries: Sequence[PolicySource], sessions: Sequence[PolicySource] = ()) -> tuple[Any, ...]:
    """The caller's part of the question a remembered decision answers: the same for each of its
    requests (``sessions``: a role session's session policies)."""
    return (_principal_slot(principal), _sources_slot(identity), _sources_slot(boundaries), _sources_slot(sessions))


def step_question(action: str, resource: str, inputs: PolicyInputs) -> tuple[Any, ...]:
    """The request's part of that question (``inputs`` beyond the caller's policies)."""
    context, policy = inputs.encryption_context, inputs.resource_policy
    return (action, resource, None if policy is None else (policy.kind, policy.name, policy.document),
            inputs.resource_account, tuple(_grant_slot(grant) for grant in inputs.grants),
            None if context is None else tuple(context.items()), inputs.restrict_public, _guardrails_slot(inputs))


def _guardrails_slot(inputs: PolicyInputs) -> tuple[Any, ...] | None:
    """The organization and the endpoint (engine/organization.py), None without them."""
    return guardrails_question(inputs.principal_org, inputs.resource_org, inputs.vpc_endpoint,
                               inputs.service_linked_role)


def guardrails_question(principal_org: Any, resource_org: Any, endpoint: Any,
                        service_linked_role: bool) -> tuple[Any, ...] | None:
    """The question's part for the organizations and the endpoint, None without any (the gate adds
    it to the parts it keeps per caller and per step: gate/core.py)."""
    if principal_org is None and resource_org is None and endpoint is None:
        return None
    return (_membership_slot(principal_org), _membership_slot(resource_org),
            None if endpoint is None else (endpoint.id, endpoint.vpc, _sources_slot((endpoint.source(),))),
            service_linked_role)


def _membership_slot(org: Any) -> tuple[Any, ...] | None:
    if org is None:
        return None
    return (org.org_id, org.management, tuple((level.kind, level.name, level.id, _sources_slot(level.scps),
                                               _sources_slot(level.rcps)) for level in org.levels))


def _answers_alike(reads: Reads, context: RequestContext) -> bool:
    for key, answer in reads:
        now = context.lookup(key) if key is not None else tuple(context.rebuilt_encryption_context().items())
        if now != answer:
            return False
    return True


class DecisionMemo:
    """Decisions made, by question: each with the context lookups it made and their answers."""

    __slots__ = ("_decisions",)

    def __init__(self) -> None:
        self._decisions: dict[Hashable, list[tuple[Reads, Decision]]] = {}

    def recall(self, request: Request, asked: Hashable) -> Decision | None:
        """The decision made already for the question ``asked`` whose context lookups answer
        alike for ``request``, else None."""
        made = self._decisions.get(asked)
        if not made:
            return None
        context = None
        for reads, decision in made:
            if not reads:
                return decision
            context = context or RequestContext(request)
            if _answers_alike(reads, context):
                return decision
        return None

    def remember(self, asked: Hashable, reads: Reads, decision: Decision) -> None:
        if len(self._decisions) >= _SIZE:
            self._decisions.clear()
        variants = self._decisions.setdefault(asked, [])
        if len(variants) >= _VARIANTS:
            del variants[0]
        variants.append((reads, decision))

    def clear(self) -> None:
        self._decisions.clear()

    def __len__(self) -> int:
        return len(self._decisions)
