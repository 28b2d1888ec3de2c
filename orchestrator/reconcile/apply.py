"""Carrying out changes: the only module that mutates AWS.

Each resource is planned just before it is applied (as Terraform resolves unknown values at
apply time), in dependency order; destroy walks the same order backwards, access keys first.
Conflicts are refused for every state before the first change (`reconcile.preflight`); one that
apply still meets (made by someone else meanwhile) stops it with ConflictError.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.observe import observe_one
from orchestrator.reconcile.plan import Action, Plan, ResourceChange
from orchestrator.resources import REGISTRY, Reconciler
from orchestrator.resources.context import RunContext, ConflictError

#: Hears of a resource change (apply's progress and trace, destroy's progress).
OnChange = Callable[[ResourceChange], None]


def apply_state(ctx: RunContext, desired: DesiredState, state: str, progress: OnChange | None = None,
                trace: OnChange | None = None) -> Plan:
    """Reconcile the world to one desired state; returns the changes made.

    progress hears of every change made; trace of every resource visited, changed or not."""
    plan = Plan(state)
    for reconciler in REGISTRY:
        for name in reconciler.names(desired):
            pair = observe_one(ctx, reconciler, desired, name)
            if pair.vacant:
                continue  # nothing declared, nothing there (see Pair.vacant)
            change = pair.change()
            if change.action is Action.CONFLICT:
                raise ConflictError(f"{change.address}: {change.reason}")
            scoped = ctx.for_entity(reconciler.section, name)
            if pair.observed is not None and pair.observed.adopted and hasattr(reconciler, "claim"):
                reconciler.claim(scoped, name)
            _carry_out(scoped, reconciler, name, change)
            plan.changes.append(change)
            if progress and change.action is not Action.NO_OP:
                progress(change)
            if trace:
                trace(change)
    return plan


def _carry_out(ctx: RunContext, reconciler: Reconciler, name: str, change: ResourceChange) -> None:
    if change.action is Action.CREATE:
        reconciler.create(ctx, name, change.after or {})
    elif change.action is Action.UPDATE:
        reconciler.update(ctx, name, change.before or {}, change.after or {})
    elif change.action is Action.REPLACE:
        reconciler.delete(ctx, name, change.before or {}, change.after)
        reconciler.create(ctx, name, change.after or {})


def destroy(ctx: RunContext, desired: DesiredState, progress: OnChange | None = None) -> Plan:
    """Remove what the scenario owns; what it does not own is reported, never touched."""
    plan = Plan("destroy")
    _delete_access_keys(ctx, desired)
    _release_guardrails(ctx, desired)
    for reconciler in reversed(REGISTRY):
        for name in reconciler.names(desired):
            pair = observe_one(ctx, reconciler, desired, name)
            if pair.observed is None:
                continue
            if not pair.observed.owned:
                plan.changes.append(ResourceChange(pair.address, Action.CONFLICT, pair.observed.properties, None, reason="not owned by this scenario; left alone"))
                continue
            reconciler.delete(ctx.for_entity(reconciler.section, name), name, pair.observed.properties, pair.desired)
            change = ResourceChange(pair.address, Action.DELETE, pair.observed.properties, None)
            plan.changes.append(change)
            if progress:
                progress(change)
    return plan


def _release_guardrails(ctx: RunContext, desired: DesiredState) -> None:
    """Guardrails the scenario owns go before what they guard (a reconciler's optional `release`):
    an SCP of the scenario that denies kms:ScheduleKeyDeletion would otherwise stop destroy at the
    key, as it would on AWS (Organizations User Guide, "SCP evaluation")."""
    for reconciler in REGISTRY:
        release = getattr(reconciler, "release", None)
        if release is None:
            continue
        for name in reconciler.names(desired):
            pair = observe_one(ctx, reconciler, desired, name)
            if pair.observed is not None and pair.observed.owned:
                release(ctx.for_entity(reconciler.section, name), name, pair.observed.properties)


def _delete_access_keys(ctx: RunContext, desired: DesiredState) -> None:
    """Access keys made for test principals go first, before anything they could still use."""
    from orchestrator.resources.iam_user import IamUser

    users = IamUser()
    for name in users.names(desired):
        scoped = ctx.for_entity(users.section, name)
        iam = scoped.backend.client("iam")
        observed = users.read(scoped, name)
        if observed is None or not observed.owned:
            continue
        for key in iam.list_access_keys(UserName=ctx.physical(name))["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=ctx.physical(name), AccessKeyId=key["AccessKeyId"])
