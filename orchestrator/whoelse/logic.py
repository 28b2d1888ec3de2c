"""Whether the request is allowed, as one formula, mirroring ``engine/evaluate.py``, the guardrails
(``engine/guardrails.py``) and the services' rules (``services/rules.py``, ``kms_key_policy.py``,
``sts_trust_policy.py``, ``kms_grants.py``):

1. an explicit deny anywhere (identity, boundary, resource, key or trust policy, SCP, RCP, endpoint
   policy) denies (IAM User Guide, "Policy evaluation logic");
2. every level of the resource account's RCPs must allow (member accounts, the RCP services, not
   service-linked roles, not kms:RetireGrant), every level of the caller's account's SCPs must allow
   (member accounts' IAM principals, not service-linked roles), and the VPC endpoint's policy must
   allow (Organizations User Guide, "SCP evaluation", "RCP evaluation"; PrivateLink Guide, "Control
   access to VPC endpoints using endpoint policies");
3. an anonymous caller needs a grant to ``"*"``, a service a grant naming it or ``"*"``;
4. the resource's own rule: a KMS key policy must allow (naming the caller, or its account, which
   delegates to IAM), or a grant (AWS KMS Developer Guide, "Key policies in AWS KMS", "Grants in AWS
   KMS"); a role trust policy must allow; otherwise the same account needs an identity-based policy
   or a resource policy naming the caller, and another account both sides (IAM User Guide,
   "Cross-account policy evaluation logic").

``kms:RetireGrant`` on a key is decided by the grant it retires: outside the encoding (a gap).
"""
from __future__ import annotations

from typing import Sequence

import z3

from orchestrator import arns
from orchestrator.authz.engine.evaluate import FREE_ACTIONS
from orchestrator.authz.engine.inputs import Grant
from orchestrator.authz.engine.organization import RCP_SERVICES, Membership
from orchestrator.authz.engine.public import is_public
from orchestrator.authz.services.kms_key_policy import CROSS_ACCOUNT_OPERATIONS
from orchestrator.authz.services.sts_trust_policy import TRUST_ACTIONS
from orchestrator.whoelse.gaps import Gaps
from orchestrator.whoelse.identity import IdentitySide
from orchestrator.whoelse.keys import Endpoint, Keys
from orchestrator.whoelse.question import Question
from orchestrator.whoelse.statements import Scan, StatementEncoder
from orchestrator.whoelse.symbols import ANONYMOUS, SERVICE, SESSION, PrincipalVars
from orchestrator.whoelse.text import sval

__all__ = ["allowed", "service_linked", "EC_PREFIX"]

_CROSS_ACCOUNT_ACTIONS = frozenset(f"kms:{operation}".lower() for operation in CROSS_ACCOUNT_OPERATIONS)
EC_PREFIX = "kms:encryptioncontext:"
_TRUE, _FALSE = z3.BoolVal(True), z3.BoolVal(False)


def service_linked(p: PrincipalVars) -> z3.BoolRef:
    """``guardrails.is_service_linked_role``: a session of a role under ``/aws-service-role/`` or
    named ``AWSServiceRoleFor...``."""
    return z3.And(p.is_(SESSION), z3.Or(z3.PrefixOf(sval("aws-service-role/"), p.role_path),
                                        z3.PrefixOf(sval("AWSServiceRoleFor"), p.role)))


def _levels_ok(encoder: StatementEncoder, levels: Sequence[Sequence], resource_based: bool) -> z3.BoolRef:
    """Every level has an allowing policy and no policy of any level denies."""
    oks, denies = [], []
    for sources in levels:
        scan = encoder.scan(sources, resource_based)
        oks.append(scan.allowed())
        denies.append(scan.deny)
    return z3.And(*oks, z3.Not(z3.Or(*denies))) if oks else _TRUE


def guardrails_ok(question: Question, action: str, p: PrincipalVars, endpoint: Endpoint,
                  encoder: StatementEncoder) -> z3.BoolRef:
    parts: list[z3.BoolRef] = []
    slr = service_linked(p)
    org = question.resource_org
    if (org is not None and not org.management and action.partition(":")[0] in RCP_SERVICES
            and action != "kms:retiregrant"):
        parts.append(z3.Or(slr, _levels_ok(encoder, [level.rcps for level in org.levels], True)))
    for account, membership in sorted(question.organizations.items()):
        if not membership.management:
            applies = z3.And(p.iam, p.account == sval(account), z3.Not(slr))
            parts.append(z3.Implies(applies, _scp_ok(encoder, membership)))
    for index, declared in enumerate(question.endpoints):
        parts.append(z3.Implies(endpoint.choice == index, _levels_ok(encoder, [[declared.source()]], True)))
    return z3.And(*parts) if parts else _TRUE


def _scp_ok(encoder: StatementEncoder, membership: Membership) -> z3.BoolRef:
    return _levels_ok(encoder, [level.scps for level in membership.levels], False)


class _Sides:
    """The pieces the rules combine (``Evaluation``'s, as formulas)."""

    def __init__(self, resource: Scan, restricted: z3.BoolRef, identity: IdentitySide, cross: z3.BoolRef) -> None:
        usable = z3.Not(restricted)
        self.own = z3.And(usable, resource.named("direct", "everyone"))
        self.everyone = z3.And(usable, resource.named("everyone"))
        self.role = z3.And(usable, resource.named("role"))
        self.any = z3.And(usable, resource.allowed())
        self.identity_ok, self.limits_ok, self.cross = identity.allow, identity.boundary_ok, cross

    def named_here(self) -> z3.BoolRef:
        """``allowed_as_named``: a grant to the caller (or "*"), or to its role within its limits."""
        return z3.Or(self.own, z3.And(self.role, self.limits_ok))

    def both_sides(self) -> z3.BoolRef:
        return z3.And(self.any, self.identity_ok, self.limits_ok)

    def general(self) -> z3.BoolRef:
        same = z3.Or(self.named_here(), z3.And(self.identity_ok, self.limits_ok))
        return z3.If(self.cross, self.both_sides(), same)

    def trust(self) -> z3.BoolRef:
        return z3.Or(z3.And(z3.Not(self.cross), self.named_here()), self.both_sides())

    def key(self, action: str, grant: z3.BoolRef) -> z3.BoolRef:
        refused = z3.And(self.cross, z3.BoolVal(action not in _CROSS_ACCOUNT_ACTIONS))
        allowed = z3.Or(z3.And(z3.Not(self.cross), self.named_here()), self.both_sides(), grant)
        return z3.And(z3.Not(refused), allowed)

    def no_key(self, action: str, grant: z3.BoolRef) -> z3.BoolRef:
        refused = z3.And(self.cross, z3.BoolVal(action not in _CROSS_ACCOUNT_ACTIONS))
        return z3.And(z3.Not(refused), grant)


def allowed(question: Question, action: str, p: PrincipalVars, keys: Keys, endpoint: Endpoint,
            encoder: StatementEncoder, identity: IdentitySide, gaps: Gaps) -> z3.BoolRef:
    """The formula "the concrete engine allows this request"."""
    action = action.lower()
    if action in FREE_ACTIONS:
        return _TRUE
    policy = question.resource_policy
    resource = encoder.scan([policy] if policy is not None else [], has_boundary=identity.has_boundary)
    outsider = z3.Or(p.is_(ANONYMOUS), p.account != sval(question.resource_account or ""))
    if question.resource_account is None:
        outsider = _TRUE
    restricted = z3.And(z3.BoolVal(question.restrict_public and policy is not None and is_public(policy.document)),
                        outsider)
    cross = _FALSE if question.resource_account is None else p.account != sval(question.resource_account)
    sides = _Sides(resource, restricted, identity, cross)
    deny = z3.Or(resource.deny, identity.deny)
    guards = guardrails_ok(question, action, p, endpoint, encoder)
    ruled = _rule(question, action, sides, p, keys, gaps)
    decided = z3.If(p.is_(ANONYMOUS), sides.everyone, z3.If(p.is_(SERVICE), sides.own, ruled))
    return z3.And(guards, z3.Not(deny), decided)


def _rule(question: Question, action: str, sides: _Sides, p: PrincipalVars, keys: Keys, gaps: Gaps) -> z3.BoolRef:
    """``ServiceRulebook.rule``, the rule chosen from the action, the resource and its policy."""
    resource, policy = question.resource, question.resource_policy
    kms_key = arns.KMS_KEY_ARN.match(resource) is not None
    if action == "kms:retiregrant" and kms_key:
        return gaps.opaque("kms:RetireGrant on a key is decided by the grant it retires (not encoded)")
    if policy is None:
        if kms_key:
            return sides.no_key(action, grants_allow(question, action, p, keys, gaps))
        if action in TRUST_ACTIONS and arns.ROLE_ARN.match(resource):
            return _FALSE
        return sides.general()
    if policy.kind == "key":
        return sides.key(action, grants_allow(question, action, p, keys, gaps))
    if policy.kind == "trust":
        return sides.trust()
    return sides.general()


def grants_allow(question: Question, action: str, p: PrincipalVars, keys: Keys, gaps: Gaps) -> z3.BoolRef:
    """``kms_grants.matching_grants``: a grant of the key to the caller (or its role) for the
    operation, whose encryption-context constraints the request's context meets."""
    service, _, operation = action.partition(":")
    if service != "kms" or not operation:
        return _FALSE
    found = []
    key_id = arns.key_id_of(question.resource)
    for grant in question.grants:
        if arns.key_id_of(grant.key_arn) != key_id or operation not in {op.lower() for op in grant.operations}:
            continue
        found.append(z3.And(_grantee(grant.grantee_principal, p), _context_ok(grant, keys, gaps)))
    return z3.Or(*found) if found else _FALSE


def _grantee(grantee: str, p: PrincipalVars) -> z3.BoolRef:
    named = p.arn == sval(grantee)
    role = arns.ROLE_ARN.match(grantee)
    if role is None or role["partition"] != "aws":
        return named
    return z3.Or(named, p.session_of(role["account"], role["name"]))


def _context_ok(grant: Grant, keys: Keys, gaps: Gaps) -> z3.BoolRef:
    parts = []
    for pairs, exact in ((grant.encryption_context_equals, True), (grant.encryption_context_subset, False)):
        if pairs is None:
            continue
        for name, value in pairs.items():
            if keys.ec_spelling(name) != name:
                return gaps.opaque(f"grant {grant.name}: encryption context key {name} is spelled two ways")
            slot = keys.get(EC_PREFIX + name.lower()).slots[0]
            parts.append(z3.And(slot.present, slot.value == sval(str(value))))
        if exact:
            wanted = {name.lower() for name in pairs}
            parts += [z3.Not(var.present) for key, var in keys.made.items()
                      if key.startswith(EC_PREFIX) and key[len(EC_PREFIX):] not in wanted]
    return z3.And(*parts) if parts else _TRUE
