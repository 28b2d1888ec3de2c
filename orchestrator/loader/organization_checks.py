"""Checks on the organization, its SCPs and RCPs, the VPC endpoints, and the expectations through one.

What AWS Organizations would refuse, found at load with the place it stands:

* The unit tree (Organizations API Reference, CreateOrganizationalUnit and MoveAccount): a unit's
  parent is the root or a unit of the scenario; the parents never loop; units nest at most 5 deep
  under the root and there are at most 2,000 of them (Organizations User Guide, "Quotas and service
  limits for AWS Organizations", "Maximum and minimum values": "OU maximum nesting in a root: 5
  levels", "Number of OUs in an organization: 2,000"); `root` names the root, not a unit.
* Accounts: the management account, the `outside` ones and those a unit lists are scenario accounts
  (`home` or a name under `accounts:`); an account is directly in one unit at most (an account has
  one parent); the management account and the outside ones are in no unit. orchestrate keeps the
  management account at the root although AWS lets it be moved: SCPs and RCPs never apply to it
  ("Service control policies (SCPs)", "Resource control policies (RCPs)"), so a unit would decide
  nothing for it and would only mislead the reader.
* Targets (`root`, `ou:UNIT`, `account:NAME`) name the root, a unit or a member account, each once.
* Attachments ("Quotas ...", "Maximum and minimum values": "Maximum number of policies of each type
  attached to a root, OU or account: 5"): at most 5 SCPs and 5 RCPs on one target, FullAWSAccess and
  RCPFullAWSAccess counted where attached. FullAWSAccess is detached only where another SCP stays
  attached ("SCP evaluation": "Every root, OU, and account must have at least one SCP attached").
* Sizes ("Quotas ...", "Maximum size of a policy document": service control policies 5,120
  characters, resource control policies 5,120 characters; "SCP syntax" and "RCP syntax": "All
  characters in your SCP/RCP count against its maximum size", white space outside quotes aside): the
  document as orchestrate sends it, minified, with the organization's references resolved (an ARN
  reference such as `key:NAME` is measured as written: its ARN is known only once applied).
* SCP syntax (Organizations User Guide, "SCP syntax", "Elements summary"): no Principal nor
  NotPrincipal (an SCP applies to the principals of the accounts it is attached to).
* RCP syntax (Organizations User Guide, "RCP syntax", "Elements summary"): Effect Deny ("The effect
  of Allow is only supported for the RCPFullAWSAccess policy"); Principal `"*"` in every statement
  (narrowed with conditions, such as aws:PrincipalOrgID), no NotPrincipal nor NotAction (not among
  the elements an RCP takes); a Version of "2012-10-17" ("Every RCP must include a Version element
  with the value 2012-10-17"); actions of the services that support RCPs only ("Resource control
  policies (RCPs)", "List of AWS services that support RCPs": the engine's RCP_SERVICES), or `*`.
* VPC endpoints (AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"):
  a policy's statements name their Principal (the model's), the policy is at most 20,480 characters
  ("The maximum size of an endpoint policy is 20,480 characters, including white space"), and the
  endpoint's account is a scenario account. An expectation's `vpc_endpoint` names an endpoint that
  fronts the action's service (an endpoint carries only its own service's requests).
* References: `organization` and `ou:UNIT` (orchestrator/model/organization.py) name the declared
  organization and its units.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.authz.engine.organization import RCP_SERVICES
from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.validation import Problem, located_statements
from orchestrator.model.organization import (ORGANIZATION_REFERENCE, ROOT_TARGET, GuardrailPolicy, Organization,
                                             OrganizationIds, org_references, resolve_org_references, target_kind,
                                             unit_reference)
from orchestrator.model.policy import PolicyDocument, as_list
from orchestrator.model.scenario import DesiredState, Expectation

Path = tuple[PathElement, ...]
ORG = ("organization",)
QUOTAS = 'Organizations User Guide, "Quotas and service limits for AWS Organizations"'
MAX_UNIT_DEPTH = 5
MAX_UNITS = 2000
MAX_ATTACHED = 5
MAX_GUARDRAIL_CHARS = 5120
MAX_ENDPOINT_POLICY_CHARS = 20480
FULL_AWS_ACCESS_NAME = "FullAWSAccess"
RCP_FULL_AWS_ACCESS_NAME = "RCPFullAWSAccess"
KINDS = {"scps": ("SCP", "SCP syntax"), "rcps": ("RCP", "RCP syntax")}


def check_organization(desired: DesiredState, prefix: Path = ()) -> list[Problem]:
    """Every rule of the module docstring on the organization of one desired state (none: no problems)."""
    organization = desired.organization
    if organization is None:
        return []
    where = prefix + ORG
    known = {"home", *desired.accounts}
    problems = _check_accounts(organization, known, where) + _check_units(organization, known, where)
    for section in ("scps", "rcps"):
        for name, policy in getattr(organization, section).items():
            path = where + (section, name)
            problems += _check_name(section, name, path)
            problems += _check_targets(organization, known, policy.targets, path + ("targets",))
            problems += _check_document(section, organization, policy, path + ("document",))
    problems += _check_targets(organization, known, organization.detach_full_aws_access, where + ("detach_full_aws_access",))
    return problems + _check_detached(organization, known, where) + _check_attachments(organization, where)


def _known(names: Any) -> str:
    return f" (known: {', '.join(sorted(names))})"


def _check_accounts(organization: Organization, known: set[str], where: Path) -> list[Problem]:
    problems = []
    if organization.management not in known:
        problems.append(Problem(where + ("management",), f"{organization.management!r} names no account of this scenario{_known(known)}"))
    for index, name in enumerate(organization.outside):
        if name not in known:
            problems.append(Problem(where + ("outside", index), f"{name!r} names no account of this scenario{_known(known)}"))
        elif name == organization.management:
            problems.append(Problem(where + ("outside", index), f"{name!r} is the management account: it is in the organization"))
    return problems


def _check_units(organization: Organization, known: set[str], where: Path) -> list[Problem]:
    problems: list[Problem] = []
    if len(organization.units) > MAX_UNITS:
        problems.append(Problem(where + ("units",), f"an organization has at most {MAX_UNITS} units ({QUOTAS}), not {len(organization.units)}"))
    placed: dict[str, str] = {}
    for name, unit in organization.units.items():
        path = where + ("units", name)
        if name == ROOT_TARGET:
            problems.append(Problem(path, "'root' names the organization's root; a unit takes another name", at_key=True))
        elif unit.parent != ROOT_TARGET and unit.parent not in organization.units:
            problems.append(Problem(path + ("parent",), f"{unit.parent!r} is neither `root` nor a unit of this organization"
                                    f"{_known(organization.units) if organization.units else ''}"))
        problems += _unit_depth(organization, name, path)
        for index, account in enumerate(unit.accounts):
            problems += _unit_account(organization, known, placed, name, account, path + ("accounts", index))
            placed.setdefault(account, name)
    return problems


def _unit_depth(organization: Organization, name: str, path: Path) -> list[Problem]:
    """A loop of parents (reported at each unit in it), or a unit deeper than AWS allows."""
    seen = [name]
    parent = organization.units[name].parent
    while parent != ROOT_TARGET and parent in organization.units:
        if parent == name:
            loop = " -> ".join([*seen, name])
            return [Problem(path + ("parent",), f"the units' parents loop ({loop}): a unit's ancestors end at the root")]
        if parent in seen:
            return []  # a loop above this unit: reported at the units in it
        seen.append(parent)
        parent = organization.units[parent].parent
    if len(seen) > MAX_UNIT_DEPTH and parent == ROOT_TARGET:
        return [Problem(path + ("parent",), f"unit {name!r} is {len(seen)} levels below the root; units nest at most"
                        f" {MAX_UNIT_DEPTH} levels deep ({QUOTAS}: \"OU maximum nesting in a root\")")]
    return []


def _unit_account(organization: Organization, known: set[str], placed: dict[str, str], unit: str, account: str,
                  path: Path) -> list[Problem]:
    if account not in known:
        return [Problem(path, f"{account!r} names no account of this scenario{_known(known)}")]
    if account == organization.management:
        return [Problem(path, f"{account!r} is the management account, which orchestrate keeps at the root (SCPs and"
                        " RCPs never apply to it, so a unit would decide nothing for it)")]
    if account in organization.outside:
        return [Problem(path, f"{account!r} is outside the organization (`outside`), so it is in no unit")]
    if account in placed:
        where = "earlier in this unit" if placed[account] == unit else f"in unit {placed[account]!r}"
        return [Problem(path, f"{account!r} is already {where}: an account is directly in one unit (or the root)")]
    return []


def _check_name(section: str, name: str, path: Path) -> list[Problem]:
    reserved = FULL_AWS_ACCESS_NAME if section == "scps" else RCP_FULL_AWS_ACCESS_NAME
    if name.lower() == reserved.lower():
        return [Problem(path, f"{reserved} is the AWS managed {KINDS[section][0]} attached by default; a policy of the"
                        " scenario takes another name", at_key=True)]
    return []


def _check_targets(organization: Organization, known: set[str], targets: list[str], path: Path) -> list[Problem]:
    problems = []
    for index, target in enumerate(targets):
        kind, name = target_kind(target)
        if kind == "ou" and name not in organization.units:
            units = _known(organization.units) if organization.units else " (there are none)"
            problems.append(Problem(path + (index,), f"{target!r} names no unit of this organization{units}"))
        elif kind == "account" and name not in known:
            problems.append(Problem(path + (index,), f"{target!r} names no account of this scenario{_known(known)}"))
        elif kind == "account" and name in organization.outside:
            problems.append(Problem(path + (index,), f"{target!r} is outside the organization (`outside`): policies are"
                                    " attached to its root, units and member accounts"))
        elif target in targets[:index]:
            problems.append(Problem(path + (index,), f"{target!r} is listed twice"))
    return problems


def _attached(organization: Organization, section: str) -> dict[str, list[tuple[str, int]]]:
    """Target -> the policies of ``section`` attached to it, as (name, index in its targets)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for name, policy in getattr(organization, section).items():
        for index, target in enumerate(policy.targets):
            found.setdefault(target, []).append((name, index))
    return found


def _exists(organization: Organization, known: set[str], target: str) -> bool:
    kind, name = target_kind(target)
    if kind == "ou":
        return name in organization.units
    return kind == ROOT_TARGET or (name in known and name not in organization.outside)


def _check_detached(organization: Organization, known: set[str], where: Path) -> list[Problem]:
    """FullAWSAccess is detached only where another SCP stays (a target that does not exist is
    _check_targets' to report)."""
    scps = _attached(organization, "scps")
    return [
        Problem(where + ("detach_full_aws_access", index), f"FullAWSAccess cannot be detached from {target}: no other SCP"
                " is attached there, and every root, unit and account keeps at least one (Organizations User Guide,"
                " \"SCP evaluation\"); attach an SCP to it first")
        for index, target in enumerate(organization.detach_full_aws_access)
        if not scps.get(target) and _exists(organization, known, target)
    ]


def _check_attachments(organization: Organization, where: Path) -> list[Problem]:
    problems = []
    for section, default in (("scps", FULL_AWS_ACCESS_NAME), ("rcps", RCP_FULL_AWS_ACCESS_NAME)):
        for target, policies in _attached(organization, section).items():
            defaults = 1 if section == "rcps" or organization.full_aws_access_at(target) else 0
            for name, index in policies[MAX_ATTACHED - defaults:]:
                with_default = f", {default} included" if defaults else ""
                problems.append(Problem(where + (section, name, "targets", index), (
                    f"{target} would have {len(policies) + defaults} {KINDS[section][0]}s attached{with_default}; at most"
                    f" {MAX_ATTACHED} can be ({QUOTAS}: \"Maximum number of policies of each type attached to a root,"
                    " OU or account\")")))
    return problems


def sent_size(document: PolicyDocument, organization: Organization | None) -> int:
    """The characters of the document as orchestrate sends it: minified JSON with the organization's
    references resolved (every scenario's ids have the same lengths)."""
    plain = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    ids = OrganizationIds.embedded("", organization.units) if organization is not None else None
    resolved = resolve_org_references(plain, organization, ids)
    return len(json.dumps(resolved, separators=(",", ":"), ensure_ascii=False))


def _check_document(section: str, organization: Organization, policy: GuardrailPolicy, path: Path) -> list[Problem]:
    kind, page = KINDS[section]
    problems = []
    size = sent_size(policy.document, organization)
    if size > MAX_GUARDRAIL_CHARS:
        problems.append(Problem(path, f"this {kind} is {size} characters once minified; an {kind} is at most"
                                f" {MAX_GUARDRAIL_CHARS} ({QUOTAS}: \"Maximum size of a policy document\")"))
    if section == "rcps" and (policy.document.version != "2012-10-17" or "version" not in policy.document.model_fields_set):
        problems.append(Problem(path + (("Version",) if "version" in policy.document.model_fields_set else ()),
                                f"every RCP includes \"Version\": \"2012-10-17\" (Organizations User Guide, \"{page}\")"))
    for spath, statement in located_statements(policy.document, path):
        problems += _scp_statement(statement, spath) if section == "scps" else _rcp_statement(statement, spath)
    return problems


def _scp_statement(statement: Any, path: Path) -> list[Problem]:
    return [Problem(path + (alias,), f"an SCP has no {alias}: it applies to the principals of the accounts it is attached"
                    " to (Organizations User Guide, \"SCP syntax\", \"Elements summary\")", at_key=True)
            for field, alias in (("principal", "Principal"), ("not_principal", "NotPrincipal"))
            if getattr(statement, field) is not None]


def _rcp_statement(statement: Any, path: Path) -> list[Problem]:
    page = "(Organizations User Guide, \"RCP syntax\")"
    problems = []
    if statement.effect != "Deny":
        problems.append(Problem(path + ("Effect",), f"an RCP's statements deny: the effect of Allow is only supported for"
                                f" the AWS managed RCPFullAWSAccess, which is always attached {page}"))
    if statement.principal is None and statement.not_principal is None:
        problems.append(Problem(path, f"an RCP statement needs \"Principal\": \"*\" (narrowed with conditions) {page}"))
    elif statement.principal is not None and statement.principal != "*":
        problems.append(Problem(path + ("Principal",), f"an RCP's Principal is \"*\"; name principals with conditions"
                                f" such as aws:PrincipalArn or aws:PrincipalOrgID instead {page}"))
    for field, alias in (("not_principal", "NotPrincipal"), ("not_action", "NotAction")):
        if getattr(statement, field) is not None:
            problems.append(Problem(path + (alias,), f"an RCP takes no {alias} {page}", at_key=True))
    actions = statement.action
    for index, action in enumerate(as_list(actions) if actions is not None else []):
        service = action.partition(":")[0]
        if action != "*" and service not in RCP_SERVICES:
            where = path + ("Action",) + ((index,) if isinstance(actions, list) else ())
            problems.append(Problem(where, f"{action!r}: RCPs apply only to {', '.join(sorted(RCP_SERVICES))} (Organizations"
                                    " User Guide, \"Resource control policies (RCPs)\", \"List of AWS services that"
                                    " support RCPs\")"))
    return problems


def check_vpc_endpoints(desired: DesiredState, prefix: Path = ()) -> list[Problem]:
    problems = []
    known = {"home", *desired.accounts}
    for name, endpoint in desired.vpc_endpoints.items():
        path = prefix + ("vpc_endpoints", name)
        if endpoint.account is not None and endpoint.account not in known:
            problems.append(Problem(path + ("account",), f"{endpoint.account!r} names no account of this scenario{_known(known)}"))
        if endpoint.policy is not None:
            size = sent_size(endpoint.policy, desired.organization)
            if size > MAX_ENDPOINT_POLICY_CHARS:
                problems.append(Problem(path + ("policy",), f"this endpoint policy is {size} characters once minified; an"
                                        f" endpoint policy is at most {MAX_ENDPOINT_POLICY_CHARS} (AWS PrivateLink Guide,"
                                        " \"Control access to VPC endpoints using endpoint policies\")"))
    return problems


def check_endpoint_expectation(desired: DesiredState, expectation: Expectation, path: Path) -> list[Problem]:
    """`vpc_endpoint: NAME` names an endpoint of the scenario that fronts the action's service."""
    name = expectation.vpc_endpoint
    if name is None:
        return []
    endpoint = desired.vpc_endpoints.get(name)
    if endpoint is None:
        known = _known(desired.vpc_endpoints) if desired.vpc_endpoints else " (there are none)"
        return [Problem(path + ("vpc_endpoint",), f"{name!r} names no VPC endpoint of this scenario{known}")]
    service = expectation.action.partition(":")[0]
    if endpoint.service != service:
        return [Problem(path + ("vpc_endpoint",), f"VPC endpoint {name!r} fronts {endpoint.service}, and {expectation.action}"
                        f" is a {service} request: an endpoint carries its own service's requests only")]
    if expectation.offline:
        return [Problem(path + ("vpc_endpoint",), "an offline verification makes no request, so none goes through an endpoint")]
    return []


def check_org_condition(organization: Organization | None, key: str, values: Any, path: Path) -> list[Problem]:
    """`organization` and `ou:UNIT` in a condition name the declared organization and its units."""
    problems = []
    for index, value in org_references(key, values):
        where = path + ((index,) if index is not None else ())
        if organization is None:
            problems.append(Problem(where, f"{value!r} names the scenario's organization under {key}, and the scenario"
                                    " declares none (`organization:`)"))
            continue
        name, _ = unit_reference(value) if value != ORGANIZATION_REFERENCE else ("", "")
        if value != ORGANIZATION_REFERENCE and name not in organization.units:
            units = _known(organization.units) if organization.units else " (there are none)"
            problems.append(Problem(where, f"{value!r} names no unit of this organization{units}"))
    return problems


def guardrail_documents(desired: DesiredState, prefix: Path = ()) -> list[tuple[Path, PolicyDocument, bool]]:
    """The SCPs, RCPs and endpoint policies, for the reference checks every policy gets (principals
    allowed in RCPs and endpoint policies)."""
    found: list[tuple[Path, PolicyDocument, bool]] = []
    if desired.organization is not None:
        for section in ("scps", "rcps"):
            for name, policy in getattr(desired.organization, section).items():
                found.append((prefix + ORG + (section, name, "document"), policy.document, section == "rcps"))
    for name, endpoint in desired.vpc_endpoints.items():
        if endpoint.policy is not None:
            found.append((prefix + ("vpc_endpoints", name, "policy"), endpoint.policy, True))
    return found


__all__ = ["check_organization", "check_vpc_endpoints", "check_endpoint_expectation", "check_org_condition",
           "guardrail_documents", "sent_size"]
