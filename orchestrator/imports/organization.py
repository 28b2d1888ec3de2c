"""A template's AWS Organizations policies and units, and its VPC endpoints, as the scenario's
`organization:` and `vpc_endpoints:` (what `orchestrate export` writes, export/cloudformation_org.py).

CloudFormation Template Reference: "AWS::Organizations::Policy" (Name, Type, Content, Description,
TargetIds, Tags), "AWS::Organizations::OrganizationalUnit" (Name, ParentId, Tags),
"AWS::EC2::VPCEndpoint" (VpcId, ServiceName, PolicyDocument, Tags). Names come from the
`orchestrate:name` tag, else the Name property (an endpoint has none), else the logical id.

Parameters. An export's `Metadata.Orchestrate.Parameters` says what each parameter without a value
stands for: `organization` (the organization's id), `root`, `ou:NAME` (a unit's id), `vpc:NAME`.
Their Refs become tokens (`⟦organization-id:organization⟧`, `⟦root-id:root⟧`, `⟦unit-id:NAME⟧`),
as a unit resource's own Ref does, an endpoint's Ref is `⟦vpce-id:NAME⟧` and a named VPC's parameter
`⟦vpc-id:NAME⟧`; in a condition the organization's id is `organization` again, a path
`ORG/ROOT/UNIT.../REST` is `ou:UNIT[/REST]`, and an endpoint's or a named VPC's id the one the
scenario's name gives it (model/organization.py, "Ids"); as an endpoint's VpcId, the VPC's name.
`Metadata.Orchestrate.Accounts` names the member accounts a policy targets by id.

What has no place in the scenario is noted and left out: a policy of another type (tag, backup,
...), a unit whose parent is not the root or a unit of the template, an endpoint of a service
orchestrate does not front, a target that is neither the root, a unit nor an account id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from orchestrator.constants import TAG_NAME
from orchestrator.imports.documents import document
from orchestrator.imports.intrinsics import ACCOUNT, Entity, Resolver, Unresolved, to_text
from orchestrator.imports.names import fit, tags_of
from orchestrator.model.organization import ENDPOINT_SERVICES, ORGANIZATION_REFERENCE, OrganizationIds

POLICY, UNIT, ENDPOINT = "AWS::Organizations::Policy", "AWS::Organizations::OrganizationalUnit", "AWS::EC2::VPCEndpoint"
TYPES = (UNIT, POLICY, ENDPOINT)
SECTIONS = {"SERVICE_CONTROL_POLICY": "scps", "RESOURCE_CONTROL_POLICY": "rcps"}
KINDS = {UNIT: "unit", ENDPOINT: "vpce"}
TOKENS = {"organization": "⟦organization-id:organization⟧", "root": "⟦root-id:root⟧"}
_PATH = re.compile(r"^⟦organization-id:organization⟧/⟦root-id:root⟧/((?:⟦unit-id:[^⟧]+⟧/)+)(.*)$", re.S)
_UNIT = re.compile(r"⟦unit-id:([^⟧]+)⟧")
_ENDPOINT = re.compile(r"^⟦(vpce|vpc)-id:([^⟧]+)⟧$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
#: The properties each type's mapping reads: any other is dropped, and said so.
MAPPED = {POLICY: frozenset({"Name", "Type", "Content", "Description", "TargetIds", "Tags"}),
          UNIT: frozenset({"Name", "ParentId", "Tags"}),
          ENDPOINT: frozenset({"VpcId", "ServiceName", "PolicyDocument", "Tags", "VpcEndpointType", "RouteTableIds",
                               "SubnetIds", "PrivateDnsEnabled"})}


def _orchestrate(body: dict[str, Any], key: str) -> dict[str, str]:
    metadata = body.get("Metadata")
    own = metadata.get("Orchestrate") if isinstance(metadata, dict) else None
    found = own.get(key) if isinstance(own, dict) else None
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def meanings(body: dict[str, Any]) -> dict[str, str]:
    """Parameter name -> the token its Ref stands for (module docstring, "Parameters")."""
    found: dict[str, str] = {}
    for parameter, meaning in _orchestrate(body, "Parameters").items():
        kind, _, name = meaning.partition(":")
        if meaning in TOKENS:
            found[parameter] = TOKENS[meaning]
        elif kind == "ou" and name:
            found[parameter] = f"⟦unit-id:{name}⟧"
        elif kind == "vpc" and name:
            found[parameter] = f"⟦vpc-id:{name}⟧"
    return found


def entities(resources: dict[str, dict[str, Any]], resolve: Callable[[Any], Any]) -> dict[str, Entity]:
    """Units and endpoints by logical id, so that their Refs name them."""
    found: dict[str, Entity] = {}
    for logical, resource in resources.items():
        kind = KINDS.get(resource["Type"])
        if kind is not None:
            found[logical] = Entity(kind, _name(logical, resource.get("Properties") or {}, resolve))
    return found


def _name(logical: str, properties: dict[str, Any], resolve: Callable[[Any], Any]) -> str:
    try:
        tagged = tags_of({"Tags": resolve(properties.get("Tags"))}).get(TAG_NAME)
        named = resolve(properties.get("Name"))
    except Unresolved:
        tagged = named = None
    raw = tagged or (named if isinstance(named, str) and named else None) or logical
    return re.sub(r"[^A-Za-z0-9_.+=@-]", "-", str(raw))[:128]


def condition_text(value: Any, scenario: str) -> Any:
    """A condition value: the organization's id, a unit's path or an endpoint's id as the scenario says them."""
    if not isinstance(value, str):
        return value
    if value == TOKENS["organization"]:
        return ORGANIZATION_REFERENCE
    path = _PATH.match(value)
    if path is not None:
        unit = _UNIT.findall(path.group(1))[-1]
        return f"ou:{unit}" + (f"/{path.group(2)}" if path.group(2) else "")
    endpoint = _ENDPOINT.match(value)
    if endpoint is not None:
        ids = OrganizationIds.embedded(scenario)
        return ids.endpoint(endpoint.group(2)) if endpoint.group(1) == "vpce" else ids.vpc(endpoint.group(2))
    return value


class OrganizationMapper:
    """Maps the three types into `organization`, `vpc_endpoints` and the `accounts` they need."""

    def __init__(self, resolver: Resolver, note: Callable[[str, str], None], sections: dict[str, Any]) -> None:
        self.resolver, self.note, self.sections = resolver, note, sections
        self.accounts = {account_id: name for name, account_id in _orchestrate(resolver.body, "Accounts").items()}
        self._managed_elsewhere(resolver.body)

    def _managed_elsewhere(self, body: dict[str, Any]) -> None:
        """An export from a member account names its organization's management account and units in
        `Metadata.Orchestrate.Organization`, as the references of its policies need them declared."""
        metadata = body.get("Metadata")
        own = metadata.get("Orchestrate") if isinstance(metadata, dict) else None
        declared = own.get("Organization") if isinstance(own, dict) else None
        if not isinstance(declared, dict) or not isinstance(declared.get("Management"), str):
            return
        management = declared["Management"]
        organization = self.organization()
        organization["management"] = management
        account_id = next((i for i, name in self.accounts.items() if name == management), None)
        if account_id is not None and management != "home":
            self.sections.setdefault("accounts", {})[management] = account_id
        units = declared.get("Units")
        for name, parent in units.items() if isinstance(units, dict) else ():
            organization.setdefault("units", {})[str(name)] = {} if parent == "root" else {"parent": str(parent)}

    def organization(self) -> dict[str, Any]:
        return self.sections.setdefault("organization", {})

    def map(self, logical: str, resource: dict[str, Any]) -> list[str]:
        """Maps one resource; returns the properties it dropped."""
        properties = resource.get("Properties") or {}
        {POLICY: self._policy, UNIT: self._unit, ENDPOINT: self._endpoint}[resource["Type"]](logical, properties)
        return [name for name in properties if name not in MAPPED[resource["Type"]]]

    def _unit(self, logical: str, properties: dict[str, Any]) -> None:
        name = self.resolver.entities[logical].name
        parent = self.resolver.resolve(properties.get("ParentId"))
        unit: dict[str, Any] = {}
        match = _UNIT.fullmatch(parent) if isinstance(parent, str) else None
        if match is not None:
            unit["parent"] = match.group(1)
        elif parent != TOKENS["root"] and not (isinstance(parent, str) and parent.startswith("r-")):
            self.note(logical, f"its ParentId {to_text(parent)!r} is neither the root nor a unit of this template: put"
                               " under the root")
        self.organization().setdefault("units", {})[name] = unit

    def _policy(self, logical: str, properties: dict[str, Any]) -> None:
        kind = self.resolver.resolve(properties.get("Type"))
        section = SECTIONS.get(kind) if isinstance(kind, str) else None
        if section is None:
            self.note(logical, f"not imported: an Organizations policy of type {kind!r} (only SCPs and RCPs are declared)")
            return
        name = fit("policy", _name(logical, properties, self.resolver.resolve))
        policy: dict[str, Any] = {}
        description = to_text(self.resolver.resolve(properties.get("Description")))
        if isinstance(description, str) and description and description != f"orchestrate: {name}":
            policy["description"] = description
        targets = [t for t in (self._target(logical, v) for v in self.resolver.resolve(properties.get("TargetIds") or [])) if t]
        if targets:
            policy["targets"] = targets
        policy["document"] = document(properties.get("Content"), self.resolver)
        self.organization().setdefault(section, {})[name] = policy

    def _target(self, logical: str, value: Any) -> str | None:
        if value == TOKENS["root"]:
            return "root"
        if value == ACCOUNT:
            return "account:home"
        match = _UNIT.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            return f"ou:{match.group(1)}"
        if isinstance(value, str) and _ACCOUNT_ID.match(value):
            name = self.accounts.get(value, f"account-{value}")
            self.sections.setdefault("accounts", {})[name] = value
            return f"account:{name}"
        self.note(logical, f"target {to_text(value)!r} is neither the root, a unit of this template nor an account id:"
                           " left out")
        return None

    def _endpoint(self, logical: str, properties: dict[str, Any]) -> None:
        name = self.resolver.entities[logical].name
        service = to_text(self.resolver.resolve(properties.get("ServiceName")))
        service = service.rpartition(".")[2] if isinstance(service, str) else None
        if service not in ENDPOINT_SERVICES:
            self.note(logical, f"not imported: an endpoint of {service!r} (orchestrate's endpoints front"
                               f" {', '.join(ENDPOINT_SERVICES)})")
            return
        vpc = to_text(self.resolver.resolve(properties.get("VpcId")))
        endpoint: dict[str, Any] = {"service": service, "vpc": vpc}
        if properties.get("PolicyDocument") is not None:
            endpoint["policy"] = document(properties["PolicyDocument"], self.resolver)
        self.sections.setdefault("vpc_endpoints", {})[name] = endpoint
