"""The access matrix's values: columns (a resource and an action, with a request variant), cells
(one principal's decision on one column, with the deciding layer and statements), one state's
matrix, the changes between states. Made by orchestrator/analysis/access.py (and observed.py),
compared by orchestrator/reconcile/drift.py, shaped by orchestrator/report/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.authz.engine.inputs import StatementRef

__all__ = ["Column", "Cell", "StateMatrix", "Change", "AccessMatrix"]


@dataclass(frozen=True, order=True)
class Column:
    resource: str
    action: str
    variant: str = ""  # "" for the default request; else the request's extra fields, as JSON

    def label(self) -> str:
        return f"{self.action} {self.resource}" + (f" [{self.variant}]" if self.variant else "")

    def request(self) -> dict[str, Any]:
        return json.loads(self.variant) if self.variant else {}


@dataclass(frozen=True)
class Cell:
    principal: str
    column: Column
    allowed: bool
    layer: str | None
    statements: tuple[StatementRef, ...]
    reason: str
    error: str | None = None  # the AWS error code a denial answers, PreparationFailed, or Undecided
    #: A row of principals nobody named (analysis/access_classes.py) that holds the public.
    public: bool = False

    @property
    def label(self) -> str:
        if self.error == "PreparationFailed":
            return "error"
        if self.error == "Undecided":
            return "undecided"
        return "allowed" if self.allowed else f"denied ({self.layer})" if self.layer else "denied"

    @property
    def outcome(self) -> tuple[bool, str | None]:
        return self.allowed, self.layer


@dataclass
class StateMatrix:
    name: str
    principals: list[str]
    columns: list[Column]
    cells: dict[tuple[str, Column], Cell] = field(default_factory=dict)
    #: The rows of principals nobody named, the last of `principals` (analysis/access_classes.py).
    classes: list[str] = field(default_factory=list)

    def cell(self, principal: str, column: Column) -> Cell:
        return self.cells[(principal, column)]


@dataclass(frozen=True)
class Change:
    state: str
    before: Cell
    after: Cell

    def words(self) -> str:
        verb = "gained" if self.after.allowed and not self.before.allowed else \
            "lost" if self.before.allowed and not self.after.allowed else "changed"
        public = " (public)" if self.after.public and self.after.allowed else ""
        return f"{self.after.principal} {verb} {self.after.column.label()}{public}: {self.before.label} -> {self.after.label}"


@dataclass
class AccessMatrix:
    scenario: str
    states: list[StateMatrix]
    changes: list[list[Change]]  # changes[i]: from state i-1 to state i (empty for the first)

    @property
    def cell_count(self) -> int:
        return sum(len(state.cells) for state in self.states)
