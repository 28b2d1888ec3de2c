"""Drift as a table of differences: resource, property path, expected, actual, kind; a note under
an access key that orchestrate did not make, since apply never deletes one."""

from __future__ import annotations

from orchestrator.reconcile.drift import Difference
from orchestrator.report.plan_text import short
from orchestrator.report.style import Style


def render_drift(state: str, found: list[Difference], style: Style) -> str:
    if not found:
        return f"In sync with state {state}: no drift."
    lines = [f"Drift from state {state}: {len(found)} difference(s)."]
    for difference in found:
        flag = style("  [widens access]", "red", "bold") if difference.widens_access else ""
        where = f"{difference.resource}{'.' + difference.path if difference.path else ''}"
        lines.append(f"  {style(difference.kind, 'yellow')} {where}{flag}")
        lines.append(f"      expected: {short(difference.expected)}")
        lines.append(f"      actual:   {short(difference.actual)}")
        if difference.path.startswith("access_keys"):
            lines.append("      an access key orchestrate did not make: anyone holding it acts as this user; apply leaves it alone")
    return "\n".join(lines)
