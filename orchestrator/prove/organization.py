"""The engine's organization inputs, built from a scenario's desired state (issue 23).

For an account of the scenario, its :class:`~orchestrator.authz.engine.organization.Membership`: the
levels from the root through each unit down to the account, each with the SCPs and RCPs attached
there, AWS's defaults included (FullAWSAccess wherever the scenario does not detach it,
RCPFullAWSAccess everywhere: Organizations User Guide, "SCP evaluation", "RCP evaluation"); None
for an account outside the organization or a scenario without one. For an expectation through a VPC
endpoint, its :class:`~orchestrator.authz.engine.organization.VpcEndpoint`. The gate (embedded,
serve) and predictions feed them to the engine as ``PolicyInputs.principal_org``, ``resource_org``
and ``vpc_endpoint``.

Documents are handed over as plain JSON with the organization's references resolved to ``ids``
(orchestrator/model/organization.py); ``resolve`` then resolves the scenario's other references
(``RunContext.resolve_policy``, once ARNs are known), as for every other policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import (ACCOUNT, FULL_AWS_ACCESS, RCP, RCP_FULL_AWS_ACCESS, ROOT, SCP, UNIT,
                                                    VPC_ENDPOINT, Membership, OrgLevel, VpcEndpoint)
from orchestrator.model.organization import ROOT_TARGET, Organization, OrganizationIds, resolve_org_references
from orchestrator.model.policy import PolicyDocument
from orchestrator.model.scenario import DesiredState, Expectation

__all__ = ["organization_ids", "membership", "memberships", "vpc_endpoint", "Resolve", "FULL_AWS_ACCESS_SOURCE", "RCP_FULL_AWS_ACCESS_SOURCE"]

Resolve = Callable[[dict[str, Any]], dict[str, Any]]
FULL_AWS_ACCESS_SOURCE = PolicySource(SCP, "FullAWSAccess", FULL_AWS_ACCESS)
RCP_FULL_AWS_ACCESS_SOURCE = PolicySource(RCP, "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS)


def _as_is(document: dict[str, Any]) -> dict[str, Any]:
    return document


def organization_ids(scenario: str, desired: DesiredState) -> OrganizationIds:
    """The ids the embedded backend gives the scenario's organization and endpoints."""
    units = desired.organization.units if desired.organization is not None else {}
    return OrganizationIds.embedded(scenario, units)


class _Documents:
    """Plain, resolved documents of one desired state, each made once (an account's levels share
    the root's and units' policies with every other account)."""

    def __init__(self, organization: Organization | None, ids: OrganizationIds, resolve: Resolve) -> None:
        self.organization, self.ids, self.resolve = organization, ids, resolve
        self.made: dict[tuple[str, str], PolicySource] = {}

    def source(self, kind: str, name: str, document: PolicyDocument) -> PolicySource:
        if (kind, name) not in self.made:
            plain = document.model_dump(mode="json", by_alias=True, exclude_none=True)
            self.made[(kind, name)] = PolicySource(kind, name, self.resolve(resolve_org_references(plain, self.organization, self.ids)))
        return self.made[(kind, name)]


def _attached(documents: _Documents, organization: Organization, target: str) -> tuple[tuple[PolicySource, ...], tuple[PolicySource, ...]]:
    """The SCPs and RCPs attached to ``target``, AWS's defaults first."""
    scps = [FULL_AWS_ACCESS_SOURCE] if organization.full_aws_access_at(target) else []
    scps += [documents.source(SCP, name, policy.document) for name, policy in organization.scps.items() if target in policy.targets]
    rcps = [RCP_FULL_AWS_ACCESS_SOURCE]
    rcps += [documents.source(RCP, name, policy.document) for name, policy in organization.rcps.items() if target in policy.targets]
    return tuple(scps), tuple(rcps)


def membership(desired: DesiredState, account: str, ids: OrganizationIds, account_id: str = "",
               resolve: Resolve = _as_is, documents: Any = None) -> Membership | None:
    """The place of the scenario account ``account`` (`home` or a name of `accounts:`) in the
    organization: root first, then its units, then the account; None outside the organization.
    ``account_id`` is the account level's id (the account's 12 digits, when known)."""
    organization = desired.organization
    if organization is None or account in organization.outside:
        return None
    made = documents if documents is not None else _Documents(organization, ids, resolve)
    levels = [OrgLevel(ROOT, ROOT_TARGET, ids.root, *_attached(made, organization, ROOT_TARGET))]
    for unit in organization.chain(organization.unit_of(account)):
        levels.append(OrgLevel(UNIT, unit, ids.units.get(unit, ""), *_attached(made, organization, f"ou:{unit}")))
    levels.append(OrgLevel(ACCOUNT, account, account_id, *_attached(made, organization, f"account:{account}")))
    return Membership(ids.organization, tuple(levels), management=account == organization.management)


def memberships(desired: DesiredState, ids: OrganizationIds, account_ids: Mapping[str, str] | None = None,
                resolve: Resolve = _as_is) -> dict[str, Membership | None]:
    """Every scenario account's membership by name (documents resolved once for all)."""
    made = _Documents(desired.organization, ids, resolve)
    names = ("home", *desired.accounts)
    ids_of = account_ids if account_ids is not None else {"home": "", **desired.accounts}
    return {name: membership(desired, name, ids, ids_of.get(name, ""), resolve, made) for name in names}


def vpc_endpoint(desired: DesiredState, expectation: Expectation, ids: OrganizationIds,
                 resolve: Resolve = _as_is) -> VpcEndpoint | None:
    """The endpoint the expectation's request goes through (`vpc_endpoint: NAME`), else None."""
    name = expectation.vpc_endpoint
    if name is None:
        return None
    spec = desired.vpc_endpoints[name]
    policy = None
    if spec.policy is not None:
        policy = _Documents(desired.organization, ids, resolve).source(VPC_ENDPOINT, name, spec.policy)
    return VpcEndpoint(ids.endpoint(name), ids.vpc(spec.vpc), policy)
