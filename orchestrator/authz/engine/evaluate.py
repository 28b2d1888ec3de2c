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

The account root user (``Principal.type == "Account"``) needs no identity
policy in its own account.  ``sts:GetCallerIdentity`` needs no permission and
cannot be denied (AWS STS API Reference, "GetCallerIdentity").

A service whose resource policy decides in a way of its own (a KMS key policy,
a role trust policy) gives the engine a rule (:class:`ServiceRules`): the
engine scans every policy, applies an explicit deny, then hands the
:class:`Evaluation` to that rule.  The rules live in
``orchestrator/authz/services/``; ``orchestrator/authz/decide.py`` puts the two
together.  This module imports no service, no moto, boto3 or botocore.
"""
from __future__ import annotations

from typing import Callable, Hashable, Protocol, Sequence

from orchestrator.authz.engine.conditions import Condition
from orchestrator.authz.engine.context import RequestContext
from orchestrator.authz.engine.documents import PolicyCache, PolicyError
from orchestrator.authz.engine.guardrails import Guardrails
from orchestrator.authz.engine.explain import FailedCondition, Hit, describe_failures, describe_grants, describe_hits, refs
from orchestrator.authz.engine.inputs import (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Grant, PolicyInputs,
                     PolicySource, StatementRef)
from orchestrator.authz.engine.matching import ACCOUNT, DIRECT, EVERYONE, ROLE
from orchestrator.authz.engine.memo import DecisionMemo
from orchestrator.authz.engine.organization import has_guardrails, with_organization_context
from orchestrator.authz.engine.public import is_public
from orchestrator.authz.engine.request import ANONYMOUS_TYPE, SERVICE_TYPE, Principal, Request

__all__ = [
    "Engine", "Evaluation", "ServiceRules", "Rule", "Decision", "PolicyInputs", "PolicySource", "Grant",
    "StatementRef", "Principal", "Request", "PolicyError", "NO_PERMISSION_REQUIRED", "OWN",
    "allowed_by_identity", "allowed_by_role", "role_limited", "allowed_as_named", "limit_denial",
]

_RESOURCE_KINDS = ("resource", "key", "trust")
#: Layer of a decision a session policy limited (IAM User Guide, "Session policies").
SESSION_POLICY = "session-policy"
#: How a resource-policy statement names the caller when it allows on its own (same account).
OWN = _OWN = (DIRECT, EVERYONE)
#: Layer of a decision on an action that needs no permission.
NO_PERMISSION_REQUIRED = "no-permission-required"
# AWS STS API Reference, "GetCallerIdentity": "No permissions are required to perform this
# operation" and an explicit deny of sts:GetCallerIdentity does not stop it.
FREE_ACTIONS = frozenset({"sts:getcalleridentity"})


class Evaluation:
    """State of one evaluation: the request context and what the scan found."""

    __slots__ = ("request", "inputs", "context", "action", "missing", "failed",
                 "identity", "boundary", "session", "resource", "denies", "policies", "restricted", "guards")

    def __init__(self, request: Request, inputs: PolicyInputs, context: RequestContext | None = None,
                 action: str | None = None, policies: PolicyCache | None = None) -> None:
        self.request, self.inputs = request, inputs
        self.policies = policies if policies is not None else PolicyCache()
        self.context = context or RequestContext(request)
        self.action = action if action is not None else request.action.lower()
        self.missing: list[str] = []
        self.failed: list[FailedCondition] = []
        self.denies: list[Hit] = []
        self.identity = self._scan(inputs.identity) if inputs.identity else []
        self.boundary = self._scan(inputs.boundaries) if inputs.boundaries else []
        self.session = self._scan(inputs.session_policies) if inputs.session_policies else []
        policy = inputs.resource_policy
        self.resource = self._scan((policy,)) if policy is not None else []
        #: The grants RestrictPublicBuckets took away (the public policy's, for an outsider).
        self.restricted: list[Hit] = []
        if self.resource and self._restricted(policy):
            self.restricted, self.resource = self.resource, []
        #: SCPs, RCPs and the VPC endpoint policy (engine/guardrails.py), when the inputs have any.
        self.guards = Guardrails(self) if has_guardrails(inputs) else None

    def _restricted(self, policy: PolicySource | None) -> bool:
        """S3 User Guide, "Blocking public access to your Amazon S3 storage": RestrictPublicBuckets
        "restricts access to an access point or bucket with a public policy to only AWS service
        principals and authorized users within the bucket owner's account"; cross-account access,
        "including non-public delegation to specific accounts", is blocked."""
        if not self.inputs.restrict_public or policy is None or not is_public(policy.document):
            return False
        principal = self.request.principal
        return principal.type == ANONYMOUS_TYPE or principal.account != self.inputs.resource_account

    def _scan(self, sources: Sequence[PolicySource]) -> list[Hit]:
        allows: list[Hit] = []
        action, resource, principal = self.action, self.request.resource, self.request.principal
        context, missing, failed, denies = self.context, self.missing, self.failed, self.denies
        has_boundary = bool(self.inputs.boundaries)
        failing: list[Condition] = []
        for source in sources:
            # Only the statements whose Action element takes the action (worked out once per policy).
            for statement in self.policies.get(source.document, source.kind in _RESOURCE_KINDS).candidates(action):
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

    def session_ok(self) -> bool:
        """A session policy allows (IAM User Guide, "Session policies": the session's permissions
        are the intersection of the role's identity-based policies and the session policies, the
        inline one and the managed ones together); true when the session has none."""
        return not self.inputs.session_policies or self.is_root or bool(self.session)

    def limits_ok(self) -> bool:
        """The permissions boundary and the session policies both allow."""
        return self.boundary_ok() and self.session_ok()

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


#: A service's own decision once no explicit deny applied (a KMS key policy, a role trust policy).
Rule = Callable[["Evaluation"], Decision]


class ServiceRules(Protocol):
    """Which service rule, if any, decides a request (``orchestrator/authz/services/rules.py``)."""

    def rule(self, request: Request, inputs: PolicyInputs) -> Rule | None: ...


class Engine:
    """The engine, with what it keeps between requests: compiled policies and, for a caller that asks
    the same questions many times (the gate over a desired world, an access matrix), decisions."""

    __slots__ = ("rules", "policies", "decisions")

    def __init__(self, rules: ServiceRules | None = None, policies: PolicyCache | None = None,
                 decisions: DecisionMemo | None = None) -> None:
        self.rules = rules
        self.policies = policies if policies is not None else PolicyCache()
        self.decisions = decisions if decisions is not None else DecisionMemo()

    def evaluate(self, request: Request, inputs: PolicyInputs, asked: Hashable | None = None) -> Decision:
        """Decide ``request`` against ``inputs``; raises PolicyError for an unreadable policy.
        ``asked``: the question (memo.caller_question, memo.step_question: hashable), from a caller
        that asks the same questions many times: the decision is remembered and reused. Without it
        nothing is remembered: building and hashing the question costs a one-off request (simulate,
        the embedded gate over moto's ever-changing world) about a fifth of its time."""
        action = request.action.lower()
        if action in FREE_ACTIONS:
            return Decision(ALLOWED, NO_PERMISSION_REQUIRED, (), (),
                            f"{request.action} needs no permission and cannot be denied")
        if has_guardrails(inputs):  # the organization's and the endpoint's condition keys
            request = with_organization_context(request, inputs)
        if asked is None:
            return self._evaluate(request, inputs, RequestContext(request), action)
        made = self.decisions.recall(request, asked)
        if made is not None:
            return made
        context = RequestContext(request)
        context.reads = []
        decision = self._evaluate(request, inputs, context, action)
        self.decisions.remember(asked, tuple(context.reads), decision)
        return decision

    def recall(self, request: Request, asked: Hashable) -> Decision | None:
        """The decision remembered for ``asked`` whose lookups answer alike for ``request``."""
        return self.decisions.recall(request, asked)

    def _evaluate(self, request: Request, inputs: PolicyInputs, context: RequestContext, action: str) -> Decision:
        run = Evaluation(request, inputs, context, action, self.policies)
        if run.guards is not None:  # IAM User Guide, "Policy evaluation logic": denies, then RCPs, then SCPs
            capped = run.guards.explicit_deny(run) or (None if run.denies else run.guards.implicit_deny(run))
            if capped is not None:
                return capped
        if run.denies:
            return run.decide(EXPLICIT_DENY, "explicit-deny", run.denies,
                              f"{request.action} on {request.resource} is explicitly denied by {run.hits(run.denies)}")
        if request.principal.type == ANONYMOUS_TYPE:
            return _anonymous(run)
        if request.principal.type == SERVICE_TYPE:
            return _service(run)
        rule = self.rules.rule(request, inputs) if self.rules is not None else None
        if rule is not None:
            return rule(run)
        if run.cross_account:
            return _cross_account(run)
        return _same_account(run)

    def side_decisions(self, request: Request, inputs: PolicyInputs) -> dict[str, str]:
        """Decision of each side on its own: {"identity", "resource", "boundary"}.

        Backs SimulateCustomPolicy's ``EvalDecisionDetails`` ("how each policy type
        contributes to the final evaluation decision") for cross-account requests.
        """
        if request.action.lower() in FREE_ACTIONS:
            return {"identity": ALLOWED, "resource": ALLOWED, "boundary": ALLOWED}
        if has_guardrails(inputs):
            request = with_organization_context(request, inputs)
        run = Evaluation(request, inputs, policies=self.policies)
        deny_kinds = {source.kind for source, _, _ in run.denies}
        if deny_kinds & {"identity", "boundary", "session"}:
            identity = EXPLICIT_DENY
        else:
            identity = ALLOWED if run.identity_ok() and run.limits_ok() else IMPLICIT_DENY
        if deny_kinds & set(_RESOURCE_KINDS):
            resource = EXPLICIT_DENY
        else:
            resource = ALLOWED if run.resource else IMPLICIT_DENY
        if deny_kinds & {"boundary"}:
            boundary = EXPLICIT_DENY
        else:
            boundary = ALLOWED if run.boundary_ok() else IMPLICIT_DENY
        sides = {"identity": identity, "resource": resource, "boundary": boundary}
        if run.guards is not None:  # "scp", "rcp", "vpc-endpoint": those that apply to the request
            sides.update(run.guards.sides())
        return sides


def limit_denial(run: Evaluation, role: list[Hit] | None = None) -> Decision | None:
    """The denial of the first limit that does not allow (the permissions boundary, then the
    session policies), else None; ``role``: the resource-policy grant to the caller's role ARN that
    the limit stops."""
    if not run.boundary_ok():
        layer, what = "permissions-boundary", "the permissions boundary"
    elif not run.session_ok():
        layer, what = SESSION_POLICY, "no session policy"
    else:
        return None
    verb = "allows" if layer == SESSION_POLICY else "does not allow"
    if role:
        limited_by = "session policies" if layer == SESSION_POLICY else "permissions boundary"
        return run.decide(IMPLICIT_DENY, layer, (),
                          f"{run.grants(role)}, but {what} {verb} {run.who()} (a grant to a role ARN is limited"
                          f" by the session's {limited_by})")
    return run.decide(IMPLICIT_DENY, layer, (), f"{what} {verb} {run.who()}")


def _limit_hits(run: Evaluation) -> tuple[list[Hit], str]:
    """The boundary's and session policies' allowing statements, and a clause naming them."""
    hits = run.boundary + run.session
    return hits, (f"; {run.hits(hits)} allows it too" if hits else "")


def allowed_by_identity(run: Evaluation, extra_hits: list[Hit], layer: str) -> Decision:
    """Identity-side allow, subject to the permissions boundary and the session policies;
    ``extra_hits`` are the resource-policy statements that must allow too (delegation,
    cross-account)."""
    limited = limit_denial(run)
    if limited is not None:
        return limited
    action = run.request.action
    if run.identity:
        parts = [f"{action} is allowed by {run.hits(run.identity)}"]
    else:
        parts = [f"{action} is allowed for the account root user, which needs no identity-based policy"]
    if extra_hits:
        parts.append(run.grants(extra_hits))
    limits, clause = _limit_hits(run)
    return run.decide(ALLOWED, layer, run.identity + extra_hits + limits, "; ".join(parts) + clause)


def allowed_by_role(run: Evaluation, role: list[Hit], layer: str) -> Decision:
    """A grant to the caller's role ARN: limited by the session's permissions boundary and session
    policies only (callers check :meth:`Evaluation.limits_ok` first)."""
    limits, clause = _limit_hits(run)
    return run.decide(ALLOWED, layer, role + limits,
                      f"{run.request.action} is allowed by {run.grants(role, relative=True)}{clause}")


def role_limited(run: Evaluation, role: list[Hit]) -> Decision:
    """A grant to the caller's role ARN that its permissions boundary or session policies stop."""
    limited = limit_denial(run, role)
    assert limited is not None, "role_limited needs a limit that does not allow"
    return limited


def allowed_as_named(run: Evaluation, layer: str) -> tuple[Decision | None, list[Hit]]:
    """In the resource's own account: a resource-policy statement that names the caller itself (or
    "*") allows on its own; one that names the caller's role allows within the session's limits
    (boundary, session policies). The decision, if either allows, and the statements naming the role
    (looked for only when none names the caller itself)."""
    own = run.named(_OWN)
    if own:
        return run.decide(ALLOWED, layer, own, f"{run.request.action} is allowed by {run.grants(own, relative=True)}"), []
    role = run.named((ROLE,))
    if role and run.limits_ok():
        return allowed_by_role(run, role, layer), role
    return None, role


def _same_account(run: Evaluation) -> Decision:
    allowed, role = allowed_as_named(run, "resource-policy")
    if allowed is not None:
        return allowed
    if run.identity_ok():
        return allowed_by_identity(run, [], "identity-policy")
    if role:
        return role_limited(run, role)
    account = run.named((ACCOUNT,))
    if account:
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(account)}, but no identity-based policy allows {run.who()}")
    where = "identity-based or resource-based policy" if run.inputs.resource_policy else "identity-based policy"
    return run.decide(IMPLICIT_DENY, "identity-policy", (), f"no {where} allows {run.who()}")


def _anonymous(run: Evaluation) -> Decision:
    """An unsigned request: no identity-based policy can exist for it (IAM User Guide, "AWS JSON
    policy elements: Principal", anonymous users), so only a resource-policy statement naming
    ``"*"`` allows it, in any account."""
    everyone = run.named((EVERYONE,))
    if everyone:
        return run.decide(ALLOWED, "resource-policy", everyone,
                          f"{run.request.action} is allowed for anonymous requests by {run.grants(everyone, relative=True)}")
    if run.restricted:
        return run.decide(IMPLICIT_DENY, "block-public-access", (),
                          f"{run.hits(run.restricted)} is public and RestrictPublicBuckets limits it to principals of"
                          f" account {run.inputs.resource_account}, and an anonymous request is in no account")
    return run.decide(IMPLICIT_DENY, "resource-policy", (),
                      f"no resource-based policy grants {run.request.action} on {run.request.resource} to \"*\":"
                      " an anonymous request has no identity-based policies")


def _service(run: Evaluation) -> Decision:
    """An AWS service principal: it has no identity-based policies, so only a resource-based policy
    statement that names it (``{"Service": NAME}``) or ``"*"`` allows it (IAM User Guide, "AWS JSON
    policy elements: Principal", AWS service principals)."""
    named = run.named((DIRECT, EVERYONE))
    if named:
        return run.decide(ALLOWED, "resource-policy", named,
                          f"{run.request.action} is allowed for service {run.request.principal.arn} by"
                          f" {run.grants(named, relative=True)}")
    return run.decide(IMPLICIT_DENY, "resource-policy", (),
                      f"no resource-based policy grants {run.request.action} on {run.request.resource} to service"
                      f" {run.request.principal.arn}: an AWS service principal has no identity-based policies")


def _restricted_cross_account(run: Evaluation) -> Decision:
    return run.decide(IMPLICIT_DENY, "block-public-access", (),
                      f"{run.hits(run.restricted)} is public and RestrictPublicBuckets limits it to principals of"
                      f" account {run.inputs.resource_account}: {run.who()} is cross-account")


def _cross_account(run: Evaluation) -> Decision:
    account = run.inputs.resource_account
    if run.restricted:
        return _restricted_cross_account(run)
    if not run.resource:
        return run.decide(IMPLICIT_DENY, "resource-policy", (),
                          f"cross-account request: no resource policy in account {account} allows {run.who()}")
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"cross-account request: the resource policy allows it but no identity-based policy allows {run.who()}")
    return allowed_by_identity(run, run.resource, "resource-policy")
