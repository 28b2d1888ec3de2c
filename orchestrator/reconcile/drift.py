"""Drift: desired against actual, property by property, in CloudFormation's drift vocabulary.

Both sides are normalised by the reconcilers (statements as sorted lists, single values as lists,
references and aliases resolved to ARNs); deepdiff then compares them with list order ignored.
Each difference has a resource, a property path, the expected and actual values and a kind
(ADD, REMOVE, NOT_EQUAL, as CloudFormation's DetectStackResourceDrift names them), and is
flagged when it widens access (`orchestrator.reconcile.widening`): a new Allow in any policy,
key, table or identity, a lost Deny, a new attachment, group membership or access key, a
re-enabled key. A reconciler's `observed_only` properties (a user's access keys that
orchestrate did not make) cannot be declared: drift expects them empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.reconcile.observe import Pair
from orchestrator.reconcile.widening import Enclosing, widens

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
    if pair.vacant:
        return []
    if pair.observed is None:
        return [Difference(pair.address, "", pair.desired, None, "MISSING")]
    expected = {k: v for k, v in pair.desired.items() if k not in pair.reconciler.write_only}
    expected |= {k: [] for k in getattr(pair.reconciler, "observed_only", ()) if k in pair.observed.properties}
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
            flag = widens(path, kind, before, after, enclosing(level, path))
            found.append(Difference(resource, format_path(path), before, after, kind, flag))
    return sorted(found, key=lambda d: (d.path, d.kind))


def enclosing(level: Any, path: list[Any]) -> Enclosing | None:
    """The innermost policy statement on the way to a deepdiff level, on either side."""
    chain: list[Any] = []
    while level is not None:
        chain.append(level)
        level = level.up
    chain.reverse()  # chain[i] sits at path[:i]
    for depth in range(len(chain) - 1, -1, -1):
        before, after = _statement(chain[depth].t1), _statement(chain[depth].t2)
        if before is not None or after is not None:
            return Enclosing(before, after, tuple(path[depth:]))
    return None


def _statement(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and "Effect" in value else None
