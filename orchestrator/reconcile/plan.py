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

    def summary(self) -> dict[str, int]:
        """How many pending changes of each action: Terraform's "Plan: N to add, N to change,
        N to destroy" line, with replacements and conflicts counted apart."""
        return {action.value: sum(1 for c in self.pending if c.action is action) for action in SUMMARISED}


#: The actions a plan's summary counts, in the order it names them.
SUMMARISED = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.CONFLICT)


@dataclass(frozen=True)
class WalkStep:
    """One state of the walk: its plan, from the world as it is (`source` None, the first state)
    or from the state before it as if that one had been applied."""

    index: int  # 0-based, as `states[index]` in the scenario file
    plan: Plan
    source: str | None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.plan.state, "index": self.index, "from_state": self.source,
                "changes": self.plan.as_json()["changes"], "summary": self.plan.summary()}


@dataclass
class Walk:
    """The plan of every state in the order apply walks them (apply starts from the first and
    leaves the world in the last), and which states the world as it is already matches.

    Terraform's exit codes speak of the world apply leaves: with the world in the last state,
    apply would end where it is now, so the walk has `no_changes` (plan exits 0) even though apply
    passes through the earlier states on the way."""

    steps: list[WalkStep] = field(default_factory=list)
    #: The states whose plan against the world as it is has no pending change, in order.
    matching: list[str] = field(default_factory=list)

    @property
    def last(self) -> str:
        return self.steps[-1].plan.state

    @property
    def no_changes(self) -> bool:
        return self.last in self.matching

    @property
    def world_in_state(self) -> str | None:
        """The last state when the world matches it (where apply leaves it), else the first it matches."""
        if self.no_changes:
            return self.last
        return self.matching[0] if self.matching else None

    def as_json(self) -> dict[str, Any]:
        return {"world_in_state": self.world_in_state, "matching_states": list(self.matching),
                "no_changes": self.no_changes, "states": [step.as_json() for step in self.steps]}


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
