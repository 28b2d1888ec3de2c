"""Canonical forms, so that desired and observed compare equal when AWS means the same thing.

Policy documents: Statement always a list, single values as sorted lists, bare account ids as
root ARNs (KMS and IAM rewrite them so), statements sorted; tags as plain dicts.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.arns import root_arn

LIST_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")
ACCOUNT_ID_LENGTH = 12


def as_sorted_list(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return sorted(values, key=lambda item: json.dumps(item, sort_keys=True))


def normalise_principal(principal: Any) -> Any:
    if principal == "*" or not isinstance(principal, dict):
        return principal
    result = {}
    for kind, values in principal.items():
        items = as_sorted_list(values)
        if kind == "AWS":
            items = sorted(_account_root(item) for item in items)
        result[kind] = items
    return result


def _account_root(value: str) -> str:
    if len(value) == ACCOUNT_ID_LENGTH and value.isdigit():
        return root_arn(value)
    return value


def normalise_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        operator: {key: [str(v).lower() if isinstance(v, bool) else str(v) for v in as_sorted_list(values)]
                   for key, values in block.items()}
        for operator, block in condition.items()
    }


def normalise_statement(statement: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in statement.items():
        if name in LIST_ELEMENTS:
            result[name] = as_sorted_list(value)
        elif name in ("Principal", "NotPrincipal"):
            result[name] = normalise_principal(value)
        elif name == "Condition":
            result[name] = normalise_condition(value)
        elif name == "Sid" and value == "":
            continue
        else:
            result[name] = value
    return result


def normalise_policy(document: dict[str, Any] | str | None) -> dict[str, Any] | None:
    if document is None:
        return None
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    normalised = [normalise_statement(s) for s in statements]
    result = {"Version": document.get("Version", "2008-10-17"), "Statement": sorted(normalised, key=_statement_order)}
    if "Id" in document:
        result["Id"] = document["Id"]
    return result


def _statement_order(statement: dict[str, Any]) -> str:
    return json.dumps([statement.get("Sid", ""), statement], sort_keys=True)


def policy_json(document: dict[str, Any]) -> str:
    """The text sent to AWS."""
    return json.dumps(document, separators=(",", ":"))
