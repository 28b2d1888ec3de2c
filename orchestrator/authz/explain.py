"""Human-readable explanation pieces for a :class:`Decision`.

Mirrors what IAM's policy simulator reports (MatchedStatements,
MissingContextValues) plus the condition tests that failed.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from .conditions import Condition
from .inputs import PolicySource, StatementRef
from .statement import Statement

__all__ = [
    "Hit", "FailedCondition", "statement_ref", "refs", "describe_failure", "describe_hits",
    "policy_label", "statement_label",
]

Hit = tuple[PolicySource, Statement, str]                 # source, statement, how the caller was named
FailedCondition = tuple[PolicySource, Statement, Condition]

_KIND_LABELS = {"key": "key policy", "resource": "resource policy"}


def policy_label(source: PolicySource) -> str:
    """e.g. "key policy", "identity policy tester/inline/read", "permissions boundary b"."""
    if source.kind in _KIND_LABELS:
        return _KIND_LABELS[source.kind]
    prefix = "permissions boundary" if source.kind == "boundary" else "identity policy"
    return f"{prefix} {source.name}" if source.name else prefix


def statement_label(statement: Statement) -> str:
    if statement.sid:
        return f'statement "{statement.sid}"'
    return f"statement #{statement.index}"


def statement_ref(source: PolicySource, statement: Statement) -> StatementRef:
    effect = "Allow" if statement.allow else "Deny"
    return StatementRef(source.kind, source.name, statement.sid, statement.index, effect)


def refs(hits: Iterable[Hit]) -> tuple[StatementRef, ...]:
    """StatementRefs of hits, without duplicates, in order."""
    seen: dict[tuple[int, int], StatementRef] = {}
    for source, statement, _ in hits:
        key = (id(source), statement.index)
        if key not in seen:
            seen[key] = statement_ref(source, statement)
    return tuple(seen.values())


def describe_failure(failure: FailedCondition) -> str:
    """e.g. 'StringEquals kms:ViaService (statement "AllowViaDynamo" of key policy)'."""
    source, statement, condition = failure
    return f"{condition.describe()} ({statement_label(statement)} of {policy_label(source)})"


def describe_hits(hits: Sequence[Hit]) -> str:
    """e.g. 'statement "DenyAll" of key policy'."""
    return ", ".join(f"{statement_label(s)} of {policy_label(src)}" for src, s, _ in hits)
