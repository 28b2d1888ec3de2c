"""The listing `--manage-organization` prints before apply or destroy changes a real organization:
each change, and the accounts it reaches (reconcile/organization_reach.py)."""

from __future__ import annotations

from collections.abc import Sequence

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
