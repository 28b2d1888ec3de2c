"""JSON values and their changes as Terraform's plan prints a JSON attribute change: the value
pretty-printed, one key or element a line, each line marked `+` added, `-` removed, `~` changed
(a scalar as `before -> after`), nothing when unchanged; never cut, however long.

Unchanged keys of a changed object are hidden behind one `# (N unchanged keys hidden)` line, and
so are unchanged objects and arrays in an array (`# (N unchanged elements hidden)`), as
Terraform's renderer does (internal/command/jsonformat); unchanged scalars in an array stay as
context, and so does a changed statement's `Sid`, which names it. Array elements are matched as
a line diff matches lines (difflib's longest matching blocks), by their `Sid` when they have one
(a statement whose body changed is one `~` element, not a removal and an addition), else by
their whole value; the lone pair left in a changed run is compared as one changed element."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from orchestrator.report.style import Style

ADDED, REMOVED, CHANGED, SAME = "+", "-", "~", " "
#: The keys that name an object in an array, shown even when unchanged (IAM: a statement's Sid).
NAMING_KEYS = ("Sid",)
_COLOURS = {ADDED: "green", REMOVED: "red", CHANGED: "yellow"}


@dataclass(frozen=True)
class Line:
    depth: int
    marker: str
    text: str


def _scalar(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def value_lines(value: Any, marker: str = SAME, depth: int = 0, lead: str = "") -> list[Line]:
    """A whole value, every line with the same marker (added, removed or shown as it is)."""
    if not _container(value):
        return [Line(depth, marker, lead + _scalar(value))]
    items = sorted(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    lines = [Line(depth, marker, lead + opening)]
    for key, item in items:
        lines += value_lines(item, marker, depth + 1, "" if key is None else f"{_scalar(key)}: ")
    return lines + [Line(depth, marker, closing)]


def diff_lines(before: Any, after: Any, depth: int = 0, lead: str = "") -> list[Line]:
    """The change from before to after; an unchanged value as it is."""
    if before == after:
        return value_lines(after, SAME, depth, lead)
    if isinstance(before, dict) and isinstance(after, dict):
        return _object_diff(before, after, depth, lead)
    if isinstance(before, list) and isinstance(after, list):
        return _array_diff(before, after, depth, lead)
    if not _container(before) and not _container(after):
        return [Line(depth, CHANGED, f"{lead}{_scalar(before)} -> {_scalar(after)}")]
    return value_lines(before, REMOVED, depth, lead) + value_lines(after, ADDED, depth, lead)


def _object_diff(before: dict[str, Any], after: dict[str, Any], depth: int, lead: str) -> list[Line]:
    lines, hidden = [Line(depth, CHANGED, lead + "{")], 0
    for key in sorted(set(before) | set(after)):
        named = f"{_scalar(key)}: "
        if key not in before:
            lines += value_lines(after[key], ADDED, depth + 1, named)
        elif key not in after:
            lines += value_lines(before[key], REMOVED, depth + 1, named)
        elif before[key] != after[key] or (key in NAMING_KEYS and not _container(after[key])):
            lines += diff_lines(before[key], after[key], depth + 1, named)
        else:
            hidden += 1
    return lines + _hidden(hidden, "key", depth + 1) + [Line(depth, SAME, "}")]


def _identity(item: Any) -> str:
    named = [f"{key}={item[key]}" for key in NAMING_KEYS if isinstance(item, dict) and isinstance(item.get(key), str)]
    return named[0] if named else _scalar(item)


def _array_diff(before: list[Any], after: list[Any], depth: int, lead: str) -> list[Line]:
    lines, hidden = [Line(depth, CHANGED, lead + "[")], 0
    matcher = SequenceMatcher(None, [_identity(i) for i in before], [_identity(i) for i in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for old, new in (zip(before[i1:i2], after[j1:j2]) if tag == "equal" else ()):
            if old == new and _container(new):
                hidden += 1
                continue
            lines += _hidden(hidden, "element", depth + 1) + diff_lines(old, new, depth + 1)
            hidden = 0
        if tag != "equal":
            lines += _hidden(hidden, "element", depth + 1) + _replaced(before[i1:i2], after[j1:j2], depth + 1)
            hidden = 0
    return lines + _hidden(hidden, "element", depth + 1) + [Line(depth, SAME, "]")]


def _replaced(olds: Sequence[Any], news: Sequence[Any], depth: int) -> list[Line]:
    """A run of removed elements and a run of added ones; one of each, both objects or both
    arrays, is one element changed."""
    if len(olds) == len(news) == 1 and type(olds[0]) is type(news[0]) and _container(olds[0]) and _container(news[0]):
        return diff_lines(olds[0], news[0], depth)
    return [line for old in olds for line in value_lines(old, REMOVED, depth)] + \
        [line for new in news for line in value_lines(new, ADDED, depth)]


def _hidden(count: int, what: str, depth: int) -> list[Line]:
    return [Line(depth, SAME, f"# ({count} unchanged {what}{'' if count == 1 else 's'} hidden)")] if count else []


def render(lines: list[Line], style: Style, indent: str) -> list[str]:
    """Each line under `indent`, four columns a level, its marker coloured; hidden counts dim."""
    out = []
    for line in lines:
        marker = style(line.marker, _COLOURS[line.marker]) if line.marker in _COLOURS else line.marker
        text = style(line.text, "dim") if line.text.startswith("# (") else line.text
        out.append(f"{indent}{'    ' * line.depth}{marker} {text}")
    return out
