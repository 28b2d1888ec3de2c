"""A statement as a formula (IAM User Guide, "IAM JSON policy elements": Effect, Action, Resource,
Principal / NotPrincipal, Condition), read from the concrete engine's own compiled statements
(``engine/statement.py``), so both engines parse a policy alike.

The action is one of the question's and the resource is fixed, so Action/NotAction and a Resource
without policy variables are decided here in Python; Principal/NotPrincipal and the conditions are
formulas. A resource-based statement names the caller in one of four ways (``engine/matching.py``):
directly, as ``"*"``, as its role, or as its account, each a formula (:class:`Named`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import z3

from orchestrator import arns
from orchestrator.authz.engine.documents import PolicyCache
from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.matching import PrincipalMatcher, compile_glob
from orchestrator.authz.engine.statement import Statement
from orchestrator.authz.engine.variables import VARIABLE, Template, static_segments
from orchestrator.whoelse.conditions import encode_condition, resolve_variable
from orchestrator.whoelse.gaps import Gaps
from orchestrator.whoelse.keys import Keys
from orchestrator.whoelse.symbols import ROOT, SERVICE, PrincipalVars
from orchestrator.whoelse.text import sval

__all__ = ["Named", "Scan", "StatementEncoder", "RESOURCE_KINDS"]

RESOURCE_KINDS = ("resource", "key", "trust")
_FALSE = z3.BoolVal(False)


@dataclass(frozen=True)
class Named:
    """How a resource-based statement names the caller (each already with its conditions)."""

    direct: z3.BoolRef
    everyone: z3.BoolRef
    role: z3.BoolRef
    account: z3.BoolRef

    def any(self) -> z3.BoolRef:
        return z3.Or(self.direct, self.everyone, self.role, self.account)

    def when(self, applies: z3.BoolRef) -> Named:
        return Named(z3.And(applies, self.direct), z3.And(applies, self.everyone), z3.And(applies, self.role),
                     z3.And(applies, self.account))


@dataclass
class Scan:
    """What one set of policies holds for the request: each allowing statement's formula (and how it
    names the caller, for a resource-based one), and whether any Deny applies."""

    allows: list[tuple[PolicySource, Statement, Named]]
    deny: z3.BoolRef

    def allowed(self) -> z3.BoolRef:
        return z3.Or(*[named.any() for _, _, named in self.allows]) if self.allows else _FALSE

    def named(self, *kinds: str) -> z3.BoolRef:
        parts = [getattr(named, kind) for _, _, named in self.allows for kind in kinds]
        return z3.Or(*parts) if parts else _FALSE

    def by_source(self, source: PolicySource) -> z3.BoolRef:
        parts = [named.any() for found, _, named in self.allows if found is source]
        return z3.Or(*parts) if parts else _FALSE


class StatementEncoder:
    """Encodes the statements of policies for one action and resource."""

    def __init__(self, keys: Keys, principal: PrincipalVars, gaps: Gaps, resource: str, action: str,
                 policies: PolicyCache) -> None:
        self.keys, self.p, self.gaps = keys, principal, gaps
        self.resource, self.action, self.policies = resource, action.lower(), policies

    def scan(self, sources: Sequence[PolicySource], resource_based: bool | None = None,
             has_boundary: z3.BoolRef = _FALSE) -> Scan:
        """``resource_based``: how the policies are compiled (None: by their kind, as the engine)."""
        allows: list[tuple[PolicySource, Statement, Named]] = []
        denies: list[z3.BoolRef] = []
        for source in sources:
            based = source.kind in RESOURCE_KINDS if resource_based is None else resource_based
            for statement in self.policies.get(source.document, based).candidates(self.action):
                named = self.statement(source, statement, has_boundary)
                if named is None:
                    continue
                if statement.allow:
                    allows.append((source, statement, named))
                else:
                    denies.append(named.any())
        return Scan(allows, z3.Or(*denies) if denies else _FALSE)

    def statement(self, source: PolicySource, statement: Statement, has_boundary: z3.BoolRef) -> Named | None:
        """The statement's formulas for the action (None: it cannot apply: its resource does not match)."""
        where = f"statement {statement.sid or statement.index} of {source.kind} policy {source.name}"
        resource = self._resource(statement, where)
        if resource is None:
            return None
        conditions = [encode_condition(c, self.keys, self.gaps, where) for c in statement.conditions]
        applies = z3.And(resource, *conditions) if conditions else resource
        if statement.principal is None:
            return Named(applies, _FALSE, _FALSE, _FALSE)
        if statement.not_principal:
            excluded = _excludes(statement.principal, self.p)
            return Named(_FALSE, z3.And(applies, z3.Or(has_boundary, z3.Not(excluded))), _FALSE, _FALSE)
        named = principal_kinds(statement.principal, self.p)
        strangers = sorted(arn for arn in statement.principal.arns if not _quantified(arn))
        if strangers:  # a caller of a kind not quantified over (a federated user ...): it may be let in
            gap = self.gaps.opaque(f"{where}: Principal {strangers[0]} is a kind of caller outside the encoding")
            named = Named(z3.Or(named.direct, gap), named.everyone, named.role, named.account)
        return named.when(applies)

    def _resource(self, statement: Statement, where: str) -> z3.BoolRef | None:
        static = statement.static_resource
        if static is not None:
            return z3.BoolVal(True) if static.match(self.resource) != statement.not_resource else None
        if statement.resources is None:
            return z3.BoolVal(True)
        matches = [resource_template(template, self.resource, self.keys) for template in statement.resources.templates]
        if any(found is None for found in matches):
            return self.gaps.opaque(f"{where}: a Resource with more than one policy variable is outside the encoding")
        matched = z3.Or(*matches)
        return z3.Not(matched) if statement.not_resource else matched


def resource_template(template: Template, resource: str, keys: Keys) -> z3.BoolRef | None:
    """Whether the fixed ``resource`` matches a Resource value with one policy variable
    (``ResourceMatcher.matches``): the variable's text (matched literally) is some piece of the
    resource between a prefix and a suffix that match the globs around it. None: more than one
    variable."""
    variables = [index for index, part in enumerate(template) if part[0] == VARIABLE]
    if not variables:
        return z3.BoolVal(compile_glob((static_segments(template),))(resource))
    if len(variables) > 1:
        return None
    at = variables[0]
    _, key, default, _ = template[at]
    before = compile_glob((static_segments(template[:at]),))
    after = compile_glob((static_segments(template[at + 1:]),))
    resolved = resolve_variable(key, default, keys)
    if resolved is None:
        return None
    ok, text = resolved
    pieces = {resource[start:end] for start in range(len(resource) + 1) if before(resource[:start])
              for end in range(start, len(resource) + 1) if after(resource[end:])}
    return z3.And(ok, z3.Or(*[text == sval(piece) for piece in sorted(pieces)])) if pieces else z3.BoolVal(False)


def _quantified(arn: str) -> bool:
    """Whether a Principal ARN can only name callers the encoding quantifies over: users, roles and
    their sessions, root users, the anonymous caller; or none at all (a wildcard inside an ARN is
    matched literally, as AWS does not expand it: "AWS JSON policy elements: Principal")."""
    return arn == "anonymous" or "*" in arn or "?" in arn or any(pattern.match(arn) is not None for pattern in (
        arns.IAM_USER_ARN, arns.ROLE_ARN, arns.SESSION_ARN, arns.ROOT_ARN))


def _among(value: z3.SeqRef, texts: Sequence[str]) -> z3.BoolRef:
    return z3.Or(*[value == sval(t) for t in sorted(texts)]) if texts else _FALSE


def principal_kinds(matcher: PrincipalMatcher, p: PrincipalVars) -> Named:
    """``PrincipalMatcher.match`` as formulas: the strongest way it names the caller wins."""
    in_accounts = _among(p.account, matcher.accounts)
    listed_role = _among(p.arn, matcher.role_arns)
    listed_other = _among(p.arn, matcher.arns - matcher.role_arns)
    sessions = [p.session_of(account, name) for account, name in sorted(matcher.roles)]
    service = p.is_(SERVICE)
    direct = z3.If(service, _among(p.arn, matcher.services), z3.Or(listed_other, z3.And(p.is_(ROOT), in_accounts)))
    everyone = z3.And(z3.Not(direct), z3.BoolVal(matcher.everyone))
    role = z3.And(z3.Not(service), z3.Not(direct), z3.Not(everyone), z3.Or(listed_role, *sessions))
    account = z3.And(z3.Not(service), z3.Not(direct), z3.Not(everyone), z3.Not(role), in_accounts)
    return Named(direct, everyone, role, account)


def _excludes(matcher: PrincipalMatcher, p: PrincipalVars) -> z3.BoolRef:
    """``PrincipalMatcher.excludes`` (NotPrincipal)."""
    if matcher.everyone:
        return z3.BoolVal(True)
    account_listed = _among(p.account, matcher.accounts)
    listed = _among(p.arn, matcher.arns)
    return z3.If(p.is_(ROOT), z3.Or(account_listed, listed), z3.And(account_listed, listed))
