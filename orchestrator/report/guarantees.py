"""A state's guarantees in the run report. This version decides none (issue 24: the symbolic
engine that proves them comes separately), so each is reported `unknown` with that reason, never
proved; they neither pass nor fail the run, whose exit code stays the expectations'."""

from __future__ import annotations

from typing import Any

from orchestrator.model.scenario import Guarantee
from orchestrator.report.style import Style

UNKNOWN = "unknown"
UNDECIDED = "not decided by this version"


def guarantee_words(guarantee: Guarantee) -> str:
    """`only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders`."""
    actions = ", ".join(guarantee.actions)
    if guarantee.only is not None:
        whom = ", ".join(guarantee.only) or "nobody"
        return f"only {whom} may {actions} on {guarantee.resource}"
    return f"no access from {guarantee.no_access_from}: {actions} on {guarantee.resource}"


def guarantee_json(guarantee: Guarantee) -> dict[str, Any]:
    return {"resource": guarantee.resource, "actions": list(guarantee.actions), "only": guarantee.only,
            "no_access_from": guarantee.no_access_from, "verdict": UNKNOWN, "reason": UNDECIDED}


def render_guarantees(guarantees: list[Guarantee], style: Style) -> list[str]:
    mark = style("UNKNOWN", "yellow", "bold")
    return [f"  {mark} guarantee: {guarantee_words(g)}: {UNDECIDED}" for g in guarantees]
