"""The caller's identity side: a declared user's or role's identity-based policies and permissions
boundary, and, for any other user or session, the worst case: its policies allow everything and
nothing bounds it. The root user needs no identity-based policy in its own account and has no
boundary (``Evaluation.identity_ok`` / ``boundary_ok``); anonymous callers and services have no
identity side at all."""
from __future__ import annotations

import json
from dataclasses import dataclass

import z3

from orchestrator import arns
from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.whoelse.question import DeclaredPrincipal
from orchestrator.whoelse.statements import StatementEncoder
from orchestrator.whoelse.symbols import ROOT, SESSION, USER, PrincipalVars
from orchestrator.whoelse.text import sval

__all__ = ["ALLOW_EVERYTHING", "Identity", "IdentitySide", "identity_of", "declared_parts"]

#: The identity side of an undeclared principal, taken at its worst (docs/whoelse.md).
ALLOW_EVERYTHING = PolicySource("identity", "undeclared identity (taken to allow everything)", json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


@dataclass(frozen=True)
class Identity:
    """A declared principal read apart: its type (USER or SESSION: every session of a role), its
    account, name and path (``a/b/`` or empty)."""

    declared: DeclaredPrincipal
    kind: int
    account: str
    name: str
    path: str


def declared_parts(declared: DeclaredPrincipal) -> Identity | None:
    for pattern, kind, word in ((arns.IAM_USER_ARN, USER, ":user/"), (arns.ROLE_ARN, SESSION, ":role/")):
        found = pattern.match(declared.arn)
        if found is not None:
            rest = declared.arn.split(word, 1)[1]
            return Identity(declared, kind, found["account"], found["name"], rest[:len(rest) - len(found["name"])])
    return None


def identity_of(identity: Identity, p: PrincipalVars) -> z3.BoolRef:
    """The caller is this declared user, or a session of this declared role."""
    name = p.name if identity.kind == USER else p.role
    return z3.And(p.is_(identity.kind), p.account == sval(identity.account), name == sval(identity.name))


@dataclass(frozen=True)
class IdentitySide:
    allow: z3.BoolRef
    deny: z3.BoolRef
    boundary_ok: z3.BoolRef
    has_boundary: z3.BoolRef
    declared: tuple[tuple[Identity, z3.BoolRef], ...]


def identity_side(identities: list[Identity], p: PrincipalVars, encoder: StatementEncoder) -> IdentitySide:
    matched = tuple((identity, identity_of(identity, p)) for identity in identities)
    allows, denies, bounds, bounded = [], [], [], []
    for identity, here in matched:
        policies = encoder.scan(identity.declared.identity)
        limits = encoder.scan(identity.declared.boundaries)
        ok = z3.And(*[limits.by_source(source) for source in identity.declared.boundaries])
        allows.append(z3.And(here, policies.allowed()))
        denies.append(z3.And(here, z3.Or(policies.deny, limits.deny)))
        bounds.append(z3.Implies(here, ok))
        if identity.declared.boundaries:
            bounded.append(here)
    undeclared = z3.And(z3.Or(p.is_(USER), p.is_(SESSION)), z3.Not(z3.Or(*[here for _, here in matched])))
    return IdentitySide(
        allow=z3.Or(p.is_(ROOT), undeclared, *allows),
        deny=z3.Or(*denies) if denies else z3.BoolVal(False),
        boundary_ok=z3.Or(p.is_(ROOT), z3.And(*bounds)),
        has_boundary=z3.Or(*bounded) if bounded else z3.BoolVal(False),
        declared=matched)


__all__ += ["identity_side"]
