"""Human-readable explanation pieces for a :class:`Decision`.

Mirrors what IAM's policy simulator reports (MatchedStatements,
MissingContextValues) plus the condition tests that failed.  Statements are
named by Sid, else by their 1-based position (``statement #1`` is the first of
the policy's Statement list; :class:`StatementRef.index` stays 0-based).
Policies are named as a reader finds them: ``the key policy``, ``managed
policy AmazonDynamoDBFullAccess``, ``inline policy read of user tester``.
"""
from __future__ import annotations

import re
from typing import Sequence

from orchestrator import arns
from orchestrator.authz.engine.conditions import Condition
from orchestrator.authz.engine.context import RequestContext
from orchestrator.authz.engine.inputs import PolicySource, StatementRef
from orchestrator.authz.engine.matching import ACCOUNT, DIRECT, EVERYONE, ROLE
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.engine.statement import Statement

__all__ = [
    "Hit", "FailedCondition", "statement_ref", "refs", "describe_failures", "describe_hits",
    "describe_grants", "policy_label", "statement_label",
]

Hit = tuple[PolicySource, Statement, str]                 # source, statement, how the caller was named
FailedCondition = tuple[PolicySource, Statement, Condition]

_MANAGED = arns.MANAGED_POLICY_ARN
_INLINE = re.compile(r"^(?P<holder>.+?)(?: inline |/inline/)(?P<name>[^/]+)$")
_HOLDER_KINDS = ("user ", "role ", "group ")


def _holder(holder: str, caller_arn: str) -> str:
    """"user tester" for the holders the policy readers write: "user" / "role" (moto's world:
    the caller's own), "tester" (the desired state: a user), "group g"."""
    if holder in ("user", "role"):
        name = _caller_name(caller_arn)
        return f"{holder} {name}" if name else f"the {holder}"
    return holder if holder.startswith(_HOLDER_KINDS) else f"user {holder}"


def _caller_name(arn: str) -> str | None:
    parsed = arns.parse_arn(arn)
    if parsed is not None and parsed.resource_type == "assumed-role" and "/" in parsed.resource_id:
        return parsed.resource_id.split("/", 1)[0]  # a session is named by its role
    return arn.rsplit("/", 1)[-1] if "/" in arn else None


def _identity_label(name: str, caller_arn: str) -> str:
    managed = _MANAGED.match(name)
    if managed is not None:
        return f"managed policy {managed['name']}"
    inline = _INLINE.match(name)
    if inline is not None:
        return f"inline policy {inline.group('name')} of {_holder(inline.group('holder'), caller_arn)}"
    return f"identity policy {name}" if name else "identity policy"


def _resource_label(name: str) -> str:
    """"the bucket policy" for the gate's "bucket policy b", else "the resource policy"."""
    kind, found, _ = name.partition(" policy ")
    return f"the {kind} policy" if found and kind in ("bucket", "table") else "the resource policy"


def policy_label(source: PolicySource, principal: Principal | None = None) -> str:
    """e.g. "the key policy", "managed policy AmazonDynamoDBFullAccess", "permissions boundary b";
    ``principal`` (the caller) names the holder of its own inline policies."""
    return _label(source.kind, source.name, principal.arn if principal is not None else "")


def _label(kind: str, name: str, caller_arn: str) -> str:
    if kind == "key":
        return "the key policy"
    if kind == "trust":
        return "the role trust policy"
    if kind == "resource":
        return _resource_label(name)
    if kind == "session":  # a role session's session policy: the inline one, or a managed one by name
        managed = _MANAGED.match(name)
        return f"session policy {managed['name']}" if managed is not None else "the session policy"
    if kind in _GUARDRAIL_LABELS:  # engine/guardrails.py: "SCP DenyKms", "the VPC endpoint policy"
        return f"{_GUARDRAIL_LABELS[kind]} {name}" if name else f"the {_GUARDRAIL_LABELS[kind]}"
    if kind == "boundary":
        managed = _MANAGED.match(name)
        short = managed["name"] if managed is not None else name
        return f"permissions boundary {short}" if short else "the permissions boundary"
    return _identity_label(name, caller_arn)


#: Policy kinds of the organization and the endpoint (engine/organization.py) and their words.
_GUARDRAIL_LABELS = {"scp": "SCP", "rcp": "RCP", "vpc-endpoint": "VPC endpoint policy"}


def statement_label(statement: Statement) -> str:
    if statement.sid:
        return f'statement "{statement.sid}"'
    return f"statement #{statement.index + 1}"


_REFS_PER_STATEMENT = 64


def statement_ref(source: PolicySource, statement: Statement) -> StatementRef:
    """The (immutable) reference, made once per statement and policy name: decisions repeat them."""
    key = (source.kind, source.name)
    made = statement.refs.get(key)
    if made is None:
        effect = "Allow" if statement.allow else "Deny"
        made = StatementRef(source.kind, source.name, statement.sid, statement.index, effect)
        if len(statement.refs) >= _REFS_PER_STATEMENT:
            statement.refs.clear()
        statement.refs[key] = made
    return made


def refs(hits: Sequence[Hit]) -> tuple[StatementRef, ...]:
    """StatementRefs of hits, without duplicates, in order."""
    if not hits:
        return ()
    if len(hits) == 1:
        return (statement_ref(hits[0][0], hits[0][1]),)
    seen: dict[tuple[int, int], StatementRef] = {}
    for source, statement, _ in hits:
        key = (id(source), statement.index)
        if key not in seen:
            seen[key] = statement_ref(source, statement)
    return tuple(seen.values())


def _hit_label(source: PolicySource, statement: Statement, principal: Principal | None) -> str:
    """The statement in words, made once per policy and caller (kept on the compiled statement)."""
    key = (source.kind, source.name, principal.arn if principal is not None else "")
    made = statement.labels.get(key)
    if made is None:
        if len(statement.labels) >= _REFS_PER_STATEMENT:
            statement.labels.clear()
        made = statement.labels[key] = f"{statement_label(statement)} of {policy_label(source, principal)}"
    return made


def describe_hits(hits: Sequence[Hit], principal: Principal | None = None) -> str:
    """e.g. 'statement "DenyAll" of the key policy, statement #1 of managed policy P'."""
    if len(hits) == 1:
        return _hit_label(hits[0][0], hits[0][1], principal)
    labels = dict.fromkeys(_hit_label(source, statement, principal) for source, statement, _ in hits)
    return ", ".join(labels)


_NAMING_ORDER = (DIRECT, EVERYONE, ROLE, ACCOUNT)


def _naming(kind: str, action: str, account: str) -> str:
    if kind == ACCOUNT:
        return f"delegates {action} to account {account}"
    if kind == DIRECT:
        return "names the principal"
    return 'names every principal ("*")' if kind == EVERYONE else "names the principal's role"


def describe_grants(hits: Sequence[Hit], action: str, principal: Principal, relative: bool = False) -> str:
    """How resource-policy statements name ``principal`` (a statement names it by account only
    when that is its own account), e.g. 'statement "EnableIAM" of the key
    policy delegates kms:Decrypt to account 123456789012' (``relative``: '..., which delegates ...')."""
    which = ", which" if relative else ""
    if len(hits) == 1:      # the common case: one statement names the caller
        source, statement, kind = hits[0]
        return f"{_hit_label(source, statement, principal)}{which} {_naming(kind, action, principal.account)}"
    by_kind: dict[str, list[Hit]] = {}
    for hit in hits:
        by_kind.setdefault(hit[2], []).append(hit)
    parts = [f"{describe_hits(by_kind[kind], principal)}{which} {_naming(kind, action, principal.account)}"
             for kind in _NAMING_ORDER if kind in by_kind]
    return (", and " if relative else "; ").join(parts)


def describe_failures(failures: Sequence[FailedCondition], context: RequestContext) -> tuple[str, ...]:
    """One line per statement that did not apply because of its conditions, e.g.
    'statement "AllowViaDynamo" of the key policy did not apply: StringEquals kms:ViaService
    (expected "dynamodb.us-east-1.amazonaws.com", actual absent)'."""
    grouped: dict[tuple[int, int], tuple[str, list[str]]] = {}
    for source, statement, condition in failures:
        key = (id(source), statement.index)
        if key not in grouped:
            grouped[key] = (_hit_label(source, statement, context.principal), [])
        text = condition.describe(context.get(condition.key_l))
        if text not in grouped[key][1]:
            grouped[key][1].append(text)
    return tuple(f"{label} did not apply: {' and '.join(tests)}" for label, tests in grouped.values())
