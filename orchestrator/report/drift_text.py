"""Drift as a table of differences: resource, property path, expected, actual, kind; a note under
an access key that orchestrate did not make, since apply never deletes one. Then the access
section: one line per cell of the access matrix the world decides otherwise than the desired
state, a gained one flagged as widening access."""

from __future__ import annotations

from orchestrator.reconcile.drift import AccessDifference, Difference
from orchestrator.report.plan_text import short
from orchestrator.report.style import Style
from orchestrator.report.words import counted


def render_drift(state: str, found: list[Difference], style: Style, access: list[AccessDifference] | None = None) -> str:
    access = access or []
    if not found and not access:
        return f"In sync with state {state}: no drift."
    lines = [f"Drift from state {state}: {counted(len(found), 'difference')}, {counted(len(access), 'access change')}."]
    for difference in found:
        flag = style("  [widens access]", "red", "bold") if difference.widens_access else ""
        where = f"{difference.resource}{'.' + difference.path if difference.path else ''}"
        lines.append(f"  {style(difference.kind, 'yellow')} {where}{flag}")
        lines.append(f"      expected: {short(difference.expected)}")
        lines.append(f"      actual:   {short(difference.actual)}")
        if difference.path.startswith("access_keys"):
            lines.append("      an access key orchestrate did not make: anyone holding it acts as this user; apply leaves it alone")
    return "\n".join(lines + render_access(access, style))


def render_access(access: list[AccessDifference], style: Style) -> list[str]:
    if not access:
        return []
    gained = sum(d.widens_access for d in access)
    lines = [f"Access: {counted(len(access), 'cell')} {'differs' if len(access) == 1 else 'differ'} from the desired state" + (f", {gained} gained" if gained else "") + "."]
    for difference in access:
        flag = style("  [widens access]", "red", "bold") if difference.widens_access else ""
        lines.append(f"  {style(difference.change, 'yellow')} {difference.words()}{flag}")
    return lines
