"""Drift as a table of differences: resource, property path, expected, actual, kind; a note under
an access key that orchestrate did not make, since apply never deletes one. Then the access
section: one line per cell of the access matrix the world decides otherwise than the desired
state, a gained one flagged as widening access. Values in full, never cut: a document on its own
lines, and two that differ as a structured diff from expected (`-`) to actual (`+`), as plan
shows a change (json_diff.py)."""

from __future__ import annotations

from typing import Any

from orchestrator.reconcile.drift import AccessDifference, Difference
from orchestrator.report.json_diff import diff_lines, render, value_lines
from orchestrator.report.style import Style
from orchestrator.report.words import counted

_VALUE_INDENT = " " * 6
_DOCUMENT_INDENT = " " * 8


def render_drift(state: str, found: list[Difference], style: Style, access: list[AccessDifference] | None = None) -> str:
    access = access or []
    if not found and not access:
        return f"In sync with state {state}: no drift."
    lines = [f"Drift from state {state}: {counted(len(found), 'difference')}, {counted(len(access), 'access change')}."]
    for difference in found:
        flag = style("  [widens access]", "red", "bold") if difference.widens_access else ""
        where = f"{difference.resource}{'.' + difference.path if difference.path else ''}"
        lines.append(f"  {style(difference.kind, 'yellow')} {where}{flag}")
        lines += _values(difference, style)
        if difference.path.startswith("access_keys"):
            lines.append("      an access key orchestrate did not make: anyone holding it acts as this user; apply leaves it alone")
    return "\n".join(lines + render_access(access, style))


def _values(difference: Difference, style: Style) -> list[str]:
    """Expected and actual, each whole; two documents that differ as one diff between them."""
    expected, actual = difference.expected, difference.actual
    if difference.kind == "NOT_EQUAL" and _document(expected) and _document(actual):
        return [f"{_VALUE_INDENT}expected -> actual:", *render(diff_lines(expected, actual), style, _DOCUMENT_INDENT)]
    return _value("expected: ", expected, style) + _value("actual:   ", actual, style)


def _value(label: str, value: Any, style: Style) -> list[str]:
    if not _document(value):
        return render(value_lines(value, lead=label), style, _VALUE_INDENT[:-2])
    return [f"{_VALUE_INDENT}{label.strip()}", *render(value_lines(value), style, _DOCUMENT_INDENT)]


def _document(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def render_access(access: list[AccessDifference], style: Style) -> list[str]:
    if not access:
        return []
    gained = sum(d.widens_access for d in access)
    lines = [f"Access: {counted(len(access), 'cell')} {'differs' if len(access) == 1 else 'differ'} from the desired state" + (f", {gained} gained" if gained else "") + "."]
    for difference in access:
        flag = style("  [widens access]", "red", "bold") if difference.widens_access else ""
        lines.append(f"  {style(difference.change, 'yellow')} {difference.words()}{flag}")
    return lines
