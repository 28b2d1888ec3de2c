"""Whether a drift difference widens access, decided from what the policy language means.

IAM User Guide, "Policy evaluation logic": a request is allowed when an Allow statement of a
policy in force matches it and no Deny does. A difference widens access when it can make an
Allow match more requests, a Deny match fewer, or put more policies in force. Within a statement
("IAM JSON policy element reference"): `Action`, `Resource` and `Principal` list what matches, so
one more value matches more; `NotAction`, `NotResource` and `NotPrincipal` list what is excluded,
so one more value matches less; condition operators and keys are ANDed, so one more matches
less, while the values of one key are ORed, so one more matches more, unless the operator is a
negated one (`StringNotEquals`: "none of these"), where it matches less ("Creating a condition
with multiple keys or values").

Outside statements: an attached managed policy, a group membership or an access key the
scenario does not declare puts more in force; losing or changing a permissions boundary lifts a
limit ("Permissions boundaries for IAM entities"); a KMS grant the scenario does not declare
allows more ("Grants in AWS KMS"); a key enabled again can be used again (a key
whose deletion is cancelled comes back disabled: that alone widens nothing); encryption at rest
no longer under a customer managed key (a table's, a bucket's, a seed object's) no longer needs
the key policy to allow.
Where the meaning cannot be told from the difference alone (a value replaced by another, an
element added or removed whole) it counts as widening: a false alarm costs a look, a missed one
trust.

Drift's access section decides widening without reading shapes: the desired state's access matrix
against the observed world's (orchestrator/analysis/observed.py), cell by cell; a cell allowed in
the world and denied in the desired state is access gained (`access_widens`), whatever the change
that did it (an inline `s3:*` policy, a key policy statement, a lost Deny).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MATCHING = frozenset({"Action", "Resource", "Principal"})
EXCLUDING = frozenset({"NotAction", "NotResource", "NotPrincipal"})
#: Properties whose every added value puts more in force: the reconcilers' names for them.
GRANTING = frozenset({"managed_policies", "groups", "access_keys"})


@dataclass(frozen=True)
class Enclosing:
    """The policy statement a difference lies in, on each side, and the path below it."""

    expected: dict[str, Any] | None
    actual: dict[str, Any] | None
    within: tuple[Any, ...]


def widens(path: list[Any], kind: str, expected: Any, actual: Any, enclosing: Enclosing | None = None) -> bool:
    """Whether the actual value can grant more than the expected one."""
    head = path[0] if path else None
    if head == "enabled":
        return actual is True and expected is False
    if head == "pending_deletion":
        # KMS Developer Guide, "Deleting AWS KMS keys": a cancelled key is Disabled, so a cancel
        # alone lets nobody use the key (re-enabling it is the `enabled` difference, which widens);
        # a deletion scheduled out of band takes the key out of use.
        return False
    if head == "grants":
        return _grant_widens(path[1:], kind, expected)
    if head in GRANTING:
        return kind != "REMOVE"
    if head == "permissions_boundary":
        return expected is not None
    if "encryption" in path:
        return _encryption_widens(path[path.index("encryption") + 1:], expected, actual)
    if enclosing is not None and enclosing.within:
        return _within_statement(enclosing, kind, actual)
    allows, denies = _statements(actual, "Allow"), _statements(expected, "Deny")
    if allows or denies or _statements(actual, "Deny") or _statements(expected, "Allow"):
        return (bool(allows) and kind != "REMOVE") or (bool(denies) and kind != "ADD")
    return _has_star_principal(actual) and not _has_star_principal(expected)


def access_widens(expected_allowed: bool, actual_allowed: bool) -> bool:
    """A cell of the access matrix the world allows and the desired state does not (IAM User
    Guide, "Policy evaluation logic": the engine's decision for the same request on each side)."""
    return actual_allowed and not expected_allowed


def _encryption_widens(below: list[Any], expected: Any, actual: Any) -> bool:
    """A table, bucket or object no longer under a customer managed key is read without the key
    policy's allow (KMS Developer Guide, "AWS managed keys": their policies allow every principal
    of the account through the service); another customer key's policy cannot be told: widening."""
    if below and below[0] == "type":
        return expected == "customer-managed" and actual != "customer-managed"
    if below:
        return expected is not None  # another key (or none) in place of the declared one
    before = (expected or {}).get("type") if isinstance(expected, dict) else expected
    after = (actual or {}).get("type") if isinstance(actual, dict) else actual
    return before == "customer-managed" and (after != "customer-managed" or expected != actual)


def _grant_widens(path: list[Any], kind: str, expected: Any) -> bool:
    """KMS Developer Guide, "Grants in AWS KMS": grants only allow. A grant more (or one more
    operation) allows more; one fewer allows less; constraints only narrow, so a new constraint
    where there was none narrows and any other change to them cannot be told (counts as widening)."""
    if len(path) <= 1 or path[1] == "operations":
        return kind != "REMOVE"
    if path[1] == "constraints":
        return not (kind == "NOT_EQUAL" and len(path) == 2 and expected is None)
    return True


def _within_statement(enclosing: Enclosing, kind: str, actual: Any) -> bool:
    element = enclosing.within[0]
    if element == "Effect":
        return actual == "Allow"
    if element == "Sid":
        return False
    statement = enclosing.expected if kind == "REMOVE" else enclosing.actual
    grows = _matches_more(enclosing.within, kind)
    if grows is None:
        return True
    return grows if (statement or {}).get("Effect") == "Allow" else not grows


def _matches_more(within: tuple[Any, ...], kind: str) -> bool | None:
    """Whether the statement now matches more requests (None: cannot tell)."""
    if kind == "NOT_EQUAL":
        return None
    element = within[0]
    if element == "Condition":
        if len(within) <= 3:  # the block, an operator or a key: one more restriction, or one fewer
            return kind == "REMOVE"
        return (kind == "ADD") != _negated(str(within[1]))
    if len(within) == 1:  # the element itself appeared or went: Action became NotAction, say
        return None
    if element in MATCHING:
        return kind == "ADD"
    if element in EXCLUDING:
        return kind == "REMOVE"
    return None


def _negated(operator: str) -> bool:
    """StringNotEquals, ArnNotLike, NotIpAddress, ... with or without ForAllValues: or IfExists."""
    return "Not" in operator.rpartition(":")[2]


def _statements(value: Any, effect: str) -> list[dict[str, Any]]:
    """The statements of `effect` anywhere in value (a statement, a document, a map of them)."""
    if isinstance(value, dict):
        if "Effect" in value:
            return [value] if value.get("Effect") == effect else []
        return [s for v in value.values() for s in _statements(v, effect)]
    if isinstance(value, list):
        return [s for v in value for s in _statements(v, effect)]
    return []


def _has_star_principal(value: Any) -> bool:
    if isinstance(value, dict):
        principal = value.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in principal.get("AWS", [])):
            return True
        return any(_has_star_principal(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_star_principal(v) for v in value)
    return False
