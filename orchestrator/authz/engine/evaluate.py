"""Decide a request the way AWS does.

Follows the IAM User Guide, "Policy evaluation logic" and "How AWS
enforcement code logic evaluates requests to allow or deny access": an
explicit deny anywhere wins; within one account a resource-based policy
statement that names the caller's own user or role-session ARN allows on its
own and is not limited by an implicit deny in the identity-based policies or
the permissions boundary, while one that names the caller's *role* ARN is
still limited by the session's permissions boundary ("Permissions boundaries
for IAM entities").  A statement that names an *account*
(``arn:aws:iam::ACCOUNT:root`` or the bare id) delegates to that account
("AWS JSON policy elements: Principal", AWS account principals: "This
delegates authority to the account"), so the caller's identity-based policies
must allow too, in its own account as in another.  ``"*"`` names every
principal: it allows on its own in the resource's account and is not limited
by a boundary ("IAM role principals": boundaries "do not limit permissions
granted using ... a wildcard (*) in the Principal element").  "Cross-account
policy evaluation logic": both the identity side and the resource policy must
allow.

KMS keys follow the AWS KMS Developer Guide, "Key policies in AWS KMS": every
key has exactly one key policy and it must allow (an IAM policy alone never
does), so a KMS key ARN decided without a key policy fails closed; naming the
account delegates to IAM policies ("Allows access to the AWS account and
enables IAM policies"); "Grants in AWS KMS" are an alternative allow.  The
account root user (``Principal.type == "Account"``) needs no identity policy
in its own account.  ``sts:GetCallerIdentity`` needs no permission and cannot
be denied (AWS STS API Reference, "GetCallerIdentity").
"""
from __future__ import annotations

import re
from typing import Any, Hashable, Sequence

from orchestrator.authz.engine.conditions import Condition
from orchestrator.authz.engine.context import RequestContext
from orchestrator.authz.engine.documents import PolicyError, get_policy
from orchestrator.authz.engine.explain import FailedCondition, Hit, describe_failures, describe_grants, describe_hits, refs
from orchestrator.authz.services.kms_grants import matching_grants
from orchestrator.authz.engine.inputs import (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Grant, PolicyInputs,
                     PolicySource, StatementRef)
from orchestrator.authz.engine.matching import ACCOUNT, DIRECT, EVERYONE, ROLE
from orchestrator.authz.engine.request import Principal, Request

__all__ = [
    "evaluate", "side_decisions", "Decision", "PolicyInputs", "PolicySource", "Grant", "StatementRef",
    "Principal", "Request", "PolicyError", "NO_PERMISSION_REQUIRED",
]

_RESOURCE_KINDS = ("resource", "key", "trust")
#: How a resource-policy statement names the caller when it allows on its own (same account).
_OWN = (DIRECT, EVERYONE)
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:\d*:key/")
#: Layer of a decision on an action that needs no permission.
NO_PERMISSION_REQUIRED = "no-permission-required"
# AWS STS API Reference, "GetCallerIdentity": "No permissions are required to perform this
# operation" and an explicit deny of sts:GetCallerIdentity does not stop it.
_FREE_ACTIONS = frozenset({"sts:getcalleridentity"})


class _Run:
    """State of one evaluation: the request context and what the scan found."""

    __slots__ = ("request", "inputs", "context", "action", "missing", "failed",
                 "identity", "boundary", "resource", "denies")

    def __init__(self, request: Request, inputs: PolicyInputs, context: RequestContext | None = None,
                 action: str | None = None) -> None:
        self.request, self.inputs = request, inputs
        self.context = context or RequestContext(request)
        self.action = action if action is not None else request.action.lower()
        self.missing: list[str] = []
        self.failed: list[FailedCondition] = []
        self.denies: list[Hit] = []
        self.identity = self._scan(inputs.identity) if inputs.identity else []
        self.boundary = self._scan(inputs.boundaries) if inputs.boundaries else []
        policy = inputs.resource_policy
        self.resource = self._scan((policy,)) if policy is not None else []

    def _scan(self, sources: Sequence[PolicySource]) -> list[Hit]:
        allows: list[Hit] = []
        action, resource, principal = self.action, self.request.resource, self.request.principal
        context, missing, failed, denies = self.context, self.missing, self.failed, self.denies
        has_boundary = bool(self.inputs.boundaries)
        failing: list[Condition] = []
        for source in sources:
            # Only the statements whose Action element takes the action (worked out once per policy).
            for statement in get_policy(source.document, source.kind in _RESOURCE_KINDS).candidates(action):
                kind = statement.applies_to_matched(resource, principal, context, missing, failing, has_boundary)
                if kind is not None:
                    (allows if statement.allow else denies).append((source, statement, kind))
                elif failing:
                    failed.extend((source, statement, condition) for condition in failing)
                    failing.clear()
        return allows

    @property
    def is_root(self) -> bool:
        return self.request.principal.type == "Account"

    @property
    def cross_account(self) -> bool:
        account = self.inputs.resource_account
        return account is not None and account != self.request.principal.account

    def named(self, kinds: Sequence[str]) -> list[Hit]:
        """Resource-policy allows that name the caller in one of these ways."""
        return [hit for hit in self.resource if hit[2] in kinds]

    def identity_ok(self) -> bool:
        return bool(self.identity) or self.is_root

    def boundary_ok(self) -> bool:
        """Every permissions boundary given must allow (AWS attaches at most one)."""
        boundaries = self.inputs.boundaries
        if not boundaries or self.is_root:
            return True
        if len(boundaries) == 1:
            return bool(self.boundary)
        return len({id(source) for source, _, _ in self.boundary}) == len(boundaries)

    def grants(self, hits: Sequence[Hit], relative: bool = False) -> str:
        """How resource-policy ``hits`` name the caller, in words."""
        return describe_grants(hits, self.request.action, self.request.principal, relative)

    def hits(self, hits: Sequence[Hit]) -> str:
        """The statements of ``hits`` and their policies, in words."""
        return describe_hits(hits, self.request.principal)

    def decide(self, decision: str, layer: str, hits: Sequence[Hit], reason: str,
               extra: tuple[StatementRef, ...] = ()) -> Decision:
        failed: tuple[str, ...] = ()
        if decision == IMPLICIT_DENY and self.failed:   # why no Allow statement applied; failed Deny conditions are not reasons
            failed = describe_failures([f for f in self.failed if f[1].allow], self.context)
            reason = "; ".join((reason, *failed))
        missing = tuple(dict.fromkeys(self.missing)) if self.missing else ()
        return Decision(decision, layer, refs(hits) + extra if extra else refs(hits), missing, reason, failed)

    def who(self) -> str:
        return f"{self.request.action} on {self.request.resource} for {self.request.principal.arn}"


#: Decisions made, by (principal, action, resource, inputs): each with the context lookups it made
#: and their answers. A decision is a pure function of those (the context is read only through
#: RequestContext.get and .encryption_context), so a request whose lookups answer alike gets the
#: same decision: an access matrix asks the same question of every state, and of every DynamoDB
#: action's kms:Decrypt, with only the clock and unread keys changed. Bounded, like the policy
#: cache in documents.py: emptied when full.
_DECISIONS: dict[Hashable, list[tuple[tuple[tuple[str | None, Any], ...], Decision]]] = {}
_DECISIONS_SIZE = 1 << 18
#: Variants kept per question (a policy that reads aws:CurrentTime makes one per second).
_VARIANTS = 4


def _principal_slot(principal: Principal) -> tuple[Any, ...]:
    return (principal.arn, principal.account, principal.type, principal.username, principal.userid,
            tuple(principal.tags.items()), principal.role_arn)


def _sources_slot(sources: Sequence[PolicySource]) -> tuple[Any, ...]:
    # The fields, not the dataclasses: their generated __hash__ is a call per source per request.
    return tuple((source.kind, source.name, source.document) for source in sources)


def _grant_slot(grant: Grant) -> tuple[Any, ...]:
    equals, subset = grant.encryption_context_equals, grant.encryption_context_subset
    return (grant.grantee_principal, tuple(grant.operations), grant.key_arn,
            None if equals is None else tuple(equals.items()), None if subset is None else tuple(subset.items()),
            grant.name)


def caller_question(principal: Principal, identity: Sequence[PolicySource],
                    boundaries: Sequence[PolicySource]) -> tuple[Any, ...]:
    """The caller's part of the question a remembered decision answers: the same for each of its requests."""
    return (_principal_slot(principal), _sources_slot(identity), _sources_slot(boundaries))


def step_question(action: str, resource: str, inputs: PolicyInputs) -> tuple[Any, ...]:
    """The request's part of that question (``inputs`` beyond the caller's policies)."""
    context, policy = inputs.encryption_context, inputs.resource_policy
    return (action, resource, None if policy is None else (policy.kind, policy.name, policy.document),
            inputs.resource_account, tuple(_grant_slot(grant) for grant in inputs.grants),
            None if context is None else tuple(context.items()))


def _answers_alike(reads: tuple[tuple[str | None, Any], ...], context: RequestContext) -> bool:
    for key, answer in reads:
        now = context.lookup(key) if key is not None else tuple(context.rebuilt_encryption_context().items())
        if now != answer:
            return False
    return True


def evaluate(request: Request, inputs: PolicyInputs, asked: Hashable | None = None) -> Decision:
    """Decide ``request`` against ``inputs``; raises PolicyError for an unreadable policy.
    ``asked``: the question (caller_question, step_question: hashable), from a caller that asks the same questions many times
    (the gate over a desired world, for an access matrix): the decision is remembered and reused.
    Without it nothing is remembered: building and hashing the question costs a one-off request
    (simulate, the embedded gate over moto's ever-changing world) about a fifth of its time."""
    action = request.action.lower()
    if action in _FREE_ACTIONS:
        return Decision(ALLOWED, NO_PERMISSION_REQUIRED, (), (),
                        f"{request.action} needs no permission and cannot be denied")
    if asked is None:
        return _evaluate(request, inputs, RequestContext(request), action)
    made = recall(request, asked)
    if made is not None:
        return made
    context = RequestContext(request)
    context.reads = []
    decision = _evaluate(request, inputs, context, action)
    _remember(asked, tuple(context.reads), decision)
    return decision


def recall(request: Request, asked: Hashable) -> Decision | None:
    """The decision made already for the question ``asked`` whose context lookups answer
    alike for ``request``, else None (the gate asks before it assembles the policy inputs)."""
    made = _DECISIONS.get(asked)
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


def forget_decisions() -> None:
    """Empty the decision memo (a benchmark's cold run)."""
    _DECISIONS.clear()


def _remember(question: Hashable, reads: tuple[tuple[str | None, Any], ...], decision: Decision) -> None:
    if len(_DECISIONS) >= _DECISIONS_SIZE:
        _DECISIONS.clear()
    variants = _DECISIONS.setdefault(question, [])
    if len(variants) >= _VARIANTS:
        del variants[0]
    variants.append((reads, decision))


def _evaluate(request: Request, inputs: PolicyInputs, context: RequestContext, action: str | None = None) -> Decision:
    run = _Run(request, inputs, context, action)
    if run.denies:
        return run.decide(EXPLICIT_DENY, "explicit-deny", run.denies,
                          f"{request.action} on {request.resource} is explicitly denied by {run.hits(run.denies)}")
    policy = inputs.resource_policy
    if policy is None and _KMS_KEY.match(request.resource):
        return _no_key_policy(run)
    if policy is not None and policy.kind == "key":
        return _kms(run)
    if policy is not None and policy.kind == "trust":
        return _trust(run)
    if run.cross_account:
        return _cross_account(run)
    return _same_account(run)


def _allowed_by_identity(run: _Run, extra_hits: list[Hit], layer: str) -> Decision:
    """Identity-side allow, subject to the permissions boundary; ``extra_hits`` are the
    resource-policy statements that must allow too (delegation, cross-account)."""
    if not run.boundary_ok():
        return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                          f"the permissions boundary does not allow {run.who()}")
    action = run.request.action
    if run.identity:
        parts = [f"{action} is allowed by {run.hits(run.identity)}"]
    else:
        parts = [f"{action} is allowed for the account root user, which needs no identity-based policy"]
    if extra_hits:
        parts.append(run.grants(extra_hits))
    if run.boundary:
        parts.append(f"{run.hits(run.boundary)} allows it too")
    return run.decide(ALLOWED, layer, run.identity + extra_hits + run.boundary, "; ".join(parts))


def _allowed_by_role(run: _Run, role: list[Hit], layer: str) -> Decision:
    """A grant to the caller's role ARN: limited by the session's permissions boundary only."""
    reason = f"{run.request.action} is allowed by {run.grants(role, relative=True)}"
    if run.boundary:
        reason += f"; {run.hits(run.boundary)} allows it too"
    return run.decide(ALLOWED, layer, role + run.boundary, reason)


def _role_limited(run: _Run, role: list[Hit]) -> Decision:
    return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                      f"{run.grants(role)}, but the permissions boundary does not allow {run.who()} "
                      "(a grant to a role ARN is limited by the session's permissions boundary)")


def _same_account(run: _Run) -> Decision:
    own = run.named(_OWN)
    if own:
        return run.decide(ALLOWED, "resource-policy", own,
                          f"{run.request.action} is allowed by {run.grants(own, relative=True)}")
    role = run.named((ROLE,))
    if role and run.boundary_ok():
        return _allowed_by_role(run, role, "resource-policy")
    if run.identity_ok():
        return _allowed_by_identity(run, [], "identity-policy")
    if role:
        return _role_limited(run, role)
    account = run.named((ACCOUNT,))
    if account:
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(account)}, but no identity-based policy allows {run.who()}")
    where = "identity-based or resource-based policy" if run.inputs.resource_policy else "identity-based policy"
    return run.decide(IMPLICIT_DENY, "identity-policy", (), f"no {where} allows {run.who()}")


def _cross_account(run: _Run) -> Decision:
    account = run.inputs.resource_account
    if not run.resource:
        return run.decide(IMPLICIT_DENY, "resource-policy", (),
                          f"cross-account request: no resource policy in account {account} allows {run.who()}")
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"cross-account request: the resource policy allows it but no identity-based policy allows {run.who()}")
    return _allowed_by_identity(run, run.resource, "resource-policy")


def _grant_decision(run: _Run) -> Decision | None:
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


def _no_key_policy(run: _Run) -> Decision:
    """A KMS key ARN without its key policy: no key-policy statement can allow (fail closed)."""
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    return run.decide(IMPLICIT_DENY, "key-policy", (),
                      "no key policy was given for the KMS key: without a key policy that allows it, "
                      f"no IAM policy can allow {run.who()}")


def _kms(run: _Run) -> Decision:
    request, cross = run.request, run.cross_account
    role: list[Hit] = []
    if not cross:
        own = run.named(_OWN)
        if own:
            return run.decide(ALLOWED, "key-policy", own,
                              f"{request.action} is allowed by {run.grants(own, relative=True)}")
        role = run.named((ROLE,))  # only when the key policy does not name the caller itself
        if role and run.boundary_ok():
            return _allowed_by_role(run, role, "key-policy")
    if run.resource and run.identity_ok() and run.boundary_ok():
        return _allowed_by_identity(run, run.resource, "key-policy" if cross else "identity-policy")
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    if not run.resource:
        extra = " and no grant allows it" if run.inputs.grants else ""
        return run.decide(IMPLICIT_DENY, "key-policy", (),
                          f"no statement in the key policy allows {run.who()}{extra}")
    if role:
        return _role_limited(run, role)
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(run.resource)}, but no IAM policy allows {run.who()}")
    return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                      f"the permissions boundary does not allow {run.who()}")


def _trust(run: _Run) -> Decision:
    """sts:AssumeRole: the role trust policy must allow, even in the same account (IAM User Guide,
    "How AWS enforcement code logic evaluates requests to allow or deny access": "role trust
    policies ... must allow explicitly"; "Cross-account policy evaluation logic"). In the same
    account a statement naming the caller itself (or "*") allows on its own; one naming the
    account delegates to the caller's identity-based policies ("AWS JSON policy elements:
    Principal", AWS account principals), which must allow too, as across accounts."""
    request = run.request
    if not run.cross_account:
        own = run.named(_OWN)
        if own:
            return run.decide(ALLOWED, "trust-policy", own,
                              f"{request.action} is allowed by {run.grants(own, relative=True)}")
        role = run.named((ROLE,))
        if role and run.boundary_ok():
            return _allowed_by_role(run, role, "trust-policy")
    if not run.resource:
        return run.decide(IMPLICIT_DENY, "trust-policy", (),
                          f"no statement in the role trust policy allows {run.who()} (a trust policy must"
                          " allow explicitly, even in the same account)")
    if run.identity_ok() and run.boundary_ok():
        return _allowed_by_identity(run, run.resource, "trust-policy")
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(run.resource)}, but no identity-based policy allows {run.who()}")
    return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                      f"the permissions boundary does not allow {run.who()}")


def side_decisions(request: Request, inputs: PolicyInputs) -> dict[str, str]:
    """Decision of each side on its own: {"identity", "resource", "boundary"}.

    Backs SimulateCustomPolicy's ``EvalDecisionDetails`` ("how each policy type
    contributes to the final evaluation decision") for cross-account requests.
    """
    if request.action.lower() in _FREE_ACTIONS:
        return {"identity": ALLOWED, "resource": ALLOWED, "boundary": ALLOWED}
    run = _Run(request, inputs)
    deny_kinds = {source.kind for source, _, _ in run.denies}
    if deny_kinds & {"identity", "boundary"}:
        identity = EXPLICIT_DENY
    else:
        identity = ALLOWED if run.identity_ok() and run.boundary_ok() else IMPLICIT_DENY
    if deny_kinds & set(_RESOURCE_KINDS):
        resource = EXPLICIT_DENY
    else:
        resource = ALLOWED if run.resource else IMPLICIT_DENY
    if deny_kinds & {"boundary"}:
        boundary = EXPLICIT_DENY
    else:
        boundary = ALLOWED if run.boundary_ok() else IMPLICIT_DENY
    return {"identity": identity, "resource": resource, "boundary": boundary}
