"""Grammar check of a policy document (IAM's MalformedPolicyDocument cases).

Follows the IAM User Guide, "Grammar of the IAM JSON policy language" and
"IAM JSON policy element reference": known top-level and statement elements,
``Effect`` Allow/Deny, exactly one of Action/NotAction, Resource required in
identity-based policies, Principal required in (and only in) resource-based
policies, NotPrincipal only with Deny, known condition operators with typed
values.  The engine itself tolerates what it can (an unknown operator simply
never matches); this module is for loaders such as ``orchestrate simulate``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.authz.engine.conditions import parse_operator
from orchestrator.authz.engine.documents import VERSIONS, PolicyError, load_document
from orchestrator.authz.engine.operators import decode_base64, parse_date, parse_network, parse_number
from orchestrator.authz.engine.statement import string_list

__all__ = ["policy_problems", "check_policy"]

_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
              "Resource", "NotResource", "Condition"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_VALUE_PARSERS = {
    "Numeric": parse_number, "Date": parse_date, "IpAddress": parse_network,
}


def _exactly_one(raw: Mapping[str, Any], name: str, where: str, required: bool) -> list[str]:
    present = [key for key in (name, "Not" + name) if key in raw]
    if len(present) > 1:
        return [f"{where}: use either {name} or Not{name}, not both"]
    if not present:
        return [f"{where}: missing {name} or Not{name}"] if required else []
    if string_list(raw[present[0]]) is None:
        return [f"{where}: {present[0]} must be a string or a list of strings"]
    return []


def _principal_problems(value: Any, where: str) -> list[str]:
    if value == "*":
        return []
    if not isinstance(value, Mapping) or not value:
        return [f'{where}: Principal must be "*" or an object such as {{"AWS": ...}}']
    problems = [f"{where}: unknown principal type {key!r}" for key in value if key not in _PRINCIPAL_TYPES]
    problems += [f"{where}: principal {key} must be a string or a list of strings"
                 for key, item in value.items() if string_list(item) is None]
    return problems


def _value_problems(operator: str, key: str, values: tuple[str, ...], where: str) -> list[str]:
    parsed = parse_operator(operator)
    base = parsed[1] if parsed else ""
    for prefix, parser in _VALUE_PARSERS.items():
        if base.startswith(prefix) or base == prefix:
            bad = [v for v in values if "${" not in v and parser(v) is None]
            return [f"{where}: {operator} {key}: {v!r} is not a valid value" for v in bad]
    if base == "BinaryEquals":
        return [f"{where}: {operator} {key}: {v!r} is not base-64" for v in values if decode_base64(v) is None]
    if base in ("Bool", "Null"):
        return [f"{where}: {operator} {key}: {v!r} is not true or false"
                for v in values if v.lower() not in ("true", "false")]
    return []


def _scalar_text(item: Any) -> str | None:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (str, int, float)):
        return str(item)
    return None


def _condition_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, Mapping):
        return [f"{where}: Condition must be an object"]
    problems: list[str] = []
    for operator, entries in block.items():
        if parse_operator(operator) is None:
            problems.append(f"{where}: unknown condition operator {operator!r}")
            continue
        if not isinstance(entries, Mapping) or not entries:
            problems.append(f"{where}: {operator} must map condition keys to values")
            continue
        for key, raw in entries.items():
            items = raw if isinstance(raw, list) else [raw]
            texts = [_scalar_text(item) for item in items]
            if not items or None in texts:
                problems.append(f"{where}: {operator} {key} needs string, number or boolean values")
                continue
            problems += _value_problems(operator, key, tuple(t for t in texts if t is not None), where)
    return problems


def _statement_problems(raw: Any, where: str, resource_based: bool) -> list[str]:
    if not isinstance(raw, Mapping):
        return [f"{where}: statement must be an object"]
    problems = [f"{where}: unknown element {key!r}" for key in raw if key not in _STATEMENT]
    if raw.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"{where}: Effect must be Allow or Deny")
    problems += _exactly_one(raw, "Action", where, True)
    problems += _exactly_one(raw, "Resource", where, not resource_based)
    problems += _principal_element_problems(raw, where, resource_based)
    if "Condition" in raw:
        problems += _condition_problems(raw["Condition"], where)
    return problems


def _principal_element_problems(raw: Mapping[str, Any], where: str, resource_based: bool) -> list[str]:
    present = [key for key in ("Principal", "NotPrincipal") if key in raw]
    if not resource_based:
        return [f"{where}: {key} is not allowed in an identity-based policy" for key in present]
    if len(present) != 1:
        return [f"{where}: a resource-based policy statement needs exactly one of Principal or NotPrincipal"]
    if present[0] == "NotPrincipal" and raw.get("Effect") == "Allow":
        return [f"{where}: NotPrincipal is supported only with Effect Deny"]
    return _principal_problems(raw[present[0]], where)


def policy_problems(document: Mapping[str, Any] | str, resource_based: bool) -> list[str]:
    """Every grammar problem of ``document`` (empty when it is well formed)."""
    try:
        mapping = load_document(document)
    except PolicyError as error:
        return [str(error)]
    problems = [f"unknown top-level element {key!r}" for key in mapping if key not in _TOP]
    version = mapping.get("Version")
    if version is not None and version not in VERSIONS:
        problems.append(f"Version must be one of {', '.join(VERSIONS)}")
    statements = mapping.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return problems + ["policy needs a Statement object or a non-empty list of statements"]
    for index, raw in enumerate(statements):
        problems += _statement_problems(raw, f"statement {index}", resource_based)
    return problems


def check_policy(document: Mapping[str, Any] | str, resource_based: bool) -> None:
    """Raise PolicyError with the first problem, if any."""
    problems = policy_problems(document, resource_based)
    if problems:
        raise PolicyError(problems[0])
