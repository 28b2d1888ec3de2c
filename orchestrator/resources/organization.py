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

Real AWS (issue 23): orchestrate never creates an organization there, and changes one only with
`--manage-organization` (`RunContext.manage_organization`), and then only its own SCPs, RCPs and
units (organization_changes.py says which changes; `conflicts` names the others to preflight, so
plan shows them and apply refuses them before any change). Without the flag a difference is drift.
Only the units the scenario declares and those orchestrate tagged are read: a real organization's
other units are not the scenario's. A same-named policy orchestrate did not tag is a conflict on
every backend (CreatePolicy would fail with DuplicatePolicyException).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from orchestrator.backends.accounts import in_account
from orchestrator.backends.base import BackendError
from orchestrator.constants import TAG_NAME
from orchestrator.model.organization import (ROOT_TARGET, UNIT_PREFIX, Organization, OrganizationIds, reresolve_org_ids,
                                             target_kind, unknown_unit_id)
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, Refusal, error_code, tag_dict, tag_list
from orchestrator.resources.context import ConflictError, RunContext
from orchestrator.resources.organization_changes import (LABELS, MANAGE_FLAG, POLICY_TYPES, organization_changes,
                                                         refusal)

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
    #: The units that carry orchestrate's ownership tags.
    owned_units: set[str] = field(default_factory=set)
    #: The policy types enabled on the root.
    policy_types: list[str] = field(default_factory=list)

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
        "organizations:RemoveAccountFromOrganization", "organizations:DeleteOrganization",
        "organizations:ListAccounts", "organizations:ListAccountsForParent")  # the last two: preflight's listing
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return [NAME] if desired.organization is not None else []

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        organization = desired.organization
        assert organization is not None
        observed = self.read(ctx, name, None)  # learn the observed ids first: the documents' references resolve to them
        members = [account for account in organization.members(desired.accounts) if account != organization.management]
        policies = {section: {policy_name: {
            "document": ctx.resolve_policy(policy.document.model_dump(mode="json", by_alias=True, exclude_none=True)),
            "targets": sorted(policy.targets)} for policy_name, policy in getattr(organization, section).items()}
            for section in POLICY_TYPES}
        return {
            "policy_types": _policy_types(ctx, organization, observed),
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

    def conflicts(self, ctx: RunContext, desired: DesiredState, name: str) -> list[Refusal]:
        """What apply may not do (preflight refuses it, plan shows it): a declared SCP or RCP whose
        name an untagged policy holds (any backend); on real AWS, whatever organization_changes.py
        keeps from orchestrate (everything without --manage-organization)."""
        client = _client(ctx)
        after = self.desired(ctx, desired, name)
        observed = self.read(ctx, name, None)
        reasons = _name_conflicts(ctx, client, after)
        if ctx.backend.kind == "aws" and observed is None:
            reasons.append(_NO_ORGANIZATION.format(account=_management(ctx)))
        elif ctx.backend.kind == "aws":
            reasons += _refusals(ctx, _observe_ids(ctx, client, observed.physical_id), observed.properties, after)
        return [Refusal(reason) for reason in reasons]

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        if ctx.backend.kind == "aws":
            raise OrganizationRefused(_NO_ORGANIZATION.format(account=_management(ctx)))
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
        _refuse(ctx, _refusals(ctx, ids, before, after))
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
        SCPs and RCPs detached and deleted, before the resources they would guard are deleted.
        On real AWS only what --manage-organization may change (nothing without it)."""
        client = _client(ctx)
        ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
        detached = before.get("detach_full_aws_access", [])
        if ctx.backend.kind == "aws":
            after = _released(before, ids.owned_units)
            _refuse(ctx, _refusals(ctx, ids, before, after))
            detached = [target for target in detached if target not in after["detach_full_aws_access"]]
        _converge_full_aws_access(client, ids, detached, [])
        for section in POLICY_TYPES:
            for policy_name in sorted(before.get(section, {})):
                _delete_policy(client, ids.policies[(section, policy_name)])

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        self.release(ctx, name, before)
        client = _client(ctx)
        ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
        if ctx.backend.kind == "aws":  # orchestrate moved no account there, and made no organization
            _delete_units(ctx, client, ids, list(before.get("units", {})))
            return
        for account in sorted(before.get("accounts", {})):
            _move(client, ids, account, before["accounts"][account], ROOT_TARGET)
        _delete_units(ctx, client, ids, list(before.get("units", {})))
        if not ctx.owns(tag_dict(client.list_tags_for_resource(ResourceId=ids.root)["Tags"])):
            return  # an organization orchestrate did not create: its accounts and itself are left alone
        for account in sorted(before.get("accounts", {})):
            client.remove_account_from_organization(AccountId=ids.accounts[account])
        client.delete_organization()


class OrganizationRefused(ConflictError):
    """On real AWS, a change of the organization orchestrate may not make (module docstring)."""


_NO_ORGANIZATION = ("the scenario declares an organization and account {account} belongs to none: on real AWS"
                    " orchestrate never creates an organization (create it, or run on embedded or serve)")


def _policy_types(ctx: RunContext, organization: Organization, observed: Observed | None) -> list[str]:
    """Both types on embedded and serve (apply enables them); on real AWS the types the scenario's
    policies need, beside those already enabled: one it needs and the root lacks is a difference."""
    if ctx.backend.kind != "aws":
        return sorted(POLICY_TYPES.values())
    needed = {POLICY_TYPES[section] for section in POLICY_TYPES if getattr(organization, section)}
    enabled = observed.properties["policy_types"] if observed is not None else []
    return sorted(needed | set(enabled))


def _released(before: dict[str, Any], owned_units: set[str]) -> dict[str, Any]:
    """What destroy's release leaves of ``before`` on real AWS: no policy of ours, FullAWSAccess
    back on our units (elsewhere it stays as the organization's administrators left it)."""
    kept = [t for t in before.get("detach_full_aws_access", []) if t.removeprefix(UNIT_PREFIX) not in owned_units]
    return {**before, **{section: {} for section in POLICY_TYPES}, "detach_full_aws_access": kept}


def _refusals(ctx: RunContext, ids: _Ids, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """On real AWS, why apply may not take the organization from ``before`` to ``after`` (none elsewhere)."""
    if ctx.backend.kind != "aws":
        return []
    changes = organization_changes(before, after)
    if not changes:
        return []
    if not ctx.manage_organization:
        listed = "; ".join(change.words() for change in changes)
        return [f"the organization on AWS differs from the scenario's ({listed}): on real AWS orchestrate changes an"
                f" organization only with {MANAGE_FLAG}, and then only the SCPs, RCPs and units it tags"]
    made = {unit for unit in after["units"] if unit not in before.get("units", {})}
    return [reason for change in changes if (reason := refusal(change, ids.owned_units, made)) is not None]


def _refuse(ctx: RunContext, reasons: list[str]) -> None:
    if reasons:
        raise OrganizationRefused(f"organization.organization: {'; '.join(reasons)}")


def _name_conflicts(ctx: RunContext, client: Any, after: dict[str, Any]) -> list[str]:
    """A declared policy's physical name held by a policy without this scenario's and run's tags."""
    reasons = []
    for section, policy_type in POLICY_TYPES.items():
        for policy in _pages(client.list_policies, "Policies", Filter=policy_type):
            name = policy["Name"]
            declared = [n for n in after[section] if ctx.physical(n) == name]
            if policy["AwsManaged"] or not declared:
                continue
            if not ctx.owns(tag_dict(client.list_tags_for_resource(ResourceId=policy["Id"])["Tags"])):
                reasons.append(f"{LABELS[section]} {declared[0]}: a policy named {name} exists ({policy['Id']}) and is"
                               " not owned by this scenario; orchestrate leaves it alone (--adopt cannot take it over)")
    return reasons


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated Organizations list (NextToken: Organizations API Reference)."""
    found: list[dict[str, Any]] = []
    while True:
        answer = call(**kwargs)
        found += answer[key]
        token = answer.get("NextToken")
        if not token:
            return found
        kwargs["NextToken"] = token


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
    root = client.list_roots()["Roots"][0]
    ids = _Ids(organization_id, root["Id"])
    ids.policy_types = sorted(t["Type"] for t in root.get("PolicyTypes", []) if t.get("Status") == "ENABLED")
    _observe_units(ctx, client, ids)
    names = _account_names(ctx)
    ids.accounts = {names[account_id]: account_id for account_id in names}
    for section, policy_type in POLICY_TYPES.items():
        for policy in _pages(client.list_policies, "Policies", Filter=policy_type):
            if policy["AwsManaged"]:
                continue
            tags = tag_dict(client.list_tags_for_resource(ResourceId=policy["Id"])["Tags"])
            if ctx.owns(tags):
                ids.policies[(section, tags.get(TAG_NAME, policy["Name"]))] = policy["Id"]
    return ids


def _observe_units(ctx: RunContext, client: Any, ids: _Ids) -> None:
    """The unit tree, breadth first, as far as it holds the scenario's units (declared or tagged as
    ours): a real organization's other units are not the scenario's, and are not read below."""
    declared = set(ctx.organization.units) if ctx.organization is not None else set()
    parents = [ids.root]
    while parents:
        parent_id = parents.pop(0)
        for unit in _pages(client.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=parent_id):
            owned = ctx.owns(tag_dict(client.list_tags_for_resource(ResourceId=unit["Id"])["Tags"]))
            if unit["Name"] not in declared and not owned:
                continue
            ids.units[unit["Name"]] = unit["Id"]
            if owned:
                ids.owned_units.add(unit["Name"])
            parents.append(unit["Id"])


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
        "policy_types": list(ids.policy_types),
        "units": dict(sorted(unit_parents.items())),
        "accounts": accounts,
        **policies,
        "detach_full_aws_access": sorted(t for t in candidates if t not in with_full_access),
    }


def _targets(client: Any, policy_id: str, names_by_id: dict[str, str]) -> list[str]:
    found = _pages(client.list_targets_for_policy, "Targets", PolicyId=policy_id)
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
            ids.owned_units.add(unit)
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
    for target in _pages(client.list_targets_for_policy, "Targets", PolicyId=policy_id):
        client.detach_policy(PolicyId=policy_id, TargetId=target["TargetId"])
    client.delete_policy(PolicyId=policy_id)


def _delete_units(ctx: RunContext, client: Any, ids: _Ids, units: list[str]) -> None:
    """Our units among ``units``, children first."""
    for unit in sorted(units, key=lambda u: -_depth(client, ids, u)):
        unit_id = ids.units.get(unit)
        if unit_id is not None and unit in ids.owned_units:
            client.delete_organizational_unit(OrganizationalUnitId=unit_id)


def _depth(client: Any, ids: _Ids, unit: str) -> int:
    depth, current = 0, ids.units.get(unit)
    while current is not None and current != ids.root:
        current = client.list_parents(ChildId=current)["Parents"][0]["Id"]
        depth += 1
    return depth


def accounts_under(ctx: RunContext, target: str) -> list[str]:
    """The ids of the accounts a policy attached to ``target`` reaches, read from the organization:
    `root` every account, `ou:UNIT` those in the unit and the units below it (none for a unit not
    made yet), `account:NAME` that one (Organizations User Guide, "Inheritance for management policy types")."""
    client = _client(ctx)
    kind, name = target_kind(target)
    if kind == "account":
        return [ctx.account_named(name)]
    if kind == ROOT_TARGET:
        return sorted(account["Id"] for account in _pages(client.list_accounts, "Accounts"))
    ids = _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"])
    return sorted(_accounts_below(client, ids.units[name])) if name in ids.units else []


def _accounts_below(client: Any, parent_id: str) -> list[str]:
    found = [account["Id"] for account in _pages(client.list_accounts_for_parent, "Accounts", ParentId=parent_id)]
    for unit in _pages(client.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=parent_id):
        found += _accounts_below(client, unit["Id"])
    return found


def destroyed(before: dict[str, Any], owned_units: set[str]) -> dict[str, Any]:
    """What destroy leaves of ``before`` on real AWS: no policy of ours, none of our units."""
    return {**_released(before, owned_units),
            "units": {u: p for u, p in before.get("units", {}).items() if u not in owned_units}}


def owned_units(ctx: RunContext) -> set[str]:
    client = _client(ctx)
    return _observe_ids(ctx, client, client.describe_organization()["Organization"]["Id"]).owned_units
