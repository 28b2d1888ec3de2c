"""Preflight's listing for `--manage-organization` on real AWS: each change apply (or destroy) is
about to make to the organization, and every account it reaches, before the first one is made.

An SCP or RCP governs every account below its target (Organizations User Guide, "Inheritance for
management policy types"): `root` reaches every account of the organization, `ou:UNIT` the
accounts in the unit and in the units below it, `account:NAME` that account. Read-only. The first
state is compared with the organization as it is, each later state with the one before, as apply
walks them (reconcile/observe.py `plan_walk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.model.scenario import DesiredState
from orchestrator.resources.context import RunContext
from orchestrator.resources.organization import NAME, OrganizationReconciler, accounts_under, destroyed, owned_units
from orchestrator.resources.organization_changes import OrgChange, organization_changes


@dataclass(frozen=True)
class Reach:
    state: str
    change: OrgChange
    #: The ids of the accounts the change reaches, each with its scenario name when it has one.
    accounts: tuple[tuple[str, str | None], ...]


def apply_reach(ctx: RunContext, states: Sequence[tuple[str, DesiredState]]) -> list[Reach]:
    """The organization changes of each state apply walks, with the accounts each reaches."""
    reconciler = OrganizationReconciler()
    found: list[Reach] = []
    before: dict[str, Any] | None = None
    for state, desired in states:
        if not reconciler.names(desired):
            continue
        if before is None:
            observed = reconciler.read(ctx, NAME, None)
            before = observed.properties if observed is not None else {}
        after = reconciler.desired(ctx, desired, NAME)
        found += _reached(ctx, state, organization_changes(before, after))
        before = after
    return found


def destroy_reach(ctx: RunContext, desired: DesiredState) -> list[Reach]:
    """What destroy is about to change in the organization (its SCPs, RCPs and units), with the accounts each reaches."""
    reconciler = OrganizationReconciler()
    if not reconciler.names(desired):
        return []
    observed = reconciler.read(ctx, NAME, None)
    if observed is None:
        return []
    before = observed.properties
    return _reached(ctx, "destroy", organization_changes(before, destroyed(before, owned_units(ctx))))


def _reached(ctx: RunContext, state: str, changes: list[OrgChange]) -> list[Reach]:
    names = {**{account_id: name for name, account_id in ctx.accounts.items()}, ctx.home_account: "home"}
    reached = []
    for change in changes:
        ids = sorted({account for target in change.targets for account in accounts_under(ctx, target)})
        reached.append(Reach(state, change, tuple((account, names.get(account)) for account in ids)))
    return reached
