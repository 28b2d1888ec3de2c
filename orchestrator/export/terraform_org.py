"""The organization's SCPs, RCPs and units, and the VPC endpoints, as Terraform (organization.py says
which configuration holds them and what neither format can say).

hashicorp/aws, registry.terraform.io/providers/hashicorp/aws/latest/docs:

- `aws_organizations_policy` per SCP and RCP (label `scp_NAME`/`rcp_NAME`: the two may share a
  name): name, description, type, content (`jsonencode`), tags; `aws_organizations_policy_attachment`
  per target (policy_id, target_id: the root's id, a unit's, a member account's declared id).
- `aws_organizations_organizational_unit` per unit: name, parent_id (the root's id or the parent
  unit's), tags.
- The root's and the organization's ids from the data source `aws_organizations_organization`
  (`roots[0].id`, `id`) in the management account, which the configuration does not create
  (resource `aws_organizations_organization` would make the configuration the organization's owner:
  `terraform destroy` would delete it). Another account's configuration, where a policy names a unit's
  path, takes the ids as variables (`organization_id`, `organization_root_id`,
  `organizational_unit_ids`): ListRoots and ListOrganizationalUnitsForParent are the management
  account's.
- `aws_vpc_endpoint` per endpoint: vpc_id (variable `vpc_id_NAME`, the scenario's id as its default
  when it gives one), service_name `com.amazonaws.REGION.SERVICE`, vpc_endpoint_type Gateway (S3,
  DynamoDB: route_table_ids from `route_table_ids_ENDPOINT`) or Interface (KMS, STS: subnet_ids from
  `subnet_ids_ENDPOINT`, private_dns_enabled), policy, tags; a literal id of it in a policy is its `id`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.export.hcl import Block, Expr, escape, jsonencode
from orchestrator.export.organization import GATEWAY_SERVICES, POLICY_TYPES, managed_here, map_conditions, vpc_names
from orchestrator.export.references import snake
from orchestrator.export.render import Source
from orchestrator.model.organization import ROOT_TARGET, target_kind

ORGANIZATION = "data.aws_organizations_organization.current"
LABEL_PREFIX = {"scps": "scp", "rcps": "rcp"}
UNIT = "aws_organizations_organizational_unit"

Document = Callable[[Any], dict[str, Any]]
Tags = Callable[[str, dict[str, str]], dict[str, str]]


def _ids(src: Source) -> tuple[str, str, Callable[[str], str]]:
    """The organization's id, the root's and a unit's, as HCL expressions."""
    if managed_here(src) is not None:
        return f"{ORGANIZATION}.id", f"{ORGANIZATION}.roots[0].id", lambda unit: f"{UNIT}.{snake(unit)}.id"
    return "var.organization_id", "var.organization_root_id", lambda unit: f"var.organizational_unit_ids[\"{escape(unit)}\"]"


def map_document(src: Source, document: dict[str, Any]) -> dict[str, Any]:
    org_id, root_id, unit_id = _ids(src)

    def path(chain: list[str], rest: str) -> Expr:
        units = "".join(f"${{{unit_id(unit)}}}/" for unit in chain)
        return Expr(f'"${{{org_id}}}/${{{root_id}}}/{units}{escape(rest)}"')

    return map_conditions(document, src, lambda: Expr(org_id), path, lambda name: Expr(f"aws_vpc_endpoint.{snake(name)}.id"),
                          lambda vpc: Expr(f"var.{vpc_variable(vpc)}"))


def blocks(src: Source, document: Document, tags: Tags) -> list[Block]:
    found: list[Block] = []
    organization = managed_here(src)
    if organization is not None:
        _, root_id, unit_id = _ids(src)
        for name, unit in sorted(organization.units.items()):
            parent = root_id if unit.parent == ROOT_TARGET else unit_id(unit.parent)
            found.append(Block("resource", [UNIT, snake(name)], {"name": name, "parent_id": Expr(parent),
                                                                  "tags": tags(name, {})}))
        for section, policy_type in POLICY_TYPES.items():
            for name, guardrail in sorted(getattr(organization, section).items()):
                found += _policy(src, section, policy_type, name, guardrail, document, tags)
    for name, endpoint in sorted(src.desired.vpc_endpoints.items()):
        if endpoint.account in (None, "home"):
            found.append(_endpoint(name, endpoint, document, tags))
    return found


def _policy(src: Source, section: str, policy_type: str, name: str, guardrail: Any, document: Document,
            tags: Tags) -> list[Block]:
    label = snake(f"{LABEL_PREFIX[section]}_{name}")
    found = [Block("resource", ["aws_organizations_policy", label], {
        "name": name, "description": guardrail.description or f"orchestrate: {name}", "type": policy_type,
        "content": jsonencode(document(guardrail.document)), "tags": tags(name, {})})]
    for target in sorted(guardrail.targets):
        found.append(Block("resource", ["aws_organizations_policy_attachment", snake(f"{label}_{target.replace(':', '_')}")], {
            "policy_id": Expr(f"aws_organizations_policy.{label}.id"), "target_id": _target(src, target)}))
    return found


def _target(src: Source, target: str) -> Any:
    _, root_id, unit_id = _ids(src)
    kind, name = target_kind(target)
    if kind == ROOT_TARGET:
        return Expr(root_id)
    if kind == "ou":
        return Expr(unit_id(name))
    return Expr("data.aws_caller_identity.current.account_id") if name == "home" else src.desired.accounts[name]


def _endpoint(name: str, endpoint: Any, document: Document, tags: Tags) -> Block:
    gateway = endpoint.service in GATEWAY_SERVICES
    attributes: dict[str, Any] = {
        "vpc_id": Expr(f"var.{vpc_variable(endpoint.vpc)}"),
        "service_name": Expr(f'"com.amazonaws.${{data.aws_region.current.name}}.{endpoint.service}"'),
        "vpc_endpoint_type": "Gateway" if gateway else "Interface"}
    if gateway:
        attributes["route_table_ids"] = Expr(f"var.route_table_ids_{snake(name)}")
    else:
        attributes |= {"subnet_ids": Expr(f"var.subnet_ids_{snake(name)}"), "private_dns_enabled": True}
    if endpoint.policy is not None:
        attributes["policy"] = jsonencode(document(endpoint.policy))
    attributes["tags"] = tags(name, {})
    return Block("resource", ["aws_vpc_endpoint", snake(name)], attributes)


def vpc_variable(vpc: str) -> str:
    return snake(f"vpc_id_{vpc}").replace("-", "_").replace(".", "_")


def variables(src: Source, body: str) -> list[Block]:
    """The variables the blocks' text uses."""
    found: list[Block] = []
    string = Expr("string")
    for name, description in (("organization_id", "the organization's id (o-...)"),
                              ("organization_root_id", "the id of the organization's root (r-...)")):
        if f"var.{name}" in body:
            found.append(Block("variable", [name], {"type": string, "description": description}))
    if "var.organizational_unit_ids" in body:
        found.append(Block("variable", ["organizational_unit_ids"], {
            "type": Expr("map(string)"), "description": "the ids (ou-...) of the organizational units by the scenario's names"}))
    for vpc in vpc_names(src):
        attributes: dict[str, Any] = {"type": string, "description": f"the VPC the scenario calls {vpc}"}
        if vpc.startswith("vpc-"):
            attributes["default"] = vpc
        found.append(Block("variable", [vpc_variable(vpc)], attributes))
    for name, endpoint in sorted(src.desired.vpc_endpoints.items()):
        if endpoint.account not in (None, "home"):
            continue
        kind, what = (("route_table_ids", f"the route tables whose {endpoint.service} traffic goes through the endpoint {name}")
                      if endpoint.service in GATEWAY_SERVICES else
                      ("subnet_ids", f"the subnets (one per Availability Zone) the endpoint {name} has its interfaces in"))
        found.append(Block("variable", [f"{kind}_{snake(name)}"], {"type": Expr("list(string)"), "description": what}))
    return found
