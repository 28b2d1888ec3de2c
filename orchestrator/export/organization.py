"""What both formats do alike with the organization and the VPC endpoints: which template holds
them, what neither format can say (notes), and the references policies make to them.

A template deploys into one account (notes.py, `other_account`), and AWS Organizations' policies
and units are created from the management account only (Organizations API Reference,
CreatePolicy, CreateOrganizationalUnit: "This operation can be called only from the organization's
management account"): the SCPs, RCPs and units go into the template only when the home account is
the management account; elsewhere the organization is one note, as another account's entities are.

Neither CloudFormation nor Terraform has a resource for what orchestrate's reconciler does around
them, each a note on `organization.organization` (orchestrator/resources/organization.py) with
what to do instead: the organization itself, enabling the SCP and RCP policy types on the root
(EnablePolicyType), inviting and moving member accounts (InviteAccountToOrganization,
MoveAccount) and detaching FullAWSAccess (`p-FullAWSAccess`, DetachPolicy). The template is
deployed into an organization that exists: its root (and, where a policy names it, the
organization's id) are inputs, never created by the template, whose deletion would delete the
organization ("AWS::Organizations::Organization": "If you delete an organization, you can't
recover it").

References. `organization` under aws:PrincipalOrgID/aws:ResourceOrgID is the organization's id
and `ou:UNIT[/REST]` under aws:PrincipalOrgPaths/aws:ResourceOrgPaths the unit's path (model
organization.py), each written as the format's expression of those ids (a parameter, a data
source, a unit resource's id); an endpoint's id a policy writes literally (the embedded one, made
from the scenario's name) is the exported endpoint's id, and a named VPC's the VPC the template takes
as a parameter (a VPC given by id stays as written).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from orchestrator.export.notes import Note
from orchestrator.export.render import Source
from orchestrator.model.organization import (ORGANIZATION_REFERENCE, Organization, OrganizationIds, org_references,
                                             unit_reference)
from orchestrator.model.policy import base_operator

ADDRESS = "organization.organization"
#: The policy sections and their Organizations policy types (Organizations API Reference, CreatePolicy, Type).
POLICY_TYPES = {"scps": "SERVICE_CONTROL_POLICY", "rcps": "RESOURCE_CONTROL_POLICY"}
#: The AWS managed SCP's id (Organizations User Guide, "Managing SCPs": FullAWSAccess, p-FullAWSAccess).
FULL_AWS_ACCESS = "p-FullAWSAccess"
#: Endpoint services served through a gateway endpoint (route tables) rather than an interface
#: endpoint (subnets): S3 and DynamoDB (AWS PrivateLink Guide, "Gateway endpoints"); KMS and STS
#: have interface endpoints only ("AWS services that integrate with AWS PrivateLink").
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})

#: The organization's id, a unit's path: the format's expression of them.
OrgId = Callable[[], Any]
UnitPath = Callable[[list[str], str], Any]


def managed_here(src: Source) -> Organization | None:
    """The organization when this template is the management account's (home), else None."""
    organization = src.desired.organization
    return organization if organization is not None and organization.management == "home" else None


def notes(src: Source, fmt: str) -> list[Note]:
    """What neither format says about the organization and the endpoints."""
    organization = src.desired.organization
    found: list[Note] = []
    if organization is not None and managed_here(src) is None:
        account = organization.management
        found.append(Note(ADDRESS, "", (
            f"AWS Organizations policies and units are made from the management account {account!r}"
            f" ({src.desired.accounts.get(account, '?')}) only; export that account's side of the scenario")))
    elif organization is not None:
        found += _management_notes(organization, fmt)
    for literal, name in sorted(endpoint_ids(src).items(), key=lambda item: item[1]):
        if _written_literally(src, literal):
            found.append(Note(f"vpc_endpoint.{name}", "id", (
                f"policies write its id {literal} (the one the scenario's name gives it on embedded): the template"
                " names the endpoint it creates instead, whose id AWS draws")))
    for literal, vpc in sorted(vpc_ids(src).items(), key=lambda item: item[1]):
        if _written_literally(src, literal):
            found.append(Note(f"vpc.{vpc}", "id", (
                f"policies write its id {literal} (the one the scenario's name gives it on embedded): the template"
                " names the VPC it is given instead")))
    for name in sorted(src.desired.vpc_endpoints):
        account = src.desired.vpc_endpoints[name].account
        if account not in (None, "home"):
            found.append(Note(f"vpc_endpoint.{name}", "", (
                f"lives in the scenario's account {account!r} ({src.desired.accounts.get(account, '?')}); a template"
                " deploys into one account; policies naming its id keep the scenario's literal id")))
    return found


def _management_notes(organization: Organization, fmt: str) -> list[Note]:
    resource = "CloudFormation resource" if fmt == "cloudformation" else "resource in this configuration"
    found = [Note(ADDRESS, "policy_types", (
        f"the organization must exist before deploying (CreateOrganization, FeatureSet ALL) with the"
        f" SERVICE_CONTROL_POLICY and RESOURCE_CONTROL_POLICY policy types enabled on its root (EnablePolicyType):"
        f" no {resource} does it here (the organization is not the template's to delete)"))]
    placed = any(unit.accounts for unit in organization.units.values())
    if placed or organization.outside:
        found.append(Note(ADDRESS, "accounts", (
            "member accounts join by invitation (InviteAccountToOrganization, accepted from each account) before"
            " deploying, and move into their units after it (MoveAccount); accounts outside stay out; no"
            f" {resource} invites or moves an existing account")))
    for name, unit in sorted(organization.units.items()):
        if unit.description:
            found.append(Note(ADDRESS, f"units.{name}.description", (
                "an organizational unit has no description in AWS (CreateOrganizationalUnit: Name, ParentId, Tags);"
                " the scenario's is documentation only")))
    if organization.detach_full_aws_access:
        targets = ", ".join(organization.detach_full_aws_access)
        found.append(Note(ADDRESS, "detach_full_aws_access", (
            f"detach the AWS managed SCP FullAWSAccess ({FULL_AWS_ACCESS}) from {targets} after deploying"
            f" (DetachPolicy): an AWS managed policy's attachments are no {resource}")))
    return found


def _written_literally(src: Source, literal: str) -> bool:
    from orchestrator.loader.references import policy_documents

    return any(literal in document.model_dump_json() for _, document, _ in policy_documents(src.desired))


def endpoint_ids(src: Source) -> dict[str, str]:
    """The embedded id of each of the template's endpoints -> its name (a policy may write it literally)."""
    ids = OrganizationIds.embedded(src.scenario)
    return {ids.endpoint(name): name for name, endpoint in src.desired.vpc_endpoints.items()
            if endpoint.account in (None, "home")}


def vpc_ids(src: Source) -> dict[str, str]:
    """The embedded id of each VPC the template's endpoints name (not give by id) -> its name."""
    ids = OrganizationIds.embedded(src.scenario)
    return {ids.vpc(vpc): vpc for vpc in vpc_names(src) if not vpc.startswith("vpc-")}


def vpc_names(src: Source) -> list[str]:
    """The VPCs of the template's endpoints, by the scenario's id or name, sorted."""
    return sorted({e.vpc for e in src.desired.vpc_endpoints.values() if e.account in (None, "home")})


def map_conditions(document: dict[str, Any], src: Source, org_id: OrgId, unit_path: UnitPath,
                   endpoint: Callable[[str], Any], vpc: Callable[[str], Any]) -> dict[str, Any]:
    """``document`` with its organization references and literal endpoint and VPC ids, in condition
    values, as the format's expressions (``unit_path(chain, rest)``: the units from the root down,
    and what follows the path)."""
    mapped = copy.deepcopy(document)
    ids: dict[str, Callable[[], Any]] = {literal: (lambda n=name: endpoint(n)) for literal, name in endpoint_ids(src).items()}
    ids |= {literal: (lambda n=name: vpc(n)) for literal, name in vpc_ids(src).items()}
    organization = src.desired.organization
    statements = mapped.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for operator, block in (statement.get("Condition") or {}).items() if isinstance(statement, dict) else ():
            if base_operator(operator) is None or not isinstance(block, dict):
                continue
            for key, values in block.items():
                block[key] = _values(key, values, organization, ids, (org_id, unit_path))
    return mapped


def _values(key: str, values: Any, organization: Organization | None, ids: dict[str, Callable[[], Any]],
            formats: tuple[OrgId, UnitPath]) -> Any:
    org_id, unit_path = formats
    references = {index for index, _ in org_references(key, values)} if organization is not None else set()

    def one(index: int | None, value: Any) -> Any:
        if isinstance(value, str) and value in ids:
            return ids[value]()
        if index not in references or organization is None:
            return value
        if value == ORGANIZATION_REFERENCE:
            return org_id()
        name, rest = unit_reference(value)
        return unit_path(organization.chain(name), rest) if name in organization.units else value

    if isinstance(values, list):
        return [one(index, value) for index, value in enumerate(values)]
    return one(None, values)
