"""The scenario's AWS Organizations organization: units, member accounts, SCPs and RCPs (issue 23, item 4).

Organizations API Reference: CreateOrganization (FeatureSet ALL), EnablePolicyType, CreateOrganizationalUnit,
InviteAccountToOrganization (moto_extensions: accepted at once), MoveAccount, CreatePolicy, UpdatePolicy,
AttachPolicy, DetachPolicy, DeletePolicy, DeleteOrganizationalUnit, RemoveAccountFromOrganization,
DeleteOrganization; read back with DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent,
ListParents, ListPolicies, DescribePolicy, ListTargetsForPolicy, ListTagsForResource.

One resource (`organization.organization`) whose properties are the whole declared organization, in
the scenario's own names: units by parent, member accounts by their parent (`root` or `ou:UNIT`),
each SCP and RCP with its resolved document and targets, the policy types enabled, and the targets
FullAWSAccess is detached from. An update converges only the differences, so a re-apply with nothing
changed makes no call that writes.

Ownership. Units and policies orchestrate creates carry its ownership tags; an organization it
created carries them on its root. Destroy deletes only tagged parts, and deletes the organization
itself (after removing the accounts it invited) only when the root carries our tags.

Ids. moto draws the organization's, root's and units' ids at random, so they cannot be the
deterministic ids the language derives (model/organization.py). The reconciler comes first in
the registry and, as it reads, replaces the run context's `organization_ids` with the ids it
observes (the gate, reading moto's Organizations, sees the same ones): every later resource is
planned just before it is applied (reconcile/apply.py), so its policies' `organization` and `ou:`
references resolve to the ids the world holds. Its own SCPs and RCPs are resolved before the
organization (or a unit) it creates exists, with the derived ids: once they exist, the documents are
given the observed ones before they are created (`_with_observed_ids`), so an SCP naming `ou:UNIT/*`
in the first state names the unit's real path. Making moto's ids match would need the scenario's
name inside moto's CreateOrganization (a side channel on the request); observing them is simpler
and is what real AWS needs anyway.

Departure: on real AWS orchestrate never creates an organization and changes one only with an
explicit flag (issue 23); this reconciler refuses any backend but embedded and endpoint (serve)
until `--manage-organization` exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from orchestrator.backends.accounts import in_account
from orchestrator.backends.base import BackendError
from orchestrator.constants import TAG_NAME
from orchestrator.model.organization import (ROOT_TARGET, Organization, OrganizationIds, reresolve_org_ids, target_kind,
                                             unknown_unit_id)
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, tag_dict, tag_list
from orchestrator.resources.context import RunContext

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
POLICY_TYPES = {"scps": SCP, "rcps": RCP}
FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
NOT_IN_USE = "AWSOrganizationsNotInUseException"
NAME = "organization"


@dataclass
class _Ids:
    """The observed ids: the root, units by name, member accounts by scenario name, our policies by (section, name)."""

    organization: str = ""
    root: str = ""
    units: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    policies: dict[tuple[str, str], str] = field(default_factory=dict)

    def target(self, target: str) -> str:
        kind, name = target_kind(target)
        return self.root if kind == ROOT_TARGET else self.units[name] if kind == "ou" else self.accounts[name]


class OrganizationReconciler:
    kind: ClassVar[str] = "organization"
    section: ClassVar[str] = "organization"
    permissions: ClassVar[tuple[str, ...]] = (
        "organizations:DescribeOrganization", "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListParents", "organizations:ListPolicies", "organizations:DescribePolicy",
        "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource", "organizations:CreateOrganization",
        "organizations:EnablePolicyType", "organizations:CreateOrganizationalUnit",
        "organizations:InviteAccountToOrganization", "organizations:MoveAccount", "organizations:CreatePolicy",
        "organizations:UpdatePolicy", "organizations:AttachPolicy", "organizations:DetachPolicy",
        "organizations:DeletePolicy", "organizations:DeleteOrganizationalUnit", "organizations:TagResource",
        "organizations:RemoveAccountFromOrganization", "organizations:DeleteOrganization")
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return [NAME] if desired.organization is not None else []

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        organization = desired.organization
        assert organization is not None
        _refuse_real_aws(ctx)
        self.read(ctx, name, None)  # learn the observed ids first: the documents' references resolve to them
        members = [account for account in organization.members(desired.accounts) if account != organization.management]
        policies = {section: {policy_name: {
            "document": ctx.resolve_policy(policy.document.model_dump(mode="json", by_alias=True, exclude_none=True)),
            "targets": sorted(policy.targets)} for policy_name, policy in getattr(organization, section).items()}
            for section in POLICY_TYPES}
        return {
            "policy_types": sorted(POLICY_TYPES.values()),
            "units": {unit: spec.parent for unit, spec in sorted(organization.units.items())},
            "accounts": {account: _parent_target(organization, account) for account in members},
            **policies,
            "detach_full_aws_access": sorted(organization.detach_full_aws_access),
        }

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        client = _client(ctx)
        try:
            organization = client.describe_organization()["Organization"]
        except Exception as error:
            if error_code(error) != NOT_IN_USE:
                raise
            _unknown_ids(ctx)
            return None
        ids = _observe_ids(ctx, client, organization["Id"])
        _learn_ids(ctx, ids)
        return Observed(_properties(ctx, client, ids), owned=True, physical_id=organization["Id"])

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        resolved_with = ctx.organization_ids  # the ids the documents of `after` name (model/organization.py)
        client = _client(ctx)
        organization = client.create_organization(FeatureSet="ALL")["Organization"]
        root = client.list_roots()["Roots"][0]["Id"]
        client.tag_resource(ResourceId=root, Tags=tag_list(ctx.ownership_tags(name)))
        ids = _observe_ids(ctx, client, organization["Id"])
        _learn_ids(ctx, ids)
        self._converge(ctx, _properties(ctx, client, ids), after, resolved_with)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        self._converge(ctx, before, after, ctx.organization_ids)

    def _converge(self, ctx: RunContext, before: dict[str, Any], after: dict[str, Any],
                  resolved_with: OrganizationIds | None) -> None:
        """``after``'s documents were resolved with ``resolved_with``: ids derived from the scenario's
        name for an organization or unit that did not exist yet. Once they exist, the documents
        name the ids they were given instead (module docstring, "Ids")."""
        client = _client(ctx)
        ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
        for policy_type in sorted(set(after["policy_types"]) - set(before.get("policy_types", []))):
            client.enable_policy_type(RootId=ids.root, PolicyType=policy_type)
        _create_units(ctx, client, ids, before.get("units", {}), after["units"])
        after = _with_observed_ids(after, resolved_with, ctx.organization_ids)
        _place_accounts(ctx, client, ids, before.get("accounts", {}), after["accounts"])
        for section, policy_type in POLICY_TYPES.items():
            _converge_policies(ctx, client, ids, section, policy_type, before.get(section, {}), after[section])
        _converge_full_aws_access(client, ids, before.get("detach_full_aws_access", []), after["detach_full_aws_access"])
        for section in POLICY_TYPES:
            for policy_name in sorted(set(before.get(section, {})) - set(after[section])):
                _delete_policy(client, ids.policies[(section, policy_name)])
        _delete_units(ctx, client, ids, [unit for unit in before.get("units", {}) if unit not in after["units"]])

    def release(self, ctx: RunContext, name: str, before: dict[str, Any]) -> None:
        """Destroy's first step (reconcile/apply.py): FullAWSAccess back where it was detached, our
        SCPs and RCPs detached and deleted, before the resources they would guard are deleted."""
        client = _client(ctx)
        ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
        _converge_full_aws_access(client, ids, before.get("detach_full_aws_access", []), [])
        for section in POLICY_TYPES:
            for policy_name in sorted(before.get(section, {})):
                _delete_policy(client, ids.policies[(section, policy_name)])

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        self.release(ctx, name, before)
        client = _client(ctx)
        ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
        for account in sorted(before.get("accounts", {})):
            _move(client, ids, account, before["accounts"][account], ROOT_TARGET)
        _delete_units(ctx, client, ids, list(before.get("units", {})))
        if not ctx.owns(tag_dict(client.list_tags_for_resource(ResourceId=ids.root)["Tags"])):
            return  # an organization orchestrate did not create: its accounts and itself are left alone
        for account in sorted(before.get("accounts", {})):
            client.remove_account_from_organization(AccountId=ids.accounts[account])
        client.delete_organization()


def _refuse_real_aws(ctx: RunContext) -> None:
    if ctx.backend.kind not in ("embedded", "endpoint"):
        raise BackendError("the scenario declares an organization: on real AWS orchestrate neither creates nor changes"
                           " an organization (--manage-organization does not exist yet); run it on embedded or serve")


def _management(ctx: RunContext) -> str:
    organization = ctx.organization
    return ctx.account_named(organization.management if organization is not None else None)


def _client(ctx: RunContext) -> Any:
    """Organizations as orchestrate's identity in the management account."""
    management = _management(ctx)
    backend = ctx.backend if management == ctx.backend.account_id else in_account(ctx.backend, management)
    return backend.client("organizations")


def _parent_target(organization: Organization, account: str) -> str:
    unit = organization.unit_of(account)
    return ROOT_TARGET if unit is None else f"ou:{unit}"


def _account_names(ctx: RunContext) -> dict[str, str]:
    """Scenario account names by id (home included)."""
    return {**{account_id: name for name, account_id in ctx.accounts.items()}, ctx.home_account: "home"}


def _observe_ids(ctx: RunContext, client: Any, organization_id: str) -> _Ids:
    root = client.list_roots()["Roots"][0]["Id"]
    ids = _Ids(organization_id, root)
    parents = [(root, ROOT_TARGET)]
    while parents:  # the unit tree, breadth first
        parent_id, _ = parents.pop(0)
        for unit in client.list_organizational_units_for_parent(ParentId=parent_id)["OrganizationalUnits"]:
            ids.units[unit["Name"]] = unit["Id"]
            parents.append((unit["Id"], unit["Name"]))
    names = _account_names(ctx)
    ids.accounts = {names[account_id]: account_id for account_id in names}
    for section, policy_type in POLICY_TYPES.items():
        for policy in client.list_policies(Filter=policy_type)["Policies"]:
            if policy["AwsManaged"]:
                continue
            tags = tag_dict(client.list_tags_for_resource(ResourceId=policy["Id"])["Tags"])
            if ctx.owns(tags):
                ids.policies[(section, tags.get(TAG_NAME, policy["Name"]))] = policy["Id"]
    return ids


def _unknown_ids(ctx: RunContext) -> None:
    """No organization yet: its ids are drawn when apply creates it, so what is planned before
    names them as unknown, not as ids it will not have (apply plans each resource again once the
    organization exists: reconcile/apply.py)."""
    home = ctx.home_context or ctx
    units = ctx.organization.units if ctx.organization is not None else ()
    home.organization_ids = ctx.organization_ids = OrganizationIds.unknown(ctx.scenario, units)


def _learn_ids(ctx: RunContext, ids: _Ids) -> None:
    """The run context's organization ids become the observed ones (module docstring, "Ids"); a
    declared unit not made yet is unknown until apply makes it (then `_with_observed_ids` gives its
    id to the documents resolved before)."""
    home = ctx.home_context or ctx
    declared = ctx.organization.units if ctx.organization is not None else {}
    pending = {unit: unknown_unit_id(unit) for unit in declared if unit not in ids.units}
    observed = OrganizationIds(ids.organization, ids.root, {**pending, **ids.units}, ctx.scenario)
    home.organization_ids = ctx.organization_ids = observed


def _with_observed_ids(after: dict[str, Any], resolved_with: OrganizationIds | None,
                       observed: OrganizationIds | None) -> dict[str, Any]:
    """``after`` with its SCPs' and RCPs' documents naming the observed ids, not the ones they were
    resolved with before the organization or its units existed."""
    if resolved_with is None or observed is None or resolved_with == observed:
        return after
    return {**after, **{section: {name: {**policy, "document": reresolve_org_ids(policy["document"], resolved_with, observed)}
                                  for name, policy in after[section].items()} for section in POLICY_TYPES}}


def _properties(ctx: RunContext, client: Any, ids: _Ids) -> dict[str, Any]:
    root = next(r for r in client.list_roots()["Roots"] if r["Id"] == ids.root)
    names_by_id = {ids.root: ROOT_TARGET, **{unit_id: f"ou:{unit}" for unit, unit_id in ids.units.items()},
                   **{account_id: f"account:{name}" for name, account_id in ids.accounts.items()}}
    unit_parents = {}
    for unit, unit_id in ids.units.items():
        parent = client.list_parents(ChildId=unit_id)["Parents"][0]["Id"]
        unit_parents[unit] = names_by_id.get(parent, parent).removeprefix("ou:")
    accounts = {}
    management = _management(ctx)
    for name, account_id in ids.accounts.items():
        if account_id == management:
            continue
        try:
            parent = client.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        except Exception as error:
            if error_code(error) not in ("ChildNotFoundException", "AccountNotFoundException"):
                raise
            continue  # not a member
        accounts[name] = names_by_id.get(parent, parent)
    policies: dict[str, dict[str, Any]] = {section: {} for section in POLICY_TYPES}
    for (section, name), policy_id in sorted(ids.policies.items()):
        policies[section][name] = {"document": json.loads(client.describe_policy(PolicyId=policy_id)["Policy"]["Content"]),
                                   "targets": _targets(client, policy_id, names_by_id)}
    with_full_access = set(_targets(client, FULL_AWS_ACCESS_ID, names_by_id))
    candidates = [ROOT_TARGET, *(f"ou:{unit}" for unit in ids.units), *(f"account:{name}" for name in accounts)]
    return {
        "policy_types": sorted(t["Type"] for t in root.get("PolicyTypes", []) if t.get("Status") == "ENABLED"),
        "units": dict(sorted(unit_parents.items())),
        "accounts": accounts,
        **policies,
        "detach_full_aws_access": sorted(t for t in candidates if t not in with_full_access),
    }


def _targets(client: Any, policy_id: str, names_by_id: dict[str, str]) -> list[str]:
    found = client.list_targets_for_policy(PolicyId=policy_id)["Targets"]
    return sorted(names_by_id.get(target["TargetId"], target["TargetId"]) for target in found)


def _create_units(ctx: RunContext, client: Any, ids: _Ids, before: dict[str, str], after: dict[str, str]) -> None:
    """Missing units, parents first (a unit's parent cannot change: Organizations has no MoveOrganizationalUnit)."""
    pending = [unit for unit in after if unit not in before]
    while pending:
        ready = [unit for unit in pending if after[unit] == ROOT_TARGET or after[unit] in ids.units]
        if not ready:
            raise BackendError(f"organization: units {pending} have no parent to be made under")
        for unit in ready:
            parent = ids.root if after[unit] == ROOT_TARGET else ids.units[after[unit]]
            made = client.create_organizational_unit(ParentId=parent, Name=unit, Tags=tag_list(ctx.ownership_tags(unit)))
            ids.units[unit] = made["OrganizationalUnit"]["Id"]
            pending.remove(unit)
    _learn_ids(ctx, ids)


def _place_accounts(ctx: RunContext, client: Any, ids: _Ids, before: dict[str, str], after: dict[str, str]) -> None:
    """Invite the members not in the organization (they join under the root), then move each to its parent."""
    for account, parent in after.items():
        current = before.get(account)
        if current is None:
            client.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": ids.accounts[account]})
            current = ROOT_TARGET
        _move(client, ids, account, current, parent)


def _move(client: Any, ids: _Ids, account: str, source: str, destination: str) -> None:
    if source != destination:
        client.move_account(AccountId=ids.accounts[account], SourceParentId=ids.target(source),
                            DestinationParentId=ids.target(destination))


def _converge_policies(ctx: RunContext, client: Any, ids: _Ids, section: str, policy_type: str,
                       before: dict[str, Any], after: dict[str, Any]) -> None:
    for name, policy in after.items():
        content = json.dumps(policy["document"])
        found = before.get(name)
        if found is None:
            made = client.create_policy(Name=ctx.physical(name), Type=policy_type, Description=f"orchestrate: {name}",
                                        Content=content, Tags=tag_list(ctx.ownership_tags(name)))
            ids.policies[(section, name)] = made["Policy"]["PolicySummary"]["Id"]
            found = {"document": None, "targets": []}
        elif found["document"] != policy["document"]:
            client.update_policy(PolicyId=ids.policies[(section, name)], Content=content)
        policy_id = ids.policies[(section, name)]
        for target in sorted(set(policy["targets"]) - set(found["targets"])):
            client.attach_policy(PolicyId=policy_id, TargetId=ids.target(target))
        for target in sorted(set(found["targets"]) - set(policy["targets"])):
            client.detach_policy(PolicyId=policy_id, TargetId=ids.target(target))


def _converge_full_aws_access(client: Any, ids: _Ids, before: list[str], after: list[str]) -> None:
    """Reattach FullAWSAccess first (a target keeps at least one SCP), then detach where declared."""
    for target in sorted(set(before) - set(after)):
        client.attach_policy(PolicyId=FULL_AWS_ACCESS_ID, TargetId=ids.target(target))
    for target in sorted(set(after) - set(before)):
        client.detach_policy(PolicyId=FULL_AWS_ACCESS_ID, TargetId=ids.target(target))


def _delete_policy(client: Any, policy_id: str) -> None:
    for target in client.list_targets_for_policy(PolicyId=policy_id)["Targets"]:
        client.detach_policy(PolicyId=policy_id, TargetId=target["TargetId"])
    client.delete_policy(PolicyId=policy_id)


def _delete_units(ctx: RunContext, client: Any, ids: _Ids, units: list[str]) -> None:
    """Our units among ``units``, children first."""
    for unit in sorted(units, key=lambda u: -_depth(client, ids, u)):
        unit_id = ids.units.get(unit)
        if unit_id is not None and ctx.owns(tag_dict(client.list_tags_for_resource(ResourceId=unit_id)["Tags"])):
            client.delete_organizational_unit(OrganizationalUnitId=unit_id)


def _depth(client: Any, ids: _Ids, unit: str) -> int:
    depth, current = 0, ids.units.get(unit)
    while current is not None and current != ids.root:
        current = client.list_parents(ChildId=current)["Parents"][0]["Id"]
        depth += 1
    return depth
