"""Decide a request the way AWS does.

Follows the IAM User Guide, "Policy evaluation logic" (explicit deny wins;
identity-based and resource-based policies are a union within one account;
a permissions boundary limits identity-based allows and resource-based
allows that name the account, but not ones that name the user ARN directly),
"Cross-account policy evaluation logic" (both the identity side and the
resource policy must allow), and the AWS KMS Developer Guide, "Key policies
in AWS KMS — Allows access to the AWS account and enables IAM policies" (the
key policy must allow: naming the principal allows on its own, naming the
account delegates to IAM policies) and "Grants in AWS KMS".

``{"AWS": "*"}`` in a key policy follows the AWS KMS Developer Guide ("Examining
the key policy"): the asterisk "gives every identity in every AWS account
permission to use the KMS key" (subject to its conditions), so a same-account
caller needs nothing more; other accounts still need an IAM allow.  The
account root user (``Principal.type == "Account"``) needs no identity policy
in its own account.
"""
from __future__ import annotations

from typing import Final, Sequence

from .conditions import Condition
from .context import RequestContext
from .documents import PolicyError, get_policy
from .explain import FailedCondition, Hit, describe_failure, describe_hits, refs
from .grants import matching_grants
from .inputs import (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Grant, PolicyInputs,
                     PolicySource, StatementRef)
from .matching import DIRECT, EVERYONE
from .request import Principal, Request

__all__ = [
    "evaluate", "side_decisions", "Decision", "PolicyInputs", "PolicySource", "Grant", "StatementRef",
    "Principal", "Request", "PolicyError",
]

_RESOURCE_KINDS = ("resource", "key")

#: A key-policy statement with ``Principal: "*"`` allows a same-account caller on its own.
KEY_POLICY_STAR_NAMES_PRINCIPAL: Final = True


class _Run:
    """State of one evaluation: the request context and what the scan found."""

    __slots__ = ("request", "inputs", "context", "action", "missing", "failed",
                 "identity", "boundary", "resource", "denies")

    def __init__(self, request: Request, inputs: PolicyInputs) -> None:
        self.request, self.inputs = request, inputs
        self.context = RequestContext(request)
        self.action = request.action.lower()
        self.missing: list[str] = []
        self.failed: list[FailedCondition] = []
        self.denies: list[Hit] = []
        self.identity = self._scan(inputs.identity)
        self.boundary = self._scan(inputs.boundaries)
        policy = inputs.resource_policy
        self.resource = self._scan((policy,)) if policy is not None else []

    def _scan(self, sources: Sequence[PolicySource]) -> list[Hit]:
        allows: list[Hit] = []
        request, context, missing, failed = self.request, self.context, self.missing, self.failed
        has_boundary = bool(self.inputs.boundaries)
        failing: list[Condition] = []
        for source in sources:
            policy = get_policy(source.document, source.kind in _RESOURCE_KINDS)
            for statement in policy.statements:
                kind = statement.applies(self.action, request.resource, request.principal, context,
                                         missing, failing, has_boundary)
                if kind is not None:
                    (allows if statement.allow else self.denies).append((source, statement, kind))
                elif failing:
                    failed.extend((source, statement, condition) for condition in failing)
                    failing.clear()
        return allows

    @property
    def is_root(self) -> bool:
        return self.request.principal.type == "Account"

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

    def decide(self, decision: str, layer: str, hits: Sequence[Hit], reason: str,
               extra: tuple[StatementRef, ...] = ()) -> Decision:
        failed: tuple[str, ...] = ()
        if decision != ALLOWED:   # why no Allow statement applied; Deny conditions that failed are not reasons
            failed = tuple(dict.fromkeys(describe_failure(f) for f in self.failed if f[1].allow))
        return Decision(decision, layer, refs(hits) + extra, tuple(dict.fromkeys(self.missing)), reason, failed)

    def who(self) -> str:
        return f"{self.request.action} on {self.request.resource} for {self.request.principal.arn}"


def evaluate(request: Request, inputs: PolicyInputs) -> Decision:
    """Decide ``request`` against ``inputs``; raises PolicyError for an unreadable policy."""
    run = _Run(request, inputs)
    if run.denies:
        return run.decide(EXPLICIT_DENY, "explicit-deny", run.denies,
                          f"{request.action} is explicitly denied by {describe_hits(run.denies)}")
    policy = inputs.resource_policy
    if policy is not None and policy.kind == "key":
        return _kms(run)
    account = inputs.resource_account
    if account is not None and account != request.principal.account:
        return _cross_account(run, account)
    return _same_account(run)


def _allowed_by_identity(run: _Run, extra_hits: list[Hit], layer: str) -> Decision:
    """Identity-side allow, subject to the permissions boundary."""
    if not run.boundary_ok():
        return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                          f"the permissions boundary does not allow {run.who()}")
    hits = run.identity + extra_hits + run.boundary
    return run.decide(ALLOWED, layer, hits, f"{run.request.action} is allowed by {describe_hits(hits) or 'the account root user'}")


def _same_account(run: _Run) -> Decision:
    direct = [h for h in run.resource if h[2] == DIRECT]
    if direct:
        return run.decide(ALLOWED, "resource-policy", direct,
                          f"{run.request.action} is allowed by {describe_hits(direct)}")
    if run.identity_ok() or run.resource:
        layer = "identity-policy" if run.identity_ok() else "resource-policy"
        return _allowed_by_identity(run, run.resource, layer)
    where = "identity-based or resource-based policy" if run.inputs.resource_policy else "identity-based policy"
    return run.decide(IMPLICIT_DENY, "identity-policy", (), f"no {where} allows {run.who()}")


def _cross_account(run: _Run, account: str) -> Decision:
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


def _kms(run: _Run) -> Decision:
    request, account = run.request, run.inputs.resource_account
    cross = account is not None and account != request.principal.account
    named = (DIRECT, EVERYONE) if KEY_POLICY_STAR_NAMES_PRINCIPAL else (DIRECT,)
    direct = [h for h in run.resource if h[2] in named]
    if direct and not cross:
        return run.decide(ALLOWED, "key-policy", direct,
                          f"{request.action} is allowed by {describe_hits(direct)}, which names the principal")
    if run.resource and run.identity_ok() and run.boundary_ok():
        return _allowed_by_identity(run, run.resource, "key-policy" if cross else "identity-policy")
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    if not run.resource:
        extra = " and no grant allows it" if run.inputs.grants else ""
        return run.decide(IMPLICIT_DENY, "key-policy", (),
                          f"no statement in the key policy allows {run.who()}{extra}")
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"the key policy delegates {request.action} to account "
                          f"{account or request.principal.account} but no IAM policy allows {run.who()}")
    return run.decide(IMPLICIT_DENY, "permissions-boundary", (),
                      f"the permissions boundary does not allow {run.who()}")


def side_decisions(request: Request, inputs: PolicyInputs) -> dict[str, str]:
    """Decision of each side on its own: {"identity", "resource", "boundary"}.

    Backs SimulateCustomPolicy's ``EvalDecisionDetails`` ("how each policy type
    contributes to the final evaluation decision") for cross-account requests.
    """
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
