"""Drift: desired against actual, property by property, in CloudFormation's drift vocabulary.

Both sides are normalised by the reconcilers (statements as sorted lists, single values as lists,
references and aliases resolved to ARNs); deepdiff then compares them with list order ignored.
Each difference has a resource, a property path, the expected and actual values and a kind
(ADD, REMOVE, NOT_EQUAL, as CloudFormation's DetectStackResourceDrift names them), and is
flagged when it widens access: a new Allow, a lost Deny, a `*` principal, a re-enabled key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.reconcile.observe import Pair

ADDED = ("dictionary_item_added", "iterable_item_added", "attribute_added")
REMOVED = ("dictionary_item_removed", "iterable_item_removed", "attribute_removed")
CHANGED = ("values_changed", "type_changes")


@dataclass(frozen=True)
class Difference:
    resource: str
    path: str
    expected: Any
    actual: Any
    kind: str  # ADD | REMOVE | NOT_EQUAL | MISSING
    widens_access: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "Resource": self.resource,
            "PropertyPath": self.path,
            "ExpectedValue": self.expected,
            "ActualValue": self.actual,
            "DifferenceType": self.kind,
            "WidensAccess": self.widens_access,
        }


def format_path(elements: list[Any]) -> str:
    text = ""
    for element in elements:
        text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else str(element))
    return text


def differences(pair: Pair) -> list[Difference]:
    """The drift of one resource; a missing resource is one difference of kind MISSING."""
    if pair.observed is None:
        return [Difference(pair.address, "", pair.desired, None, "MISSING")]
    expected = {k: v for k, v in pair.desired.items() if k not in pair.reconciler.write_only}
    actual = {k: v for k, v in pair.observed.properties.items() if k in expected}
    return compare(pair.address, expected, actual)


def compare(resource: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Every difference between two normalised property sets, list order ignored."""
    from deepdiff import DeepDiff

    tree = DeepDiff(expected, actual, ignore_order=True, view="tree", verbose_level=2)
    found: list[Difference] = []
    for category, levels in tree.items():
        kind = "ADD" if category in ADDED else "REMOVE" if category in REMOVED else "NOT_EQUAL"
        for level in levels:
            path = level.path(output_format="list")
            before = None if level.t1.__class__.__name__ == "NotPresent" else level.t1
            after = None if level.t2.__class__.__name__ == "NotPresent" else level.t2
            found.append(Difference(resource, format_path(path), before, after, kind, widens(path, kind, before, after)))
    return sorted(found, key=lambda d: (d.path, d.kind))


def widens(path: list[Any], kind: str, expected: Any, actual: Any) -> bool:
    """Whether the actual value grants more than the expected one."""
    if path and path[0] == "enabled":
        return actual is True and expected is False
    if kind == "ADD" and _is_statement(actual):
        return actual.get("Effect") == "Allow"
    if kind == "REMOVE" and _is_statement(expected):
        return expected.get("Effect") == "Deny"
    return _has_star_principal(actual) and not _has_star_principal(expected)


def _is_statement(value: Any) -> bool:
    return isinstance(value, dict) and "Effect" in value


def _has_star_principal(value: Any) -> bool:
    if isinstance(value, dict):
        principal = value.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in principal.get("AWS", [])):
            return True
        return any(_has_star_principal(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_star_principal(v) for v in value)
    return False
