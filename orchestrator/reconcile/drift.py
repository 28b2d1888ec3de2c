"""Drift: desired against actual, property by property, in CloudFormation's drift vocabulary.

Both sides are normalised by the reconcilers (statements as sorted lists, single values as lists,
references and aliases resolved to ARNs); deepdiff then compares them with list order ignored.
Each difference has a resource, a property path, the expected and actual values and a kind
(ADD, REMOVE, NOT_EQUAL, as CloudFormation's DetectStackResourceDrift names them), and is
flagged when it widens access (`orchestrator.reconcile.widening`): a new Allow in any policy,
key, table or identity, a lost Deny, a new attachment, group membership or access key, a
re-enabled key. A reconciler's `observed_only` properties (a user's access keys that
orchestrate did not make) cannot be declared: drift expects them empty.

Beside the property differences, access differences: the desired state's access matrix against
the observed world's (orchestrator/analysis/observed.py), one per cell whose decision differs
("tester gained kms:Decrypt on key:data (by statement OutOfBand)"). The report's widening flag
comes from these (a cell gained); the property differences keep their own per-difference flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.reconcile.observe import Pair
from orchestrator.reconcile.widening import Enclosing, access_widens, widens

if TYPE_CHECKING:
    from orchestrator.model.access import Cell, StateMatrix
    from orchestrator.authz.engine.inputs import StatementRef

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


@dataclass(frozen=True)
class AccessDifference:
    """One cell of the access matrix decided otherwise in the world than in the desired state."""

    expected: Cell
    actual: Cell
    #: The statements the world's decision rests on that the desired matrix never cites.
    by: tuple[StatementRef, ...] = ()

    @property
    def change(self) -> str:  # GAINED | LOST | CHANGED (denied both ways, by another layer)
        if self.actual.allowed != self.expected.allowed:
            return "GAINED" if self.actual.allowed else "LOST"
        return "CHANGED"

    @property
    def widens_access(self) -> bool:
        return access_widens(self.expected.allowed, self.actual.allowed)

    def words(self) -> str:
        cell = self.actual
        what = f"{cell.column.action} on {cell.column.resource}" + (f" [{cell.column.variant}]" if cell.column.variant else "")
        if self.change == "GAINED":
            return f"{cell.principal} gained {what}{' (public)' if cell.public else ''}{_by(self.by)}"
        if self.change == "LOST":
            return f"{cell.principal} lost {what} ({_denial(cell)})"
        return f"{cell.principal} is denied {what} otherwise ({_denial(cell)}; desired: {_denial(self.expected)})"


def access_differences(desired: StateMatrix, observed: StateMatrix) -> list[AccessDifference]:
    """Every cell of both matrices whose outcome (allowed, or the denying layer) differs."""
    cited = {_statement_key(ref) for cell in desired.cells.values() for ref in cell.statements}
    found = []
    for slot, actual in observed.cells.items():
        expected = desired.cells.get(slot)
        if expected is None or expected.outcome == actual.outcome and expected.error == actual.error:
            continue
        new = tuple(ref for ref in actual.statements if _statement_key(ref) not in cited)
        found.append(AccessDifference(expected, actual, (new or actual.statements) if actual.allowed else ()))
    return found


def _statement_key(ref: StatementRef) -> tuple[Any, ...]:
    """A statement by its Sid where it has one (the index moves as statements come and go)."""
    return (ref.policy_kind, ref.policy_name, ref.sid) if ref.sid else (ref.policy_kind, ref.policy_name, ref.index)


def _by(refs: tuple[StatementRef, ...]) -> str:
    if not refs:
        return ""
    names = [ref.sid if ref.sid else f"{ref.index} of {ref.policy_name}" for ref in refs]
    return f" (by statement{'s' if len(names) > 1 else ''} {', '.join(dict.fromkeys(names))})"


def _denial(cell: Cell) -> str:
    if cell.layer:
        return f"denied by {cell.layer}"
    return f"denied: {cell.error}" if cell.error else "denied"
