"""Plans: what apply would change, as values. Pure: nothing here calls AWS.

Follows Terraform's plan model (internal/plans): a closed set of actions, and each change with
its before and after; a property whose new value is not known until apply shows as such.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from orchestrator.resources.context import UNKNOWN


class Action(enum.Enum):
    NO_OP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    CONFLICT = "conflict"

    @property
    def symbol(self) -> str:
        return {"no-op": " ", "create": "+", "update": "~", "replace": "-/+", "delete": "-", "conflict": "!"}[self.value]


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceChange:
    address: str  # "kms_key.data"
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    properties: tuple[PropertyChange, ...] = ()
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": self.action.value,
            "reason": self.reason or None,
            "changes": [{"path": p.path, "before": p.before, "after": p.after} for p in self.properties],
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Plan:
    state: str
    changes: list[ResourceChange] = field(default_factory=list)

    @property
    def pending(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.action is not Action.NO_OP]

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "changes": [c.as_json() for c in self.pending]}


def property_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[PropertyChange, ...]:
    """Top-level properties whose values differ (compared whole, after normalisation)."""
    names = sorted(set(before) | set(after))
    return tuple(
        PropertyChange(name, before.get(name), after.get(name))
        for name in names
        if name in after and before.get(name) != after.get(name)
    )


def decide(
    address: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    replace_on: frozenset[str] = frozenset(),
    owned: bool = True,
    write_only: frozenset[str] = frozenset(),
) -> ResourceChange:
    """The change that takes a resource from before (observed) to after (desired)."""
    if after is None:
        if before is None:
            return ResourceChange(address, Action.NO_OP, None, None)
        return ResourceChange(address, Action.DELETE, before, None)
    if before is None:
        return ResourceChange(address, Action.CREATE, None, after)
    if not owned:
        return ResourceChange(address, Action.CONFLICT, before, after, reason="exists and is not owned by this scenario (use --adopt to take it over)")
    changes = property_changes(before, {k: v for k, v in after.items() if k not in write_only})
    if not changes:
        return ResourceChange(address, Action.NO_OP, before, after)
    forcing = [c.path for c in changes if c.path in replace_on and c.after != UNKNOWN]
    if forcing:
        return ResourceChange(address, Action.REPLACE, before, after, changes, reason=f"{', '.join(forcing)} cannot change in place")
    return ResourceChange(address, Action.UPDATE, before, after, changes)
