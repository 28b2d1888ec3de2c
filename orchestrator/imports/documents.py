"""Policy documents of a template (KeyPolicy, PolicyDocument, AssumeRolePolicyDocument, a table's
ResourcePolicy) as scenario documents: resolved, with template resources named by reference.

IAM User Guide, "IAM JSON policy elements reference": scenario references are taken in
Principal/NotPrincipal (AWS), Resource/NotResource and Arn* condition values ("IAM JSON policy
elements: Condition operators", ARN condition operators); everywhere else a value stays text,
as the loader requires. CloudFormation accepts a document as a JSON string too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from orchestrator.imports.intrinsics import ACCOUNT, Resolver, Unresolved, to_reference, to_text
from orchestrator.model.policy import ARN_OPERATORS, base_operator


def document(raw: Any, resolver: Resolver) -> dict[str, Any]:
    """The scenario form of a policy document; Unresolved when it is not one."""
    resolved = resolver.resolve(raw)  # statements one by one: Resolver.statements
    if isinstance(resolved, str):
        try:
            resolved = json.loads(resolved)
        except json.JSONDecodeError:
            raise Unresolved("a policy document that is neither a mapping nor JSON") from None
    if not isinstance(resolved, dict) or not resolved.get("Statement"):
        raise Unresolved("a policy document without Statement")
    statements = resolved["Statement"]
    listed = statements if isinstance(statements, list) else [statements]
    known = resolver.references()
    converted = _unique_sids([_statement(s, known, resolver.notes, resolver.stack_name) for s in listed if isinstance(s, dict)])
    found: dict[str, Any] = {key: to_text(value) for key, value in resolved.items() if key in ("Version", "Id")}
    found["Statement"] = converted if isinstance(statements, list) else converted[0]
    return found


def _statement(statement: dict[str, Any], known: frozenset[str], notes: list[str], scenario: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for element, value in statement.items():
        if element in ("Principal", "NotPrincipal"):
            found[element] = _principal(value, known)
        elif element in ("Resource", "NotResource"):
            found[element] = _each(value, lambda v: to_reference(v, known))
        elif element == "Condition" and isinstance(value, dict):
            found[element] = _condition(value, known, notes, scenario)
        elif element == "Sid":
            found[element] = re.sub(r"[^A-Za-z0-9]", "", str(value))
        else:
            found[element] = _each(value, to_text)
    return found


def _principal(value: Any, known: frozenset[str]) -> Any:
    if not isinstance(value, dict):
        return to_text(value)
    return {kind: _each(values, (lambda v: to_reference(v, known)) if kind == "AWS" else to_text)
            for kind, values in value.items()}


def _condition(block: dict[str, Any], known: frozenset[str], notes: list[str], scenario: str) -> dict[str, Any]:
    """Arn operators take references; other operators keep text, where the account a template
    cannot know is `*` (literal under String operators): noted, as the user must say it. The
    organization's id, a unit's path and an endpoint's id are the scenario's words for them
    (imports/organization.py)."""
    from orchestrator.imports.organization import condition_text

    converted: dict[str, Any] = {}
    for operator, keys in block.items():
        arn = base_operator(operator) in ARN_OPERATORS
        convert = (lambda v: to_reference(v, known)) if arn else (lambda v: to_text(condition_text(v, scenario)))
        if not arn and ACCOUNT in json.dumps(keys, ensure_ascii=False):
            notes.append(f"a {operator} condition names the stack's account (AWS::AccountId), which the template"
                         " does not give: written as *, put the account id there")
        converted[operator] = {key: _each(values, convert) for key, values in keys.items()} if isinstance(keys, dict) else keys
    return converted


def _each(value: Any, convert: Any) -> Any:
    if isinstance(value, list):
        return [convert(item) for item in value]
    return convert(value)


def _unique_sids(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sids made alphanumeric (the model's rule) may meet; the later ones get a number, an empty one goes."""
    seen: set[str] = set()
    for statement in statements:
        sid = statement.get("Sid")
        if sid is None:
            continue
        if not sid:
            del statement["Sid"]
            continue
        candidate, number = sid, 2
        while candidate in seen:
            candidate, number = f"{sid}{number}", number + 1
        statement["Sid"] = candidate
        seen.add(candidate)
    return statements
