"""Scenario references (`user:NAME`, `key:NAME`, `account`, ...) as a template's own references.

The reconcilers resolve references to orchestrate's ARNs (`RunContext.resolve_policy`); an export
must not: each format maps them to its references instead (CloudFormation `Fn::GetAtt`/`Ref`,
Terraform resource attributes), so the template carries no ARN of an account it was not deployed
in. The walk over a policy is the reconcilers' (IAM User Guide, "IAM JSON policy elements":
Principal, Resource, NotResource, and the Arn condition operators' values).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from orchestrator import arns
from orchestrator.model.policy import ARN_OPERATORS, ORCHESTRATE, base_operator
from orchestrator.model.scenario import DesiredState

REFERENCE_KINDS = frozenset({"user", "group", "policy", "table", "key", "role", "bucket", "object", "account", "session"})
#: Reference kind -> the DesiredState section that declares it.
SECTIONS = {"user": "users", "group": "groups", "policy": "policies", "table": "tables", "key": "keys",
            "role": "roles", "bucket": "buckets"}
#: A logical id prefix per section (CloudFormation logical ids are alphanumeric).
PREFIXES = {"users": "User", "groups": "Group", "policies": "Policy", "tables": "Table", "keys": "Key",
            "roles": "Role", "buckets": "Bucket"}

Resolve = Callable[[str], Any]


def is_reference(value: Any) -> bool:
    if not isinstance(value, str) or value.startswith("arn:") or value == "*":
        return False
    return value in ("account", ORCHESTRATE) or value.partition(":")[0] in REFERENCE_KINDS


def mentions_orchestrate(desired: DesiredState) -> bool:
    """Whether any policy of the state names `orchestrate` (the template then takes the identity
    that deploys it as its key manager parameter)."""
    from orchestrator.loader.references import policy_documents

    found: list[str] = []

    def note(reference: str) -> str:
        found.append(reference)
        return reference

    for _, document, _ in policy_documents(desired):
        map_policy(document.model_dump(mode="json", by_alias=True, exclude_none=True), note)
    return ORCHESTRATE in found


def camel(text: str) -> str:
    """`orders-reader` -> `OrdersReader` (CloudFormation User Guide, "Resources": logical ids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def logical_id(section: str, name: str) -> str:
    return f"{PREFIXES[section]}{camel(name)}"


def snake(text: str) -> str:
    """A Terraform resource name: letters, digits, underscores and dashes, not starting with a digit."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text)
    return name if re.match(r"^[A-Za-z_]", name) else f"_{name}"


def map_policy(document: dict[str, Any], resolve: Resolve) -> dict[str, Any]:
    """The policy with each scenario reference replaced by `resolve(reference)`."""
    mapped = copy.deepcopy(document)
    statements = mapped.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        _map_statement(statement, resolve)
    return mapped


def _map_statement(statement: dict[str, Any], resolve: Resolve) -> None:
    for element in ("Principal", "NotPrincipal"):
        principal = statement.get(element)
        if isinstance(principal, dict) and "AWS" in principal:
            principal["AWS"] = _map_values(principal["AWS"], resolve)
    for element in ("Resource", "NotResource"):
        if element in statement:
            statement[element] = _map_values(statement[element], resolve)
    for operator, block in (statement.get("Condition") or {}).items():
        if base_operator(operator) in ARN_OPERATORS:
            for key, values in block.items():
                block[key] = _map_values(values, resolve)


def _map_values(values: Any, resolve: Resolve) -> Any:
    if isinstance(values, list):
        return [resolve(v) if is_reference(v) else v for v in values]
    return resolve(values) if is_reference(values) else values


def foreign_account(desired: DesiredState, reference: str) -> str | None:
    """The account name of the entity a reference names, when it is not home (else None)."""
    kind, _, name = reference.partition(":")
    if kind == "object":
        kind, name = "bucket", name.partition("/")[0]
    section = SECTIONS.get(kind)
    return desired.account_of(section, name) if section else None


def foreign_arn(desired: DesiredState, region: str, reference: str) -> str:
    """The ARN of an entity of another scenario account (its declared id is the scenario's, not
    ours). A key's id is known only in its account: the ARN names it by its scenario name."""
    kind, _, name = reference.partition(":")
    account = desired.accounts[desired.account_of(SECTIONS.get(kind, "buckets"), name.partition("/")[0]) or ""]
    if kind == "user":
        return arns.user_arn(account, name)
    if kind == "role":
        return arns.role_arn(account, name, desired.roles[name].path)
    if kind == "table":
        return arns.table_arn(region, account, name)
    if kind in ("bucket", "object"):
        return arns.bucket_arn(name)  # an object's is `BUCKET/KEY`: the bucket's ARN, with the key
    return arns.key_arn(region, account, f"{name}-in-{account}")


def account_arn(desired: DesiredState, reference: str) -> str | None:
    """`account:NAME` of another account: its root ARN from the declared id; None for home."""
    name = reference.partition(":")[2]
    if reference == "account" or name in ("", "home"):
        return None
    return arns.root_arn(desired.accounts[name])


def account_level(desired: DesiredState, region: str, reference: str, root: Any) -> Any | None:
    """What both formats write alike: another account's root or entity by its declared id, and
    `root` (the format's own expression of the deploying account's root) for `account`/`account:home`;
    None for a reference to an entity of the template itself."""
    other = account_arn(desired, reference) if reference.startswith("account:") else None
    if other is not None:
        return other
    if reference in ("account", "account:home"):
        return root
    if foreign_account(desired, reference) is not None:
        return foreign_arn(desired, region, reference)
    return None


def managed_policy_name(name: str) -> tuple[str, str]:
    """('scenario', NAME) for `policy:NAME`, ('arn', ARN) for an ARN, ('aws', NAME) for an AWS managed policy."""
    if name.startswith("policy:"):
        return "scenario", name.removeprefix("policy:")
    if name.startswith("arn:"):
        return "arn", name
    return "aws", name
