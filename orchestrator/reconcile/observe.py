"""Reading the world: for each declared resource, its desired and observed properties.

Read-only; `plan_state` is what `orchestrate plan` shows. Resources are visited in dependency
order so that ARNs learnt from earlier ones (a key's) resolve references in later ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.plan import Action, Plan, ResourceChange, Walk, WalkStep, decide
from orchestrator.resources import REGISTRY, Observed, Reconciler
from orchestrator.resources.context import RunContext


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


def observe_one(ctx: RunContext, reconciler: Reconciler, desired: DesiredState, name: str,
                observed_only: bool = False) -> Pair:
    """Desired and observed properties, read as orchestrate's identity in the entity's account.
    observed_only (plan and drift, which read and never write) also reads the properties a
    reconciler declares `observed_only` (a user's access keys orchestrate did not make)."""
    ctx = ctx.for_entity(reconciler.section, name)
    wanted = reconciler.desired(ctx, desired, name)
    if observed_only and getattr(reconciler, "observed_only", None):
        return Pair(reconciler, name, wanted, reconciler.read(ctx, name, wanted, observed_only=True))
    return Pair(reconciler, name, wanted, reconciler.read(ctx, name, wanted))


def observe_all(ctx: RunContext, desired: DesiredState, observed_only: bool = False) -> Iterator[Pair]:
    for reconciler in REGISTRY:
        for name in reconciler.names(desired):
            pair = observe_one(ctx, reconciler, desired, name, observed_only)
            if not pair.vacant:
                yield pair


def plan_state(ctx: RunContext, desired: DesiredState, state: str) -> Plan:
    """What apply would change. A replaced resource's ARN is unknown until apply, so later
    resources that reference it show the new value as (known after apply)."""
    plan = Plan(state)
    for pair in observe_all(ctx, desired, observed_only=True):
        change = _with_declared_conflicts(ctx.for_entity(pair.reconciler.section, pair.name), desired, pair, pair.change())
        reference = getattr(pair.reconciler, "reference", None)
        if change.action is Action.REPLACE and reference:
            ctx.known.pop(f"{reference}:{pair.name}", None)
        plan.changes.append(change)
    return plan


def _with_declared_conflicts(ctx: RunContext, desired: DesiredState, pair: Pair, change: ResourceChange) -> ResourceChange:
    """The change, or a conflict where the reconciler declares one that ownership does not show
    (a key's alias naming a key the scenario does not own): what apply's preflight refuses."""
    declared = getattr(pair.reconciler, "conflicts", None)
    reasons = declared(ctx, desired, pair.name) if declared is not None and change.action is not Action.CONFLICT else []
    if not reasons:
        return change
    return ResourceChange(change.address, Action.CONFLICT, change.before, change.after, reason="; ".join(reasons))


#: What the walk takes each resource to be, by address, as the states before have left it.
PropertiesByAddress = dict[str, dict[str, Any] | None]


def plan_walk(ctx: RunContext, states: Sequence[tuple[str, DesiredState]]) -> Walk:
    """The walk apply makes: the first state from the world as it is, then each later state from
    the one before it as if that one had been applied (Terraform plans a configuration against
    the state its apply would leave; here states follow one another). Reads the world once per
    state, to say which states it already matches (and the conflicts apply's preflight would
    refuse in each); the later steps themselves are computed without calling AWS."""
    first = plan_state(ctx, states[0][1], states[0][0])
    walking = replace(ctx, known=dict(ctx.known), cache={}, account_caches={})
    observed = [first] + [plan_state(_fresh(ctx), desired, name) for name, desired in states[1:]]
    world = _world_after(first, observed)
    walk = Walk([WalkStep(0, first, None)], [plan.state for plan in observed if not plan.pending])
    for index in range(1, len(states)):
        name, desired = states[index]
        walk.steps.append(WalkStep(index, plan_from_state(walking, desired, name, world, observed[index]), states[index - 1][0]))
    return walk


def _fresh(ctx: RunContext) -> RunContext:
    """A context that has learnt nothing yet (no ARNs, no read caches), as `plan --state` starts."""
    return replace(ctx, known={}, cache={}, account_caches={})


def _world_after(first: Plan, observed: list[Plan]) -> PropertiesByAddress:
    """The world once the first state is applied: its resources as it declares them, any other
    resource a later state declares as it is now."""
    world: PropertiesByAddress = {}
    for plan in observed:
        for change in plan.changes:
            world.setdefault(change.address, change.before)
    for change in first.changes:
        if change.action is not Action.CONFLICT:  # apply refuses it: the world keeps what it has
            world[change.address] = change.after
    return world


def plan_from_state(ctx: RunContext, desired: DesiredState, state: str, world: PropertiesByAddress, observed: Plan) -> Plan:
    """What applying `desired` changes in `world` (what the states before left), pure: the
    reconcilers' desired properties of the state before serve as the observed side, and `world`
    is updated to this state. A conflict of `observed` (this state against the world as it is)
    stays one: apply's preflight refuses it in every state that declares it. As `plan_state`, a
    replaced key's ARN is unknown to the resources after it."""
    conflicts = {c.address: c for c in observed.changes if c.action is Action.CONFLICT}
    plan = Plan(state)
    for reconciler in REGISTRY:
        for name in reconciler.names(desired):
            scoped = ctx.for_entity(reconciler.section, name)
            address = f"{reconciler.kind}.{name}"
            before = world.get(address)
            pair = Pair(reconciler, name, reconciler.desired(scoped, desired, name),
                        None if before is None else Observed(before, owned=True, physical_id=address))
            if pair.vacant:
                continue
            change = conflicts.get(address) or pair.change()
            reference = getattr(reconciler, "reference", None)
            if change.action is Action.REPLACE and reference:
                ctx.known.pop(f"{reference}:{name}", None)
            if change.action is not Action.CONFLICT:
                world[address] = pair.desired
            plan.changes.append(change)
    return plan
