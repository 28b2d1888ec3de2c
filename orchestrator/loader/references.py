"""Checks on validated models that a schema cannot express.

Cross-references: every name a scenario uses exists (a table encrypted with an unknown key, a
policy naming `user:ghost`, an expectation acting as nobody, a seed item missing its key
attributes). Traps that would validate and then mislead: a scenario reference under a non-Arn
condition operator (it would stay literal text), seed items that DynamoDB would refuse only once
apply has started (two items with one key, numbers that are not finite).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.loader.bucket_checks import bucket_documents, check_buckets, check_s3_expectation
from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.key_checks import check_alias_expectation, check_key_expectation
from orchestrator.loader.organization_checks import (check_endpoint_expectation, check_org_condition, check_organization,
                                                     check_vpc_endpoints, guardrail_documents)
from orchestrator.loader.table_policy import check_table_policy
from orchestrator.loader.validation import Problem, located_statements
from orchestrator.model.organization import Organization
from orchestrator.model.policy import ARN_OPERATORS, ORCHESTRATE, PolicyDocument, as_list, base_operator, is_reference
from orchestrator.model.resources import Table
from orchestrator.model.scenario import EXPECTATION_ACTIONS, ITEM_ACTIONS, DesiredState, Expectation

Path = tuple[PathElement, ...]
PRINCIPAL_KINDS = ("user", "role", "account", "session")
RESOURCE_KINDS = ("key", "table", "user", "group", "policy", "role", "bucket", "object")
#: What an Arn condition may name: a resource, or a role session (`session:ROLE/NAME`).
CONDITION_KINDS = RESOURCE_KINDS + ("session",)
_FORMS = {"session": "session:ROLE/NAME"}


def check_desired(desired: DesiredState, prefix: Path = ()) -> list[Problem]:
    """Every reference inside the resources of one desired state."""
    problems: list[Problem] = check_accounts(desired, prefix)
    names = entity_names(desired)
    for name, table in desired.tables.items():
        problems += _check_table(desired, name, prefix + ("tables", name), names)
    for name, user in desired.users.items():
        path = prefix + ("users", name)
        problems += _check_members(names, "group", user.groups, path + ("groups",))
        problems += _check_policy_names(names, user.managed_policies, path + ("managed_policies",))
        if user.permissions_boundary:
            problems += _check_policy_names(names, [user.permissions_boundary], path + ("permissions_boundary",), single=True)
    for name, group in desired.groups.items():
        problems += _check_policy_names(names, group.managed_policies, prefix + ("groups", name, "managed_policies"))
    for name, role in desired.roles.items():
        path = prefix + ("roles", name)
        problems += _check_policy_names(names, role.managed_policies, path + ("managed_policies",))
        if role.permissions_boundary:
            problems += _check_policy_names(names, [role.permissions_boundary], path + ("permissions_boundary",), single=True)
    for name, key in desired.keys.items():
        for grant_name, grant in key.grants.items():
            path = prefix + ("keys", name, "grants", grant_name)
            for field in ("grantee", "retiring_principal"):
                value = getattr(grant, field)
                if value is not None:
                    problems += _check_refs(names, [value], path + (field,), PRINCIPAL_KINDS, value)
    problems += check_buckets(desired, prefix)
    problems += check_organization(desired, prefix) + check_vpc_endpoints(desired, prefix)
    for path, document, principals_allowed in policy_documents(desired, prefix):
        problems += check_document(names, document, path, principals_allowed, desired.organization)
    return problems


ACCOUNT_SECTIONS = ("users", "roles", "keys", "tables", "buckets")


def check_accounts(desired: DesiredState, prefix: Path = ()) -> list[Problem]:
    """`accounts:` names other accounts, each once; `home` is the scenario's own and cannot be
    declared; every `account:` of an entity names one of them (or home)."""
    problems: list[Problem] = []
    if "home" in desired.accounts:
        problems.append(Problem(prefix + ("accounts", "home"), "'home' is the scenario's own account; it is not declared"
                                " under accounts (pin its id with the top-level `account`)", at_key=True))
    seen: dict[str, str] = {}
    for name, account_id in desired.accounts.items():
        if account_id in seen:
            problems.append(Problem(prefix + ("accounts", name), f"{account_id} is already the account {seen[account_id]!r}"))
        seen.setdefault(account_id, name)
    known = set(desired.accounts) | {"home"}
    for section in ACCOUNT_SECTIONS:
        for name, entity in getattr(desired, section).items():
            if entity.account is not None and entity.account not in known:
                problems.append(Problem(prefix + (section, name, "account"),
                                        f"{entity.account!r} names no account of this scenario (known: {', '.join(sorted(known))})"))
    for name in desired.account_public_access_block:
        if name not in known:
            problems.append(Problem(prefix + ("account_public_access_block", name),
                                    f"{name!r} names no account of this scenario (known: {', '.join(sorted(known))})",
                                    at_key=True))
    return problems + _home_only(desired, prefix)


def _home_only(desired: DesiredState, prefix: Path) -> list[Problem]:
    """What cannot cross accounts: the scenario's managed policies and groups live in home, and
    IAM attaches only a policy of the principal's own account (or an AWS managed one) and adds
    a user only to a group of its account (IAM API Reference, AttachUserPolicy, AddUserToGroup);
    a DynamoDB table is encrypted only with a key of its own account and Region (DynamoDB
    Developer Guide, "Encryption at rest: How it works": the customer managed key "must be in
    the same account and Region as the table")."""
    problems: list[Problem] = []
    for section in ("users", "roles"):
        for name, entity in getattr(desired, section).items():
            if desired.account_of(section, name) is None:
                continue
            path = prefix + (section, name)
            attached = list(entity.managed_policies) + ([entity.permissions_boundary] if entity.permissions_boundary else [])
            for policy in attached:
                if policy.startswith("policy:"):
                    where = path + (("permissions_boundary",) if policy == entity.permissions_boundary
                                    else ("managed_policies", entity.managed_policies.index(policy)))
                    problems.append(Problem(where, f"{policy!r} lives in home, and IAM attaches only policies of the"
                                            f" {section[:-1]}'s own account ({entity.account}): use an inline policy"
                                            " or an AWS managed policy"))
            for index, group in enumerate(getattr(entity, "groups", [])):
                problems.append(Problem(path + ("groups", index), f"group {group!r} lives in home; a user of account"
                                        f" {entity.account} can join only groups of its own account"))
    for name, table in desired.tables.items():
        key = table.key_name()
        if key is not None and key in desired.keys and desired.account_of("keys", key) != desired.account_of("tables", name):
            problems.append(Problem(prefix + ("tables", name, "encryption"), f"key {key!r} lives in another account than"
                                    f" table {name!r}; DynamoDB encrypts a table only with a key of its own account"))
    return problems


def entity_names(desired: DesiredState) -> dict[str, set[str]]:
    """The names of each kind of entity a reference may name. Built once per desired state by
    its checker (check_desired, the loader's loop over a state's expectations) and handed down:
    built per expectation, it made checking a scenario quadratic in its size (issue 21)."""
    return {
        "user": set(desired.users),
        "key": set(desired.keys),
        "table": set(desired.tables),
        "group": set(desired.groups),
        "policy": set(desired.policies),
        "role": set(desired.roles),
        "bucket": set(desired.buckets),
        "object": set(desired.buckets),
        "account": set(desired.accounts) | {"home"},
        "session": set(desired.roles),
    }


def policy_documents(desired: DesiredState, prefix: Path = ()) -> Iterator[tuple[Path, PolicyDocument, bool]]:
    for name, key in desired.keys.items():
        yield prefix + ("keys", name, "policy"), key.policy, True
    for name, table in desired.tables.items():
        if table.policy is not None:
            yield prefix + ("tables", name, "policy"), table.policy, True
    for name, role in desired.roles.items():
        yield prefix + ("roles", name, "trust_policy"), role.trust_policy, True
    yield from bucket_documents(desired, prefix)
    for name, policy in desired.policies.items():
        yield prefix + ("policies", name, "document"), policy.document, False
    for kind, entities in (("users", desired.users), ("groups", desired.groups), ("roles", desired.roles)):
        for name, entity in entities.items():
            for policy_name, document in entity.inline_policies.items():
                yield prefix + (kind, name, "inline_policies", policy_name), document, False
    yield from guardrail_documents(desired, prefix)


def check_document(names: dict[str, set[str]], document: PolicyDocument, path: Path, principals: bool,
                   organization: Organization | None = None) -> list[Problem]:
    """The references of one policy: scenario entities in Principal, Resource and Arn conditions, the
    organization and its units in the org condition keys (loader/organization_checks.py)."""
    problems: list[Problem] = []
    for spath, statement in located_statements(document, path):
        for field, alias in (("principal", "Principal"), ("not_principal", "NotPrincipal")):
            value = getattr(statement, field)
            if value is not None and value != "*" and value.aws is not None:
                problems += _check_refs(names, as_list(value.aws), spath + (alias, "AWS"), PRINCIPAL_KINDS, value.aws)
        for field, alias in (("resource", "Resource"), ("not_resource", "NotResource")):
            value = getattr(statement, field)
            if value is not None:
                problems += _check_refs(names, as_list(value), spath + (alias,), RESOURCE_KINDS, value)
        for operator, block in (statement.condition or {}).items():
            for key, values in block.items():
                where = spath + ("Condition", operator, key)
                if base_operator(operator) in ARN_OPERATORS:
                    strings = [v for v in as_list(values) if isinstance(v, str)]
                    problems += _check_refs(names, strings, where, CONDITION_KINDS, values)
                else:
                    problems += _literal_references(operator, values, where)
                    problems += check_org_condition(organization, key, values, where)
    return problems


def _literal_references(operator: str, values: Any, path: Path) -> list[Problem]:
    """A scenario reference under a non-Arn operator would stay literal text (only Arn* operators'
    values are resolved, as ARNs); refused, so that `--run-id` cannot change what a scenario proves."""
    problems = []
    for index, value in enumerate(as_list(values)):
        if isinstance(value, str) and is_reference(value):
            where = path + ((index,) if isinstance(values, list) else ())
            problems.append(Problem(where, (
                f"{value!r} is a scenario reference, but only Arn operators ({', '.join(sorted(ARN_OPERATORS))})"
                f" resolve references; under {operator} it would be compared as the literal text {value!r}."
                " Use an Arn operator, or write the value AWS compares (an ARN, an account id, a name)"
            )))
    return problems


def _check_refs(names: dict[str, set[str]], values: list[str], path: Path, kinds: tuple[str, ...], raw: Any) -> list[Problem]:
    problems = []
    for index, value in enumerate(values):
        where = path + ((index,) if isinstance(raw, list) else ())
        kind, _, name = value.partition(":")
        name = name.partition("/")[0] if kind in ("object", "session") else name
        if value in ("account", ORCHESTRATE) or kind not in names or not name or value.startswith("arn:"):
            continue
        if kind not in kinds:
            problems.append(Problem(where, f"{value!r} cannot be used here: expected {' or '.join(_FORMS.get(k, k + ':NAME') for k in kinds)}"))
        elif name not in names[kind]:
            problems.append(Problem(where, f"{value!r} names no {kind} of this scenario{_known(names[kind])}"))
    return problems


def _known(names: set[str]) -> str:
    return f" (known: {', '.join(sorted(names))})" if names else " (there are none)"


def _check_members(names: dict[str, set[str]], kind: str, members: list[str], path: Path) -> list[Problem]:
    return [
        Problem(path + (index,), f"{member!r} names no {kind} of this scenario{_known(names[kind])}")
        for index, member in enumerate(members)
        if member not in names[kind]
    ]


def _check_policy_names(names: dict[str, set[str]], policies: list[str], path: Path, single: bool = False) -> list[Problem]:
    problems = []
    for index, policy in enumerate(policies):
        if policy.startswith("policy:") and policy.removeprefix("policy:") not in names["policy"]:
            where = path if single else path + (index,)
            problems.append(Problem(where, f"{policy!r} names no policy of this scenario{_known(names['policy'])}"))
    return problems


def _check_table(desired: DesiredState, name: str, path: Path, names: dict[str, set[str]]) -> list[Problem]:
    table = desired.tables[name]
    problems: list[Problem] = []
    key_name = table.key_name()
    if key_name is not None:
        key = desired.keys.get(key_name)
        if key is None:
            problems.append(Problem(path + ("encryption",), f"'key:{key_name}' names no key of this scenario{_known(set(desired.keys))}"))
        elif key.spec != "SYMMETRIC_DEFAULT":
            problems.append(Problem(path + ("encryption",), f"DynamoDB encrypts only with symmetric keys; key {key_name!r} is {key.spec}"))
    if table.policy is not None:
        problems += check_table_policy(name, table.policy, path + ("policy",), names)
    for index, item in enumerate(table.items):
        problems += check_item_key(table, item, path + ("items", index), full_item=True)
        problems += _finite_numbers(item, path + ("items", index))
    return problems + _duplicate_items(table, path)


def _finite_numbers(value: Any, path: Path) -> list[Problem]:
    """DynamoDB numbers are finite (Developer Guide, "Supported data types": Number); `.nan` and
    `.inf` have no DynamoDB form, and the SDK refuses them only once apply has started."""
    if isinstance(value, float) and not math.isfinite(value):
        return [Problem(path, f"{value!r} is not a number DynamoDB can store (NaN and infinity have no DynamoDB form)")]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _finite_numbers(item, path + (key,))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _finite_numbers(item, path + (index,))]
    return []


def _duplicate_items(table: Table, path: Path) -> list[Problem]:
    """Two seed items with one key: DynamoDB refuses the batch ("Provided list of item keys contains
    duplicates", DynamoDB API Reference, BatchWriteItem and BatchGetItem: ValidationException)."""
    problems = []
    first_with: dict[tuple[Any, ...], int] = {}
    for index, item in enumerate(table.items):
        key = _item_key(table, item)
        if key is None:
            continue  # missing or mistyped key attributes are reported by check_item_key
        if key in first_with:
            shown = ", ".join(f"{a.name}: {item[a.name]!r}" for a in table.key_attributes())
            problems.append(Problem(path + ("items", index), (
                f"items[{first_with[key]}] already has the key {{{shown}}}; a table holds one item per key"
                " (DynamoDB refuses a batch with duplicate keys)"
            )))
        else:
            first_with[key] = index
    return problems


def _item_key(table: Table, item: dict[str, Any]) -> tuple[Any, ...] | None:
    """The item's key as DynamoDB compares it: numbers by value (1 and 1.0 are one key), bytes by content."""
    values: list[Any] = []
    for attribute in table.key_attributes():
        value = item.get(attribute.name)
        if value is None or not _fits(value, attribute.type):
            return None
        if attribute.type == "N":
            value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        elif attribute.type == "B":
            value = bytes(value)
        values.append(value)
    return tuple(values)


def check_item_key(table: Any, key: dict[str, Any], path: Path, full_item: bool = False, partial: bool = False) -> list[Problem]:
    """The item (or key) has each key attribute with a value of the declared type."""
    problems = []
    attributes = table.key_attributes()[:1] if partial else table.key_attributes()
    for attribute in attributes:
        if attribute.name not in key:
            problems.append(Problem(path, f"missing key attribute {attribute.name!r} ({attribute.type})"))
        elif not _fits(key[attribute.name], attribute.type):
            problems.append(Problem(path + (attribute.name,), f"key attribute {attribute.name!r} must be of type {attribute.type}, got {key[attribute.name]!r}"))
    if not full_item and not partial:
        extra = set(key) - {a.name for a in table.key_attributes()}
        if extra:
            problems.append(Problem(path, f"not key attributes of the table: {', '.join(sorted(extra))}"))
    return problems


def _fits(value: Any, kind: str) -> bool:
    if kind == "S":
        return isinstance(value, str)
    if kind == "N":
        return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    return isinstance(value, (bytes, bytearray))


def check_expectation(desired: DesiredState, expectation: Expectation, path: Path,
                      names: dict[str, set[str]] | None = None) -> list[Problem]:
    """The expectation's references exist in ``desired``; ``names`` is entity_names(desired), made
    once by a caller that checks many expectations of one state."""
    names = entity_names(desired) if names is None else names
    problems: list[Problem] = _check_principal(desired, expectation, path, names)
    kind, _, name = expectation.resource.partition(":")
    wanted = EXPECTATION_ACTIONS[expectation.action]
    if kind == "alias" and wanted == "key":
        problems += check_alias_expectation(desired, expectation, path)
    elif kind != wanted:
        problems.append(Problem(path + ("resource",), f"{expectation.action} acts on a {wanted}, not a {kind}"))
    elif kind in ("bucket", "object"):
        problems += check_s3_expectation(desired, expectation, path)
    elif name not in names[kind]:
        problems.append(Problem(path + ("resource",), f"{expectation.resource!r} names no {kind} of this scenario{_known(names[kind])}"))
    elif kind == "table":
        problems += _check_table_call(desired, expectation, name, path)
    elif kind == "key":
        problems += check_key_expectation(name, desired.keys[name], expectation, path)
    for field in ("key", "item"):
        problems += _finite_numbers(getattr(expectation, field) or {}, path + (field,))
    return problems + check_endpoint_expectation(desired, expectation, path)


def _check_anonymous(desired: DesiredState, expectation: Expectation, path: Path) -> list[Problem]:
    """`as: anonymous`: unsigned requests, which only S3 takes (IAM User Guide, "AWS JSON policy
    elements: Principal", anonymous users); the name is the unsigned caller's, not a user's."""
    if ANONYMOUS in desired.users:
        return [Problem(path + ("as",), "`as: anonymous` is the unsigned caller, so no scenario user may be named"
                                        " anonymous: rename the user")]
    if not expectation.action.startswith("s3:"):
        return [Problem(path + ("action",), f"`as: anonymous` makes unsigned requests, which only S3 takes;"
                                            f" {expectation.action} needs a signed request (MissingAuthenticationToken)")]
    if expectation.via is not None:
        return [Problem(path + ("via",), "via applies only to `as: role:NAME`")]
    return []


def _check_principal(desired: DesiredState, expectation: Expectation, path: Path, names: dict[str, set[str]]) -> list[Problem]:
    """`as` names a scenario user or `role:NAME`; `via` a scenario user. An sts:AssumeRole made
    by a role session would be role chaining, which orchestrate does not prove."""
    role = expectation.role
    if expectation.principal == ANONYMOUS:
        return _check_anonymous(desired, expectation, path)
    if role is None and expectation.principal not in desired.users:
        return [Problem(path + ("as",), f"{expectation.principal!r} names no user of this scenario{_known(set(desired.users))}")]
    if role is not None and role not in desired.roles:
        return [Problem(path + ("as",), f"{expectation.principal!r} names no role of this scenario{_known(set(desired.roles))}")]
    chained = expectation.chained_from
    if chained is not None and chained not in desired.roles:
        return [Problem(path + ("via",), f"{expectation.via!r} names no role of this scenario{_known(set(desired.roles))}")]
    if chained is None and expectation.via is not None and expectation.via not in desired.users:
        return [Problem(path + ("via",), f"{expectation.via!r} names no user of this scenario{_known(set(desired.users))}")]
    if role is not None and expectation.action == "sts:AssumeRole":
        return [Problem(path + ("as",), "sts:AssumeRole as a role session is role chaining: write it as `as:"
                                        " role:TARGET` with `via: role:SOURCE`, or make the expectation `as` a user")]
    return _check_session(expectation, path, names, desired.organization)


def _check_session(expectation: Expectation, path: Path, names: dict[str, set[str]],
                   organization: Organization | None) -> list[Problem]:
    """The session's managed policies name scenario policies; its inline policy's references exist."""
    problems = _check_policy_names(names, expectation.session_policy_arns or [], path + ("session_policy_arns",))
    if expectation.session_policy is not None:
        problems += check_document(names, expectation.session_policy, path + ("session_policy",), False, organization)
    return problems


def _check_table_call(desired: DesiredState, expectation: Expectation, name: str, path: Path) -> list[Problem]:
    table = desired.tables[name]
    creating = expectation.action == "dynamodb:CreateTable"
    if creating and not table.create_only:
        return [Problem(path + ("action",), f"dynamodb:CreateTable makes the principal create table {name!r}, which"
                        " orchestrate creates and keeps itself: declare the table `create_only: true`")]
    if creating:
        section, principal = ("roles", expectation.role) if expectation.role else ("users", expectation.principal)
        if desired.account_of(section, principal) is not None:
            return [Problem(path + ("as",), f"dynamodb:CreateTable creates table {name!r} in the caller's account, and"
                            f" {expectation.principal!r} lives in account {desired.account_of(section, principal)!r};"
                            " a create_only table lives in home (DynamoDB encrypts it only with a key of its account)")]
    if table.create_only and not creating:
        return [Problem(path + ("action",), f"table {name!r} is create_only: it exists only while its"
                        f" dynamodb:CreateTable expectation runs, so {expectation.action} on it decides nothing")]
    if expectation.action in ITEM_ACTIONS:
        if expectation.key is None:
            return [Problem(path, f"{expectation.action} needs `key`: the item's key attributes")]
        return check_item_key(table, expectation.key, path + ("key",))
    if expectation.action == "dynamodb:Query":
        if expectation.key is None:
            return [Problem(path, "dynamodb:Query needs `key` with the partition key value")]
        return check_item_key(table, expectation.key, path + ("key",), partial=True)
    return []
