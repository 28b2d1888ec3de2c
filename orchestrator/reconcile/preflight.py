"""Preflight: before apply's first mutating call, read every resource of every state it will
apply, and refuse, all at once, every same-named resource that this scenario does not own.

Terraform's model: a plan that cannot be applied whole is refused before anything is applied,
so a conflict never leaves a half-applied world (users and a key made, the table refused).
Read-only. A reconciler may declare `conflicts(ctx, desired, name)` for conflicts that its
ownership read does not show (a key's aliases: a key has no name, its aliases do); for the
others, a resource that exists and is not owned (`Observed.owned`, which --adopt sets) is one.

Preflight also tells the key reconciler whether the account is fresh (`FRESH_WORLD`): no resource
of this scenario and run exists in it and no ownership alias of the run either. A key's ownership
alias that is missing then means that the key does not exist, and the account's keys are not
scanned (kms_key.py). The keys' section is checked last so that it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.model.scenario import DesiredState
from orchestrator.report.words import counted
from orchestrator.resources import REGISTRY, Reconciler
from orchestrator.resources.base import Refusal
from orchestrator.resources.context import FRESH_WORLD, OWNERSHIP_ALIAS_PREFIX, ConflictError, RunContext
from orchestrator.resources.kms_key import KmsKey

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
        owning = [c for c in conflicts if not isinstance(c.reason, Refusal)]
        hint = "" if adopting or not owning else " (--adopt takes them over)"
        what = (f"{counted(len(conflicts), 'conflict')} with resources this scenario does not own" if owning
                else f"{counted(len(conflicts), 'change')} orchestrate may not make")
        lines = [f"refusing to apply {scenario}: {what}; nothing was changed{hint}"]
        super().__init__("\n".join(lines + [f"  {c.line()}" for c in conflicts]))


def preflight(ctx: RunContext, states: Sequence[tuple[str, DesiredState]]) -> list[Conflict]:
    """The conflicts of every resource of every (state name, desired state), each named once."""
    #: (address, reason) -> (state index, registry index, conflict): the first state that declares it
    found: dict[tuple[str, str], tuple[int, int, Conflict]] = {}
    checked: set[tuple[str, str]] = set()
    seen: list[bool] = []
    ctx.cache.pop(FRESH_WORLD, None)
    try:
        for keys in (False, True):  # keys last: they need to know whether the world is fresh
            if keys:
                ctx.cache[FRESH_WORLD] = not any(seen) and not _run_aliases(ctx, states)
            for index, (state, desired) in enumerate(states):
                for order, reconciler in enumerate(REGISTRY):
                    if (reconciler.section == "keys") is not keys:
                        continue
                    for name in reconciler.names(desired):
                        scoped = ctx.for_entity(reconciler.section, name)
                        for reason in _conflicts(scoped, reconciler, desired, name, checked, seen):
                            address = f"{reconciler.kind}.{name}"
                            if (address, reason) not in found or found[(address, reason)][0] > index:
                                found[(address, reason)] = (index, order, Conflict(address, state, reason))
    finally:
        ctx.cache.pop(SCRATCH, None)
        for cache in ctx.account_caches.values():
            cache.pop(SCRATCH, None)
    # as one pass would name them: by state, then in the registry's order (the sort is stable)
    return [conflict for _, _, conflict in sorted(found.values(), key=lambda entry: entry[:2])]


def _run_aliases(ctx: RunContext, states: Sequence[tuple[str, DesiredState]]) -> bool:
    """An ownership alias of this scenario and run in an account that holds its keys: the
    account is not fresh, even if nothing else of the run is in it (the alias list is the one
    that the aliases' conflicts read)."""
    prefix = ctx.ownership_alias("")
    if not prefix.startswith(OWNERSHIP_ALIAS_PREFIX) or not prefix.endswith("/"):  # hashed: no prefix to see
        return False
    scopes = {id(scoped.cache): scoped for _, desired in states for name in desired.keys
              for scoped in (ctx.for_entity("keys", name),)}
    return any(alias.startswith(prefix) for scoped in scopes.values() for alias in KmsKey._alias_targets(scoped))


def _conflicts(ctx: RunContext, reconciler: Reconciler, desired: DesiredState, name: str,
               checked: set[tuple[str, str]], seen: list[bool]) -> list[str]:
    declared = getattr(reconciler, "conflicts", None)
    if declared is not None:  # what it checks (a key's aliases) can differ from state to state
        return list(declared(ctx, desired, name))
    # One physical resource per section and name: users and their access are one IAM user,
    # read once (its first reconciler in the registry creates it).
    if (reconciler.section, name) in checked:
        return []
    checked.add((reconciler.section, name))
    observed = reconciler.read(ctx, name, None)
    seen.append(observed is not None and observed.owned and not observed.adopted)
    if observed is None or observed.owned:
        return []
    # under --adopt, what is still not owned cannot be (a policy of the same name on another path)
    suffix = "; --adopt cannot take it over" if ctx.adopt else ""
    return [f"{observed.physical_id} exists and is not owned by this scenario{suffix}"]


def refuse_conflicts(ctx: RunContext, states: Sequence[tuple[str, DesiredState]]) -> None:
    """Raise PreflightConflicts naming every conflict, if there is any."""
    conflicts = preflight(ctx, states)
    if conflicts:
        raise PreflightConflicts(ctx.scenario, conflicts, ctx.adopt)
