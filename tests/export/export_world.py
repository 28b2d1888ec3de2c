"""What a template's parameters need in the world before its stack is deployed (moto, embedded),
done as its notes tell a user to: the key manager, the organization (created with the SCP and RCP
policy types enabled, its members invited: organization.py's notes), and a VPC with a route table
and a subnet for the endpoints."""

from __future__ import annotations

from typing import Any

from orchestrator.authz.gate.caller import principal_arn
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.backends.accounts import in_account
from orchestrator.model.organization import ROOT_TARGET
from orchestrator.model.scenario import DesiredState


def deploy_parameters(backend: EmbeddedBackend, desired: DesiredState, template: dict[str, Any]) -> list[dict[str, str]]:
    declared = template.get("Parameters") or {}
    values: dict[str, str] = {}
    if "KeyManagerArn" in declared:
        values["KeyManagerArn"] = principal_arn(backend.identity()["Arn"])
    if desired.organization is not None and desired.organization.management == "home":
        values.update(_organization(backend, desired))
    elif desired.organization is not None:
        values.update(_managed_elsewhere(backend, template, desired))
    if any(spec.get("Type") == "AWS::EC2::VPC::Id" for spec in declared.values()):
        values.update(_network(backend, declared))
    return [{"ParameterKey": name, "ParameterValue": value} for name, value in values.items() if name in declared]


def _organization(backend: EmbeddedBackend, desired: DesiredState) -> dict[str, str]:
    client = backend.client("organizations")
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]
    enabled = {kind["Type"] for kind in root.get("PolicyTypes", []) if kind.get("Status") == "ENABLED"}
    for policy_type in {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"} - enabled:
        client.enable_policy_type(RootId=root["Id"], PolicyType=policy_type)
    assert desired.organization is not None
    for name in desired.organization.members(desired.accounts):
        if name != "home":
            client.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": desired.accounts[name]})
    return {"OrganizationId": organization["Id"], "OrganizationRootId": root["Id"]}


def _managed_elsewhere(backend: EmbeddedBackend, template: dict[str, Any], desired: DesiredState) -> dict[str, str]:
    """The organization as its management account holds it before the member's stack is deployed:
    created there, its units made under their parents and the member accounts moved into them (its
    SCPs and RCPs are that account's to deploy, a note of this template); the parameters get its ids."""
    organization = desired.organization
    assert organization is not None
    ids = {"home": backend.account_id, **desired.accounts}
    client = in_account(backend, ids[organization.management]).client("organizations")
    created = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]["Id"]
    units: dict[str, str] = {}
    for unit in sorted(organization.units, key=lambda name: len(organization.chain(name))):
        parent = organization.units[unit].parent
        units[unit] = client.create_organizational_unit(ParentId=root if parent == ROOT_TARGET else units[parent],
                                                        Name=unit)["OrganizationalUnit"]["Id"]
    for name in organization.members(desired.accounts):
        if name == organization.management:
            continue
        client.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": ids[name]})
        unit = organization.unit_of(name)
        if unit is not None:
            client.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=units[unit])
    found = {}
    for name, meaning in template["Metadata"]["Orchestrate"].get("Parameters", {}).items():
        kind, _, unit = meaning.partition(":")
        if meaning in ("organization", "root"):
            found[name] = created["Id"] if meaning == "organization" else root
        elif kind == "ou":
            found[name] = units[unit]
    return found


def _network(backend: EmbeddedBackend, declared: dict[str, Any]) -> dict[str, str]:
    ec2 = backend.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    values = {}
    for name, spec in declared.items():
        kind = spec.get("Type")
        if kind == "AWS::EC2::VPC::Id":
            values[name] = vpc
        elif kind == "List<AWS::EC2::Subnet::Id>":
            values[name] = subnet
        elif name.endswith("RouteTableIds"):
            values[name] = table
    return values
