"""The access matrix as `orchestrate access --output json` prints it, and its cells in drift's
access section."""

from __future__ import annotations

from typing import Any

from orchestrator.authz.engine.inputs import StatementRef
from orchestrator.model.access import AccessMatrix, Cell, Change

__all__ = ["statement_json", "cell_json", "change_json", "matrix_json"]


def statement_json(ref: StatementRef) -> dict[str, Any]:
    return {"policy_kind": ref.policy_kind, "policy_name": ref.policy_name, "sid": ref.sid, "index": ref.index,
            "effect": ref.effect}


def cell_json(cell: Cell) -> dict[str, Any]:
    return {"principal": cell.principal, "resource": cell.column.resource, "action": cell.column.action,
            "variant": cell.column.variant or None,
            "decision": "error" if cell.error == "PreparationFailed" else "allowed" if cell.allowed else "denied",
            "layer": cell.layer, "label": cell.label, "error": cell.error,
            "statements": [statement_json(ref) for ref in cell.statements], "reason": cell.reason}


def change_json(change: Change) -> dict[str, Any]:
    after, before = cell_json(change.after), cell_json(change.before)
    slot = {k: after[k] for k in ("principal", "resource", "action", "variant")}
    return {**slot, "before": {k: before[k] for k in ("decision", "layer", "label")},
            "after": {k: after[k] for k in ("decision", "layer", "label")}, "words": change.words()}


def matrix_json(matrix: AccessMatrix, source: str = "desired") -> dict[str, Any]:
    """The matrix as `orchestrate access --output json` prints it (after "format_version")."""
    states = [{"name": state.name, "principals": state.principals, "classes": state.classes,
               "columns": [{"resource": c.resource, "action": c.action, "variant": c.variant or None, "label": c.label()}
                           for c in state.columns],
               "cells": [cell_json(state.cell(p, c)) for p in state.principals for c in state.columns]}
              for state in matrix.states]
    changes = [{"from": matrix.states[i - 1].name, "to": matrix.states[i].name,
                "cells": [change_json(change) for change in matrix.changes[i]]} for i in range(1, len(matrix.states))]
    return {"scenario": matrix.scenario, "source": source, "cell_count": matrix.cell_count, "states": states,
            "changes": changes}
