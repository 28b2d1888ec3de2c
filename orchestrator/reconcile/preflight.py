"""Preflight: before apply's first mutating call, read every resource of every state it will
apply, and refuse, all at once, every same-named resource that this scenario does not own.

Terraform's model: a plan that cannot be applied whole is refused before anything is applied,
so a conflict never leaves a half-applied world (users and a key made, the table refused).
Read-only. A reconciler may declare `conflicts(ctx, desired, name)` for conflicts that its
ownership read does not show (a key's aliases: a key has no name, its aliases do); for the
others, a resource that exists and is not owned (`Observed.owned`, which --adopt sets) is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.model.scenario import DesiredState
from orchestrator.resources import REGISTRY, Reconciler
from orchestrator.resources.context import ConflictError, Context

#: ctx.cache entry for reads that only preflight makes (the account's aliases); dropped after.
SCRATCH = "preflight"


@dataclass(frozen=True)
class Conflict:
    address: str  # "dynamodb_table.orders"
    state: str  # the first state that declares it
    reason: str

    def line(self) -> str:
        return f"{self.address} (state {self.state}): {self.reason}"


class PreflightConflicts(ConflictError):
    """Every conflict found, named in one message; nothing was changed."""

    def __init__(self, scenario: str, conflicts: list[Conflict], adopting: bool = False) -> None:
        self.conflicts = conflicts
        hint = "" if adopting else " (--adopt takes them over)"
        lines = [f"refusing to apply {scenario}: {len(conflicts)} conflict(s) with resources this scenario"
                 f" does not own; nothing was changed{hint}"]
        super().__init__("\n".join(lines + [f"  {c.line()}" for c in conflicts]))


def preflight(ctx: Context, states: Sequence[tuple[str, DesiredState]]) -> list[Conflict]:
    """The conflicts of every resource of every (state name, desired state), each named once."""
    found: dict[tuple[str, str], Conflict] = {}
    checked: set[tuple[str, str]] = set()
    try:
        for state, desired in states:
            for reconciler in REGISTRY:
                for name in reconciler.names(desired):
                    scoped = ctx.for_entity(reconciler.section, name)
                    for reason in _conflicts(scoped, reconciler, desired, name, checked):
                        address = f"{reconciler.kind}.{name}"
                        found.setdefault((address, reason), Conflict(address, state, reason))
    finally:
        ctx.cache.pop(SCRATCH, None)
        for cache in ctx.account_caches.values():
            cache.pop(SCRATCH, None)
    return list(found.values())


def _conflicts(ctx: Context, reconciler: Reconciler, desired: DesiredState, name: str,
               checked: set[tuple[str, str]]) -> list[str]:
    declared = getattr(reconciler, "conflicts", None)
    if declared is not None:  # what it checks (a key's aliases) can differ from state to state
        return list(declared(ctx, desired, name))
    # One physical resource per section and name: users and their access are one IAM user,
    # read once (its first reconciler in the registry creates it).
    if (reconciler.section, name) in checked:
        return []
    checked.add((reconciler.section, name))
    observed = reconciler.read(ctx, name, None)
    if observed is None or observed.owned:
        return []
    # under --adopt, what is still not owned cannot be (a policy of the same name on another path)
    suffix = "; --adopt cannot take it over" if ctx.adopt else ""
    return [f"{observed.physical_id} exists and is not owned by this scenario{suffix}"]


def refuse_conflicts(ctx: Context, states: Sequence[tuple[str, DesiredState]]) -> None:
    """Raise PreflightConflicts naming every conflict, if there is any."""
    conflicts = preflight(ctx, states)
    if conflicts:
        raise PreflightConflicts(ctx.scenario, conflicts, ctx.adopt)
