"""The listing `--manage-organization` prints before apply or destroy changes a real organization
(and plan shows): each change, and the accounts it reaches (reconcile/organization_reach.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.reconcile.organization_reach import Reach
from orchestrator.report.words import counted


def render_reach(world: str, reaches: Sequence[Reach]) -> str:
    """One line per change: the state, what it does, and each account it reaches (id and scenario name)."""
    if not reaches:
        return f"Organization of {world}: no change to make."
    lines = [f"Organization of {world}: {counted(len(reaches), 'change')} to make (--manage-organization):"]
    for reach in reaches:
        accounts = ", ".join(f"{account} ({name})" if name else account for account, name in reach.accounts)
        reached = f"reaches {counted(len(reach.accounts), 'account')}: {accounts}" if reach.accounts else "reaches no account"
        lines.append(f"  [{reach.state}] {reach.change.words()}: {reached}")
    return "\n".join(lines)


def reach_json(reaches: Sequence[Reach]) -> list[dict[str, Any]]:
    """The listing as plan's JSON carries it: one object per change."""
    return [{"state": reach.state, "change": reach.change.words(), "verb": reach.change.verb.value,
             "subject": reach.change.subject, "targets": list(reach.change.targets),
             "accounts": [{"id": account, "name": name} for account, name in reach.accounts]} for reach in reaches]
