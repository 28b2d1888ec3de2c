"""Reading the world: for each declared resource, its desired and observed properties.

Read-only; `plan_state` is what `orchestrate plan` shows. Resources are visited in dependency
order so that ARNs learnt from earlier ones (a key's) resolve references in later ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.plan import Action, Plan, ResourceChange, decide
from orchestrator.resources import REGISTRY, Observed, Reconciler
from orchestrator.resources.context import Context


@dataclass(frozen=True)
class Pair:
    reconciler: Reconciler
    name: str
    desired: dict[str, Any]
    observed: Observed | None

    @property
    def address(self) -> str:
        return f"{self.reconciler.kind}.{self.name}"

    @property
    def vacant(self) -> bool:
        """Nothing is declared and nothing exists (a key without grants): no change, no drift.
        A reconciler whose entity may be empty says so with `vacant(desired)`."""
        vacant = getattr(self.reconciler, "vacant", None)
        return self.observed is None and vacant is not None and vacant(self.desired)

    def change(self) -> ResourceChange:
        if self.vacant:
            return decide(self.address, None, None)
        before = self.observed.properties if self.observed else None
        owned = self.observed.owned if self.observed else True
        return decide(self.address, before, self.desired, self.reconciler.replace_on, owned, self.reconciler.write_only)


def observe_one(ctx: Context, reconciler: Reconciler, desired: DesiredState, name: str) -> Pair:
    """Desired and observed properties, read as orchestrate's identity in the entity's account."""
    ctx = ctx.for_entity(reconciler.section, name)
    wanted = reconciler.desired(ctx, desired, name)
    return Pair(reconciler, name, wanted, reconciler.read(ctx, name, wanted))


def observe_all(ctx: Context, desired: DesiredState) -> Iterator[Pair]:
    for reconciler in REGISTRY:
        for name in reconciler.names(desired):
            pair = observe_one(ctx, reconciler, desired, name)
            if not pair.vacant:
                yield pair


def plan_state(ctx: Context, desired: DesiredState, state: str) -> Plan:
    """What apply would change. A replaced resource's ARN is unknown until apply, so later
    resources that reference it show the new value as (known after apply)."""
    ctx.planning = True
    plan = Plan(state)
    for pair in observe_all(ctx, desired):
        change = _with_declared_conflicts(ctx.for_entity(pair.reconciler.section, pair.name), desired, pair, pair.change())
        reference = getattr(pair.reconciler, "reference", None)
        if change.action is Action.REPLACE and reference:
            ctx.known.pop(f"{reference}:{pair.name}", None)
        plan.changes.append(change)
    return plan


def _with_declared_conflicts(ctx: Context, desired: DesiredState, pair: Pair, change: ResourceChange) -> ResourceChange:
    """The change, or a conflict where the reconciler declares one that ownership does not show
    (a key's alias naming a key the scenario does not own): what apply's preflight refuses."""
    declared = getattr(pair.reconciler, "conflicts", None)
    reasons = declared(ctx, desired, pair.name) if declared is not None and change.action is not Action.CONFLICT else []
    if not reasons:
        return change
    return ResourceChange(change.address, Action.CONFLICT, change.before, change.after, reason="; ".join(reasons))
