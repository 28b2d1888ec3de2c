"""JSON Merge Patch (RFC 7386) with policy statements addressable by Sid.

RFC 7386 replaces arrays whole. A policy's `Statement` is an array, and restating a whole key
policy to add one statement is how mistakes get into reviews, so inside a patch `Statement` may
also be a mapping from Sid to statement: a statement object merges into the statement with that
Sid (or is appended, with its Sid set), and null removes it. A list still replaces whole.
"""

from __future__ import annotations

import copy
from typing import Any

STATEMENT = "Statement"


def merge_patch(target: Any, patch: Any) -> Any:
    """Return target with patch applied; neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        elif name == STATEMENT and isinstance(value, dict) and _is_sid_map(value):
            result[name] = patch_statements(result.get(name), value)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def _is_sid_map(value: dict[str, Any]) -> bool:
    """A Statement mapping of Sid to statement, as opposed to a single statement object."""
    return "Effect" not in value and all(item is None or isinstance(item, dict) for item in value.values())


def patch_statements(statements: Any, by_sid: dict[str, Any]) -> list[Any]:
    """Apply a Sid-keyed patch to a statement list (a single statement counts as a list of one)."""
    current = statements if isinstance(statements, list) else ([statements] if statements else [])
    result = [copy.deepcopy(statement) for statement in current]
    for sid, change in by_sid.items():
        index = statement_index(result, sid)
        if change is None:
            if index is not None:
                del result[index]
        elif index is None:
            result.append({"Sid": sid, **copy.deepcopy(change)})
        else:
            result[index] = merge_patch(result[index], change)
    return result


def statement_index(statements: list[Any], sid: str) -> int | None:
    for index, statement in enumerate(statements):
        if isinstance(statement, dict) and statement.get("Sid") == sid:
            return index
    return None
