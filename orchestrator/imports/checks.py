"""Imported entities checked against the scenario models before they are written: an entity the
model refuses is left out with a note naming why (the first problem Pydantic reports), and a
reference to an entity that was not imported (a group, a managed policy, a key) is dropped, so
that the written scenario always validates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.imports.intrinsics import reference_arn
from orchestrator.imports.resources import SECTIONS, Imported
from orchestrator.model.policy import ARN_OPERATORS, ORCHESTRATE, base_operator, is_reference
from orchestrator.model.resources import Bucket, Group, Key, ManagedPolicy, Role, Table, User

MODELS: dict[str, type[BaseModel]] = {"policies": ManagedPolicy, "groups": Group, "users": User, "roles": Role,
                                      "keys": Key, "tables": Table, "buckets": Bucket}


def check_entities(imported: Imported) -> None:
    for section, model in MODELS.items():
        for name, entity in list(imported.sections[section].items()):
            try:
                model.model_validate(entity)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                imported.notes.append(f"{section}.{name}: not imported, the model refuses it: {first['msg']}"
                                      + (f" (at {where})" if where else ""))
                del imported.sections[section][name]
    _drop_dangling(imported)
    known = {f"{kind}:{name}" for kind, section in SECTIONS.items() for name in imported.sections[section]}
    for where, policy in _documents(imported):
        _unknown_references(policy, known, where, imported.notes)


def _drop_dangling(imported: Imported) -> None:
    sections = imported.sections
    for section in ("users", "groups", "roles"):
        for name, holder in sections[section].items():
            _keep(holder, "managed_policies", lambda p: not p.startswith("policy:") or p[7:] in sections["policies"],
                  f"{section}.{name}", imported.notes)
            if section == "users":
                _keep(holder, "groups", lambda g: g in sections["groups"], f"users.{name}", imported.notes)
    for section in ("tables", "buckets"):
        for name, entity in sections[section].items():
            key = str(entity.get("encryption", ""))
            if key.startswith("key:") and key[4:] not in sections["keys"]:
                imported.notes.append(f"{section}.{name}: its key {key} was not imported; encryption aws-managed instead")
                entity["encryption"] = "aws-managed"


def _keep(holder: dict[str, Any], field: str, wanted: Any, where: str, notes: list[str]) -> None:
    values = holder.get(field)
    if not values:
        return
    kept = [v for v in values if wanted(v)]
    for dropped in (v for v in values if not wanted(v)):
        notes.append(f"{where}: {dropped} was not imported; left out of {field}")
    if kept:
        holder[field] = kept
    else:
        del holder[field]


def _documents(imported: Imported) -> list[tuple[str, dict[str, Any]]]:
    """Every policy document of the imported entities, with where it is."""
    sections, found = imported.sections, []
    for section in ("users", "groups", "roles"):
        for name, holder in sections[section].items():
            found += [(f"{section}.{name}.inline_policies.{p}", d) for p, d in holder.get("inline_policies", {}).items()]
    found += [(f"policies.{name}.document", p["document"]) for name, p in sections["policies"].items()]
    found += [(f"roles.{name}.trust_policy", r["trust_policy"]) for name, r in sections["roles"].items()]
    for section in ("keys", "tables", "buckets"):
        found += [(f"{section}.{name}.policy", e["policy"]) for name, e in sections[section].items() if e.get("policy")]
    return found


def _unknown_references(policy: dict[str, Any], known: set[str], where: str, notes: list[str]) -> None:
    """A reference to an entity that was not imported: its ARN as text in Resource and Arn
    conditions; left out of a Principal (AWS refuses wildcards in principal ARNs), and a statement
    whose principals are all left out goes too."""
    def unknown(value: Any) -> bool:
        return isinstance(value, str) and is_reference(value) and value not in ("account", ORCHESTRATE) and _target(value) not in known

    def as_text(values: Any) -> Any:
        if isinstance(values, list):
            return [reference_arn(v) if unknown(v) else v for v in values]
        return reference_arn(values) if unknown(values) else values

    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = []
    for statement in statements:
        for element in ("Resource", "NotResource"):
            if element in statement:
                statement[element] = as_text(statement[element])
        for operator, block in (statement.get("Condition") or {}).items():
            if base_operator(operator) in ARN_OPERATORS and isinstance(block, dict):
                statement["Condition"][operator] = {k: as_text(v) for k, v in block.items()}
        if _principals_known(statement, unknown, where, notes):
            kept.append(statement)
    policy["Statement"] = kept if isinstance(policy["Statement"], list) else (kept[0] if kept else [])


def _principals_known(statement: dict[str, Any], unknown: Any, where: str, notes: list[str]) -> bool:
    for element in ("Principal", "NotPrincipal"):
        principal = statement.get(element)
        if not isinstance(principal, dict) or "AWS" not in principal:
            continue
        values = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
        for value in (v for v in values if unknown(v)):
            notes.append(f"{where}: principal {value} was not imported; left out of the statement")
        kept = [v for v in values if not unknown(v)]
        if not kept:
            notes.append(f"{where}: a statement whose principals were not imported is left out")
            return False
        principal["AWS"] = kept if isinstance(principal["AWS"], list) else kept[0]
    return True


def _target(reference: str) -> str:
    """`object:B/K` stands on bucket B, `session:R/N` on role R."""
    kind, _, name = reference.partition(":")
    if kind == "session":
        return f"role:{name.partition('/')[0]}"
    return f"bucket:{name.partition('/')[0]}" if kind == "object" else reference
