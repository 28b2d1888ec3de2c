"""Plans as Terraform prints them: `+` create, `~` update (each property before -> after),
`-` delete, `-/+` replace, `!` a conflict that apply refuses."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.reconcile.plan import Action, Plan, ResourceChange
from orchestrator.report.style import Style

COLOURS = {
    Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "magenta",
    Action.DELETE: "red", Action.CONFLICT: "red", Action.NO_OP: "dim",
}


def short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_change(change: ResourceChange, style: Style) -> list[str]:
    colour = COLOURS[change.action]
    head = f"  {style(change.action.symbol, colour, 'bold'):>3} {change.address}"
    if change.reason:
        head += style(f"  ({change.reason})", "dim")
    lines = [head]
    if change.action is Action.CREATE:
        lines += [f"        {name} = {short(value)}" for name, value in sorted((change.after or {}).items())]
    for prop in change.properties:
        lines += _property_lines(change.address, prop.path, prop.before, prop.after, style, colour)
    return lines


def _property_lines(address: str, name: str, before: Any, after: Any, style: Style, colour: str) -> list[str]:
    """Scalars as `before -> after`; documents as their inner additions, removals and changes."""
    if not (isinstance(before, (dict, list)) and isinstance(after, (dict, list))):
        return [f"        {name}: {short(before)} {style('->', colour)} {short(after)}"]
    from orchestrator.reconcile.drift import compare

    lines = []
    for difference in compare(address, {name: before}, {name: after}):
        if difference.kind == "ADD":
            lines.append(f"        {style('+', 'green')} {difference.path}: {short(difference.actual)}")
        elif difference.kind == "REMOVE":
            lines.append(f"        {style('-', 'red')} {difference.path}: {short(difference.expected)}")
        else:
            lines.append(f"        {difference.path}: {short(difference.expected)} {style('->', colour)} {short(difference.actual)}")
    return lines


def render_plan(plan: Plan, style: Style) -> str:
    pending = plan.pending
    if not pending:
        return f"State {plan.state}: no changes. The world matches the scenario."
    counts = {action: sum(1 for c in pending if c.action is action) for action in Action}
    lines = [f"State {plan.state}: orchestrate will make these changes:"]
    for change in pending:
        lines += render_change(change, style)
    summary = ", ".join(f"{counts[a]} to {a.value}" for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE) if counts[a])
    if counts[Action.CONFLICT]:
        summary += f", {counts[Action.CONFLICT]} conflict(s)"
    lines.append(f"Plan: {summary}.")
    return "\n".join(lines)
