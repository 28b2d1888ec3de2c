"""Pydantic's errors, turned into problems located on paths of the data the author wrote.

Pydantic's `loc` mixes data keys with union-branch tags (`str`, `list[str]`, `PrincipalMap`,
`function-after[...]`). We walk the data alongside the loc and keep only the elements that
index into it, collapse the branches of one union into one message, and prefer the most
specific error when a union fails at several depths.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from orchestrator.loader.diagnostics import PathElement

# Error types that say "this value has the wrong shape"; dropped when a deeper error explains more.
SHAPE_ERRORS = frozenset(
    {
        "string_type", "list_type", "dict_type", "model_type", "model_attributes_type", "literal_error",
        "int_type", "float_type", "bool_type", "is_instance_of", "union_tag_invalid", "int_parsing",
        "float_parsing", "bool_parsing", "string_pattern_mismatch",
    }
)


@dataclass(frozen=True)
class Problem:
    path: tuple[PathElement, ...]
    message: str
    at_key: bool = False


def located_statements(document: Any, path: tuple[PathElement, ...]) -> Iterator[tuple[tuple[PathElement, ...], Any]]:
    """Each statement of a policy document with its path (`Statement` or `Statement[i]`, as written)."""
    single = not isinstance(document.statement, list)
    for index, statement in enumerate(document.statements()):
        yield path + ("Statement",) + (() if single else (index,)), statement


def data_path(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[PathElement, ...], Any]:
    """The part of loc that indexes into data, and the first element that did not (if any)."""
    path: list[PathElement] = []
    node = data
    consumed_last = False
    for element in loc:
        consumed_last = False
        if isinstance(node, dict) and element in node:
            node, consumed_last = node[element], True
            path.append(element)
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node, consumed_last = node[element], True
            path.append(element)
    leftover = loc[-1] if loc and not consumed_last and isinstance(loc[-1], str) else None
    return tuple(path), leftover


def problems_from(error: ValidationError, data: Any, prefix: tuple[PathElement, ...] = ()) -> list[Problem]:
    found: list[tuple[Problem, str]] = []
    for item in error.errors(include_url=False):
        path, leftover = data_path(data, tuple(item["loc"]))
        found.append((_problem(item, prefix + path, leftover), item["type"]))
    return _collapse(_prefer_specific(found))


def _problem(item: dict[str, Any], path: tuple[PathElement, ...], leftover: str | None) -> Problem:
    kind = item["type"]
    if kind == "missing":
        return Problem(path, f"missing required field {leftover!r}" if leftover else "missing required field")
    if kind == "extra_forbidden":
        return Problem(path, f"unknown field {path[-1]!r}" if path else "unknown field", at_key=True)
    message = item["msg"].removeprefix("Value error, ")
    if kind in SHAPE_ERRORS and not isinstance(item.get("input"), (dict, list)):
        message = f"{message} (got {_shown(item.get('input'))})"
    if kind == "too_short" and path and path[-1] == "states":
        message = "a scenario needs at least one state"
    return Problem(path, message)


def _shown(value: Any, limit: int = 80) -> str:
    """The offending value as written, cut short: a message is one line, whatever the input."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _prefer_specific(found: list[tuple[Problem, str]]) -> list[Problem]:
    """Drop shape errors whose path is a strict prefix of another error's path (union branches)."""
    paths = [problem.path for problem, _ in found]
    kept = []
    for problem, kind in found:
        deeper = any(len(other) > len(problem.path) and other[: len(problem.path)] == problem.path for other in paths)
        if kind in SHAPE_ERRORS and deeper:
            continue
        kept.append(problem)
    return kept


def _collapse(problems: list[Problem]) -> list[Problem]:
    """One message per path: the branches of a union become 'a or b'."""
    merged: dict[tuple[tuple[PathElement, ...], bool], list[str]] = {}
    for problem in problems:
        messages = merged.setdefault((problem.path, problem.at_key), [])
        if problem.message not in messages:
            messages.append(problem.message)
    return [Problem(path, _join(messages), at_key) for (path, at_key), messages in merged.items()]


def _join(messages: list[str]) -> str:
    if len(messages) == 1:
        return messages[0]
    head, *rest = messages
    return head + "".join(" or " + message.removeprefix("Input should be ") for message in rest)
