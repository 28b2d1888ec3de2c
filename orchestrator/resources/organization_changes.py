"""What a change of the organization consists of, and which parts real AWS lets orchestrate make.

Pure: the changes that take the observed organization (`before`, the reconciler's properties) to
the declared one (`after`), each with the targets whose accounts it reaches, in the order the
reconciler makes them (organization.py `update`). On real AWS (issue 23) orchestrate never creates
an organization and, without `--manage-organization`, changes none of it: a difference is drift,
and apply refuses it. With the flag it may create, update, attach, detach and delete the SCPs and
RCPs it tagged, create units (tagged) and delete those it tagged, and detach or reattach
FullAWSAccess on the units it tagged; it never enables a policy type, invites or moves an
account, or touches FullAWSAccess elsewhere: those are the organization's administrators' to do
(Organizations User Guide, "Best practices for the management account").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from orchestrator.model.organization import ROOT_TARGET, UNIT_PREFIX

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
POLICY_TYPES = {"scps": SCP, "rcps": RCP}
LABELS = {"scps": "SCP", "rcps": "RCP"}
FULL_AWS_ACCESS = "FullAWSAccess"
MANAGE_FLAG = "--manage-organization"


class Verb(enum.Enum):
    """The Organizations calls a change makes (API Reference, by operation)."""

    ENABLE = "enable policy type"  # EnablePolicyType
    CREATE_UNIT = "create unit"  # CreateOrganizationalUnit
    DELETE_UNIT = "delete unit"  # DeleteOrganizationalUnit
    INVITE = "invite account"  # InviteAccountToOrganization
    MOVE = "move account"  # MoveAccount
    CREATE = "create"  # CreatePolicy
    UPDATE = "update"  # UpdatePolicy
    ATTACH = "attach"  # AttachPolicy
    DETACH = "detach"  # DetachPolicy
    DELETE = "delete"  # DetachPolicy from each target, then DeletePolicy


@dataclass(frozen=True)
class OrgChange:
    verb: Verb
    #: What it changes: "SCP NoKeyDeletion", a unit's, an account's or a policy type's name.
    subject: str
    #: The targets (`root`, `ou:UNIT`, `account:NAME`) whose accounts the change reaches.
    targets: tuple[str, ...] = ()
    #: For attach and detach: the target; for a move, where to.
    where: str = ""

    def words(self) -> str:
        tail = {Verb.ATTACH: f" to {self.where}", Verb.DETACH: f" from {self.where}",
                Verb.MOVE: f" to {self.where}", Verb.CREATE_UNIT: f" under {self.where}"}.get(self.verb, "")
        return f"{self.verb.value} {self.subject}{tail}"


def organization_changes(before: dict[str, Any], after: dict[str, Any]) -> list[OrgChange]:
    """The changes that take ``before`` to ``after``, in the order the reconciler makes them."""
    found = [OrgChange(Verb.ENABLE, kind, (ROOT_TARGET,))
             for kind in sorted(set(after["policy_types"]) - set(before.get("policy_types", [])))]
    found += _unit_changes(before.get("units", {}), after["units"])
    found += _account_changes(before.get("accounts", {}), after["accounts"])
    for section in POLICY_TYPES:
        found += _policy_changes(LABELS[section], before.get(section, {}), after[section])
    found += _full_access_changes(before.get("detach_full_aws_access", []), after["detach_full_aws_access"])
    return found


def _unit_changes(before: dict[str, str], after: dict[str, str]) -> list[OrgChange]:
    made = [OrgChange(Verb.CREATE_UNIT, unit, (), _target(parent)) for unit, parent in after.items()
            if unit not in before]
    gone = [OrgChange(Verb.DELETE_UNIT, unit, (f"{UNIT_PREFIX}{unit}",)) for unit in before if unit not in after]
    return made + gone


def _account_changes(before: dict[str, str], after: dict[str, str]) -> list[OrgChange]:
    found = []
    for account, parent in after.items():
        if account not in before:
            found.append(OrgChange(Verb.INVITE, account, (f"account:{account}",)))
        if before.get(account, ROOT_TARGET) != parent:
            found.append(OrgChange(Verb.MOVE, account, (f"account:{account}",), parent))
    return found


def _policy_changes(label: str, before: dict[str, Any], after: dict[str, Any]) -> list[OrgChange]:
    found = []
    for name, policy in after.items():
        old = before.get(name)
        subject = f"{label} {name}"
        if old is None:
            found.append(OrgChange(Verb.CREATE, subject))
            old = {"document": policy["document"], "targets": []}
        elif old["document"] != policy["document"]:
            found.append(OrgChange(Verb.UPDATE, subject, tuple(old["targets"])))
        found += [OrgChange(Verb.ATTACH, subject, (t,), t) for t in sorted(set(policy["targets"]) - set(old["targets"]))]
        found += [OrgChange(Verb.DETACH, subject, (t,), t) for t in sorted(set(old["targets"]) - set(policy["targets"]))]
    found += [OrgChange(Verb.DELETE, f"{label} {name}", tuple(before[name]["targets"])) for name in sorted(before)
              if name not in after]
    return found


def _full_access_changes(before: list[str], after: list[str]) -> list[OrgChange]:
    """Reattached first (a target keeps at least one SCP), then detached, as the reconciler does."""
    subject = f"SCP {FULL_AWS_ACCESS}"
    return ([OrgChange(Verb.ATTACH, subject, (t,), t) for t in sorted(set(before) - set(after))]
            + [OrgChange(Verb.DETACH, subject, (t,), t) for t in sorted(set(after) - set(before))])


def _target(parent: str) -> str:
    return ROOT_TARGET if parent == ROOT_TARGET else f"{UNIT_PREFIX}{parent}"


def refusal(change: OrgChange, owned_units: set[str], made_units: set[str]) -> str | None:
    """Why `--manage-organization` still may not make ``change`` on real AWS (None: it may).
    ``owned_units``: the units that carry orchestrate's tags; ``made_units``: those it will create."""
    if change.verb is Verb.ENABLE:
        return f"policy type {change.subject} is not enabled on the root: orchestrate never enables one on real AWS"
    if change.verb in (Verb.INVITE, Verb.MOVE):
        return f"{change.words()}: orchestrate never invites or moves an account on real AWS"
    if change.subject == f"SCP {FULL_AWS_ACCESS}" and change.where.removeprefix(UNIT_PREFIX) not in owned_units | made_units:
        return (f"{change.words()}: on real AWS orchestrate attaches and detaches {FULL_AWS_ACCESS} only on the units"
                " it created")
    if change.verb is Verb.DELETE_UNIT and change.subject not in owned_units:
        return f"{change.words()}: it does not carry orchestrate's tags"
    return None
