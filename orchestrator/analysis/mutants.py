"""Mutation operators over a scenario's policy documents, keys and grants, each at its place in the file.

A mutant is one edit of the scenario file at one place (a `Site`): a statement of the base
document, a statement a state's patch writes, a key, a grant. Its effect reaches every state that
place reaches, as the edit would: a base statement every state where it appears, a patch's
statement its state and the later ones (states are cumulative) until a later patch changes it.
Operators (after the classic mutation operators of access-control policies, Martin and Xie,
"A fault model and mutation testing of access control policies", WWW 2007):

- `delete-statement`, `flip-effect` (Allow <-> Deny)
- `principal-account` (the account root: `{AWS: account}`), `principal-any` (`*`), where the
  statement has a Principal
- `drop-condition` (one operator/key pair), `action-wildcard` (one action to `service:*`),
  `resource-any` (Resource to `*`)
- `disable-key` (`enabled: false`), `delete-grant`, `drop-grant-constraints`

A statement that a patch addresses by Sid is mutated in the patch, as the merge-patch difference
from the statement before the patch to the mutated statement, so the patched state holds exactly
the mutated statement.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.loader.states import base_document
from orchestrator.model.patch import STATEMENT, merge_patch, statement_index
from orchestrator.model.policy import as_list

Path = tuple[str | int, ...]
REMOVE: Any = object()  # a mutant's value that removes the element at its path
KINDS = {"users": "user", "groups": "group", "roles": "role", "keys": "key", "tables": "table",
         "buckets": "bucket", "policies": "policy"}
RESOURCE_POLICIES = {"keys": "key policy", "tables": "table policy", "buckets": "bucket policy"}


@dataclass(frozen=True)
class Site:
    """A statement, key or grant at one place of the file (`path` into the raw YAML data)."""

    kind: str  # statement | key | grant
    path: Path
    policy: str  # e.g. "key policy of key:data", "inline policy read of user:tester"
    label: str  # the statement's Sid, else #N (1-based); the key's or grant's name
    state: int | None = None  # None: the base document; else the state whose patch holds it
    sid_entry: bool = False  # an entry of a patch's Sid-keyed Statement mapping


@dataclass(frozen=True)
class Mutant:
    site: Site
    operator: str
    detail: str
    path: Path  # where the edit goes (the site's path, or below it)
    value: Any  # the new value there, or REMOVE

    @property
    def ident(self) -> str:
        return f"{'/'.join(map(str, self.site.path))}:{self.operator}:{self.detail}"


# -- statement operators (pure: a statement dict in, mutated statements out) ------------------

def statement_mutations(statement: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(operator, detail, mutated statement or None for a deletion) for one full statement."""
    found: list[tuple[str, str, dict[str, Any] | None]] = [("delete-statement", "", None)]
    effect = statement.get("Effect")
    flipped = "Deny" if effect == "Allow" else "Allow"
    found.append(("flip-effect", f"{effect} -> {flipped}", {**statement, "Effect": flipped}))
    found += principal_mutations(statement)
    found += condition_mutations(statement)
    found += action_mutations(statement)
    resource = statement.get("Resource")
    if resource is not None and as_list(resource) != ["*"]:
        found.append(("resource-any", f"{_words(resource)} -> *", {**statement, "Resource": "*"}))
    return found


def principal_mutations(statement: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    principal = statement.get("Principal")
    if principal is None or principal == "*":
        return []
    found: list[tuple[str, str, dict[str, Any] | None]] = []
    if principal != {"AWS": "account"}:
        found.append(("principal-account", f"{_words(principal)} -> account", {**statement, "Principal": {"AWS": "account"}}))
    found.append(("principal-any", f"{_words(principal)} -> *", {**statement, "Principal": "*"}))
    return found


def condition_mutations(statement: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    found: list[tuple[str, str, dict[str, Any] | None]] = []
    for operator, block in (statement.get("Condition") or {}).items():
        for key in block:
            found.append(("drop-condition", f"{operator} {key}", drop_condition(statement, operator, key)))
    return found


def drop_condition(statement: dict[str, Any], operator: str, key: str) -> dict[str, Any]:
    """The statement without one operator/key pair (an emptied operator, or Condition, goes too)."""
    condition = copy.deepcopy(statement["Condition"])
    del condition[operator][key]
    if not condition[operator]:
        del condition[operator]
    mutated = {k: v for k, v in statement.items() if k != "Condition"}
    return {**mutated, "Condition": condition} if condition else mutated


def action_mutations(statement: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    action = statement.get("Action")
    if action is None:
        return []
    found: list[tuple[str, str, dict[str, Any] | None]] = []
    for index, name in enumerate(as_list(action)):
        service = name.partition(":")[0]
        if name == "*" or name == f"{service}:*":
            continue
        wide = f"{service}:*"
        widened = wide if isinstance(action, str) else [wide if i == index else a for i, a in enumerate(action)]
        found.append(("action-wildcard", f"{name} -> {wide}", {**statement, "Action": widened}))
    return found


def _words(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_words(v)}" for k, v in value.items())
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def merge_diff(before: Any, after: Any) -> Any:
    """The JSON Merge Patch (RFC 7386) that turns before into after."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return copy.deepcopy(after)
    diff: dict[str, Any] = {key: None for key in before if key not in after}
    for key, value in after.items():
        if key not in before:
            diff[key] = copy.deepcopy(value)
        elif before[key] != value:
            diff[key] = merge_diff(before[key], value)
    return diff


# -- where the sites are --------------------------------------------------------------------

def policy_documents(section: str, name: str, entity: Any) -> Iterator[tuple[Path, str]]:
    """(path below the entity, description) of each policy document an entity (or its patch) holds."""
    if not isinstance(entity, dict):
        return
    kind = KINDS[section]
    if section == "policies" and isinstance(entity.get("document"), dict):
        yield ("document",), f"managed policy {name}"
    for policy, document in (entity.get("inline_policies") or {}).items():
        if section in ("users", "groups", "roles") and isinstance(document, dict):
            yield ("inline_policies", policy), f"inline policy {policy} of {kind}:{name}"
    if section == "roles" and isinstance(entity.get("trust_policy"), dict):
        yield ("trust_policy",), f"trust policy of role:{name}"
    if section in RESOURCE_POLICIES and isinstance(entity.get("policy"), dict):
        yield ("policy",), f"{RESOURCE_POLICIES[section]} of {kind}:{name}"


def statement_sites(document: dict[str, Any], path: Path, policy: str, state: int | None) -> Iterator[Site]:
    statements = document.get(STATEMENT)
    here = path + (STATEMENT,)
    if isinstance(statements, list):
        for index, statement in enumerate(statements):
            if isinstance(statement, dict):
                yield Site("statement", here + (index,), policy, _label(statement, index), state)
    elif isinstance(statements, dict) and "Effect" in statements:
        yield Site("statement", here, policy, _label(statements, 0), state)
    elif isinstance(statements, dict) and state is not None:
        for sid, change in statements.items():
            if isinstance(change, dict):
                yield Site("statement", here + (sid,), policy, sid, state, sid_entry=True)


def _label(statement: dict[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return sid if isinstance(sid, str) and sid else f"#{index + 1}"


def document_sites(document: dict[str, Any], prefix: Path, state: int | None) -> Iterator[Site]:
    """Every site of a base document (prefix ()) or of a state's patch (prefix states.I.patch)."""
    for section in KINDS:
        for name, entity in (document.get(section) or {}).items() if isinstance(document.get(section), dict) else ():
            for below, policy in policy_documents(section, name, entity):
                node = entity
                for element in below:
                    node = node[element]
                yield from statement_sites(node, prefix + (section, name) + below, policy, state)
            if section == "keys" and isinstance(entity, dict):
                yield from key_sites(name, entity, prefix + (section, name), state)
    for below, policy, node in guardrail_documents(document):
        yield from statement_sites(node, prefix + below, policy, state)


def guardrail_documents(document: dict[str, Any]) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(path, description, document) of the organization's SCPs and RCPs and of each VPC
    endpoint's policy (issue 23): layers that cap, so a statement of theirs no expectation
    depends on is as much a gap as one of a key policy."""
    organization = document.get("organization")
    if isinstance(organization, dict):
        for section, what in (("scps", "SCP"), ("rcps", "RCP")):
            policies = organization.get(section)
            for name, policy in policies.items() if isinstance(policies, dict) else ():
                if isinstance(policy, dict) and isinstance(policy.get("document"), dict):
                    yield ("organization", section, name, "document"), f"{what} {name}", policy["document"]
    endpoints = document.get("vpc_endpoints")
    for name, endpoint in endpoints.items() if isinstance(endpoints, dict) else ():
        if isinstance(endpoint, dict) and isinstance(endpoint.get("policy"), dict):
            yield ("vpc_endpoints", name, "policy"), f"policy of VPC endpoint {name}", endpoint["policy"]


def key_sites(name: str, key: dict[str, Any], path: Path, state: int | None) -> Iterator[Site]:
    if state is None or key.get("enabled") is True:
        yield Site("key", path, f"key:{name}", name, state)
    for grant, body in (key.get("grants") or {}).items():
        if isinstance(body, dict):
            yield Site("grant", path + ("grants", grant), f"grants of key:{name}", grant, state)


def sites(data: dict[str, Any]) -> list[Site]:
    found = list(document_sites(base_document(data), (), None))
    for index, state in enumerate(data.get("states") or []):
        patch = state.get("patch") if isinstance(state, dict) else None
        if isinstance(patch, dict):
            found += document_sites(patch, ("states", index, "patch"), index)
    return found


# -- the mutants of each site -----------------------------------------------------------------

def merged_documents(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The base document, then each state's merged document: documents[i + 1] is state i's."""
    documents = [base_document(data)]
    for state in data.get("states") or []:
        documents.append(merge_patch(documents[-1], (state or {}).get("patch") or {}))
    return documents


def mutants(data: dict[str, Any]) -> list[Mutant]:
    documents = merged_documents(data)
    found: list[Mutant] = []
    for site in sites(data):
        if site.kind == "statement":
            found += statement_site_mutants(data, site, documents)
        elif site.kind == "key":
            found += key_mutants(data, site)
        else:
            found += grant_mutants(data, site)
    return found


def statement_site_mutants(data: dict[str, Any], site: Site, documents: list[dict[str, Any]]) -> list[Mutant]:
    if not site.sid_entry:
        statement = value_at(data, site.path)
        return [Mutant(site, op, detail, site.path, _deleted(site) if mutated is None else mutated)
                for op, detail, mutated in statement_mutations(statement)]
    assert site.state is not None
    policy_path, sid = site.path[3:-1], str(site.path[-1])
    before = _statement_by_sid(documents[site.state], policy_path, sid)
    after = _statement_by_sid(documents[site.state + 1], policy_path, sid)
    if after is None:
        return []
    return [Mutant(site, op, detail, site.path,
                   None if mutated is None else merge_diff(before, mutated) if before is not None else mutated)
            for op, detail, mutated in statement_mutations(after)]


def _deleted(site: Site) -> Any:
    """A list's statement is removed; a lone statement (`Statement: {...}`) leaves an empty list."""
    return REMOVE if isinstance(site.path[-1], int) else []


def _statement_by_sid(document: dict[str, Any], policy_path: Path, sid: str) -> dict[str, Any] | None:
    node: Any = document
    for element in policy_path:
        node = node.get(element) if isinstance(node, dict) else None
    statements = node if isinstance(node, list) else [node] if isinstance(node, dict) else []
    index = statement_index(statements, sid)
    return None if index is None else statements[index]


def key_mutants(data: dict[str, Any], site: Site) -> list[Mutant]:
    if site.state is None and value_at(data, site.path).get("enabled", True) is False:
        return []
    return [Mutant(site, "disable-key", "enabled -> false", site.path + ("enabled",), False)]


def grant_mutants(data: dict[str, Any], site: Site) -> list[Mutant]:
    found = [Mutant(site, "delete-grant", "", site.path, REMOVE if site.state is None else None)]
    if value_at(data, site.path).get("constraints"):
        found.append(Mutant(site, "drop-grant-constraints", "", site.path + ("constraints",),
                            REMOVE if site.state is None else None))
    return found


# -- applying a mutant ------------------------------------------------------------------------

def value_at(data: Any, path: Path) -> Any:
    node = data
    for element in path:
        node = node[element]
    return node


def apply_mutant(data: dict[str, Any], mutant: Mutant) -> dict[str, Any]:
    """A copy of the raw scenario data with the mutant's edit made."""
    mutated = copy.deepcopy(data)
    parent = value_at(mutated, mutant.path[:-1])
    last = mutant.path[-1]
    if mutant.value is REMOVE:
        del parent[last]
    else:
        parent[last] = copy.deepcopy(mutant.value)
    return mutated
