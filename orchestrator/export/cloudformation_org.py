"""The organization's SCPs, RCPs and units, and the VPC endpoints, as CloudFormation (organization.py
says which template holds them and what neither format can say).

- `AWS::Organizations::Policy` per SCP (`Scp<Name>`) and RCP (`Rcp<Name>`): Name, Description (the
  reconciler's `orchestrate: NAME`), Type SERVICE_CONTROL_POLICY / RESOURCE_CONTROL_POLICY, Content
  as a JSON object ("Content": a JSON string would defeat drift detection), TargetIds (the root's id,
  a unit's, a member account's declared id), Tags (orchestrate's ownership tags, as the reconciler's).
- `AWS::Organizations::OrganizationalUnit` per unit (`Unit<Name>`): Name, ParentId (the root's id or
  the parent unit's `Ref`, which is the unit's id), Tags.
- Parameters: `OrganizationRootId` (`^r-[0-9a-z]{4,32}$`, Organizations API Reference, "Root") and,
  where a policy names the organization, `OrganizationId` (`^o-[a-z0-9]{10,32}$`, "Organization"):
  the template does not create the organization (`AWS::Organizations::Organization` exists, but a
  stack deleting it would delete the organization and every policy in it). In another account's
  template a unit a policy's path names is a parameter too (`OrganizationalUnit<Name>Id`).
- `AWS::EC2::VPCEndpoint` per endpoint (`Endpoint<Name>`): VpcId from a parameter (`Vpc<Name>Id`,
  type AWS::EC2::VPC::Id, the scenario's id as its Default when it gives one), ServiceName
  `com.amazonaws.${AWS::Region}.SERVICE`, VpcEndpointType Gateway for S3 and DynamoDB with the route
  tables of a parameter (`Endpoint<Name>RouteTableIds`), Interface for KMS and STS in the subnets of
  one (`Endpoint<Name>SubnetIds`) with PrivateDnsEnabled, PolicyDocument (absent: AWS's default, full
  access, as the scenario's), Tags. A literal id of it in a policy is its `Ref` (the endpoint's id),
  a named VPC's literal id the VPC parameter's `Ref`.

`Metadata.Orchestrate.Parameters` says what each of these parameters stands for in the scenario
(`organization`, `root`, `ou:NAME`, `vpc:NAME`), so `orchestrate import` reads them back.

CloudFormation Template Reference, "AWS::Organizations::Policy", "AWS::Organizations::OrganizationalUnit",
"AWS::Organizations::Organization", "AWS::EC2::VPCEndpoint"; "Parameters" (AWS-specific parameter types).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.export.organization import (GATEWAY_SERVICES, POLICY_TYPES, managed_here, map_conditions,
                                              vpc_names)
from orchestrator.export.references import camel
from orchestrator.export.render import Source
from orchestrator.model.organization import ROOT_TARGET, target_kind

ORG_ID, ROOT_ID = "OrganizationId", "OrganizationRootId"
ROOT_PATTERN, ORG_PATTERN = r"^r-[0-9a-z]{4,32}$", r"^o-[a-z0-9]{10,32}$"
UNIT_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
LOGICAL_PREFIX = {"scps": "Scp", "rcps": "Rcp"}

Tags = Callable[[str, dict[str, str]], list[dict[str, str]]]
Policy = Callable[[Any], dict[str, Any]]


def unit_id(name: str) -> str:
    return f"Unit{camel(name)}"


def unit_parameter(name: str) -> str:
    return f"OrganizationalUnit{camel(name)}Id"


def endpoint_id(name: str) -> str:
    return f"Endpoint{camel(name)}"


def vpc_parameter(vpc: str) -> str:
    return f"Vpc{camel(vpc)}Id"


def map_document(src: Source, document: dict[str, Any]) -> dict[str, Any]:
    """Organization references and literal endpoint ids as the template's parameters and resources."""
    here = managed_here(src) is not None

    def unit(name: str) -> str:
        return "${" + (unit_id(name) if here else unit_parameter(name)) + "}"

    def path(chain: list[str], rest: str) -> Any:
        units = "".join(f"{unit(name)}/" for name in chain)
        return {"Fn::Sub": f"${{{ORG_ID}}}/${{{ROOT_ID}}}/{units}{rest.replace('${', '${!')}"}

    return map_conditions(document, src, lambda: {"Ref": ORG_ID}, path, lambda name: {"Ref": endpoint_id(name)},
                          lambda vpc: {"Ref": vpc_parameter(vpc)})


def resources(src: Source, policy: Policy, tags: Tags) -> dict[str, Any]:
    found: dict[str, Any] = {}
    organization = managed_here(src)
    if organization is not None:
        for name, unit in sorted(organization.units.items()):
            parent = {"Ref": ROOT_ID} if unit.parent == ROOT_TARGET else {"Ref": unit_id(unit.parent)}
            found[unit_id(name)] = {"Type": "AWS::Organizations::OrganizationalUnit",
                                    "Properties": {"Name": name, "ParentId": parent, "Tags": tags(name, {})}}
        for section, policy_type in POLICY_TYPES.items():
            for name, guardrail in sorted(getattr(organization, section).items()):
                properties: dict[str, Any] = {
                    "Name": name, "Description": guardrail.description or f"orchestrate: {name}", "Type": policy_type,
                    "Content": policy(guardrail.document)}
                if guardrail.targets:
                    properties["TargetIds"] = [_target(src, target) for target in guardrail.targets]
                properties["Tags"] = tags(name, {})
                found[f"{LOGICAL_PREFIX[section]}{camel(name)}"] = {"Type": "AWS::Organizations::Policy",
                                                                     "Properties": properties}
    for name, endpoint in sorted(src.desired.vpc_endpoints.items()):
        if endpoint.account in (None, "home"):
            found[endpoint_id(name)] = _endpoint(name, endpoint, policy, tags)
    return found


def _target(src: Source, target: str) -> Any:
    kind, name = target_kind(target)
    if kind == ROOT_TARGET:
        return {"Ref": ROOT_ID}
    if kind == "ou":
        return {"Ref": unit_id(name)}
    return {"Ref": "AWS::AccountId"} if name == "home" else src.desired.accounts[name]


def _endpoint(name: str, endpoint: Any, policy: Policy, tags: Tags) -> dict[str, Any]:
    gateway = endpoint.service in GATEWAY_SERVICES
    properties: dict[str, Any] = {
        "VpcId": {"Ref": vpc_parameter(endpoint.vpc)},
        "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{endpoint.service}"},
        "VpcEndpointType": "Gateway" if gateway else "Interface"}
    if gateway:
        properties["RouteTableIds"] = {"Ref": f"{endpoint_id(name)}RouteTableIds"}
    else:
        properties |= {"SubnetIds": {"Ref": f"{endpoint_id(name)}SubnetIds"}, "PrivateDnsEnabled": True}
    if endpoint.policy is not None:
        properties["PolicyDocument"] = policy(endpoint.policy)
    properties["Tags"] = tags(name, {})
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": properties}


def metadata(src: Source) -> dict[str, Any]:
    """What `orchestrate import` needs to name what the template names by id: `Accounts` (the
    member accounts a policy targets, and the management account of an organization managed
    elsewhere, by the scenario's names) and, in another account's template, `Organization`
    (its management account and units by parent: what its policies' references need declared)."""
    found: dict[str, Any] = {}
    organization = src.desired.organization
    here = managed_here(src)
    targeted = {target_kind(target)[1] for section in POLICY_TYPES for policy in getattr(here, section, {}).values()
                for target in policy.targets if target_kind(target)[0] == "account"}
    if organization is not None and here is None:
        targeted.add(organization.management)
        found["Organization"] = {"Management": organization.management,
                                 "Units": {name: unit.parent for name, unit in sorted(organization.units.items())}}
    accounts = {name: src.desired.accounts[name] for name in sorted(targeted) if name in src.desired.accounts}
    return ({"Accounts": accounts} if accounts else {}) | found


def parameters(src: Source, body: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters the resources' text uses, and what each stands for (Metadata.Orchestrate.Parameters)."""
    found: dict[str, Any] = {}
    meaning: dict[str, str] = {}

    def used(name: str) -> bool:
        return f'"Ref": "{name}"' in body or f"${{{name}}}" in body

    if used(ORG_ID):
        found[ORG_ID] = {"Type": "String", "AllowedPattern": ORG_PATTERN,
                         "Description": "the organization's id (o-...), which the policies' aws:PrincipalOrgID/aws:PrincipalOrgPaths conditions name"}
        meaning[ORG_ID] = "organization"
    if used(ROOT_ID):
        found[ROOT_ID] = {"Type": "String", "AllowedPattern": ROOT_PATTERN,
                          "Description": "the id of the organization's root (r-..., ListRoots in the management account)"}
        meaning[ROOT_ID] = "root"
    organization = src.desired.organization
    for unit in sorted(organization.units) if organization is not None else []:
        if used(unit_parameter(unit)):
            found[unit_parameter(unit)] = {"Type": "String", "AllowedPattern": UNIT_PATTERN,
                                           "Description": f"the id of the organizational unit {unit} (ou-...)"}
            meaning[unit_parameter(unit)] = f"ou:{unit}"
    found.update(_endpoint_parameters(src, body, meaning))
    return found, meaning


def _endpoint_parameters(src: Source, body: str, meaning: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for vpc in vpc_names(src):
        declaration: dict[str, Any] = {"Type": "AWS::EC2::VPC::Id", "Description": f"the VPC the scenario calls {vpc}"}
        if vpc.startswith("vpc-"):
            declaration["Default"] = vpc
        found[vpc_parameter(vpc)] = declaration
        meaning[vpc_parameter(vpc)] = f"vpc:{vpc}"
    for name, endpoint in sorted(src.desired.vpc_endpoints.items()):
        if endpoint.account not in (None, "home"):
            continue
        if endpoint.service in GATEWAY_SERVICES:
            found[f"{endpoint_id(name)}RouteTableIds"] = {
                "Type": "CommaDelimitedList",
                "Description": f"the route tables whose {endpoint.service} traffic goes through the endpoint {name}"}
        else:
            found[f"{endpoint_id(name)}SubnetIds"] = {
                "Type": "List<AWS::EC2::Subnet::Id>",
                "Description": f"the subnets (one per Availability Zone) the endpoint {name} has its interfaces in"}
    return found
