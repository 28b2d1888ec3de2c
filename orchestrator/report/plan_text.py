"""Plans as Terraform prints them: `+` create, `~` update (each property before -> after),
`-` delete, `-/+` replace, `!` a conflict that apply refuses; a walk as one plan per state.
Documents (policies) in full, a change to one as a structured diff of its JSON (json_diff.py)."""

from __future__ import annotations

from typing import Any

from orchestrator.reconcile.plan import Action, Plan, ResourceChange, Walk, WalkStep
from orchestrator.report.json_diff import ADDED, diff_lines, render, value_lines
from orchestrator.report.style import Style
from orchestrator.report.words import counted

COLOURS = {
    Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "magenta",
    Action.DELETE: "red", Action.CONFLICT: "red", Action.NO_OP: "dim",
}


#: Where a resource's properties start: under its address.
PROPERTY_INDENT = " " * 6


def render_change(change: ResourceChange, style: Style) -> list[str]:
    colour = COLOURS[change.action]
    head = f"  {style(change.action.symbol, colour, 'bold'):>3} {change.address}"
    if change.reason:
        head += style(f"  ({change.reason})", "dim")
    lines = [head]
    if change.action is Action.CREATE:
        for name, value in sorted((change.after or {}).items()):
            lines += render(value_lines(value, ADDED, lead=f"{name} = "), style, PROPERTY_INDENT)
    for prop in change.properties:
        lines += _property_lines(prop.path, prop.before, prop.after, style)
    return lines


def _property_lines(name: str, before: Any, after: Any, style: Style) -> list[str]:
    """Scalars as `~ name = before -> after`; documents in full, as a structured diff of their JSON."""
    return render(diff_lines(before, after, lead=f"{name} = "), style, PROPERTY_INDENT)


def render_plan(plan: Plan, style: Style) -> str:
    """One state against the world as it is (`plan --state NAME`)."""
    if not plan.pending:
        return f"State {plan.state}: no changes. The world matches the scenario."
    return "\n".join(_plan_lines(plan, f"State {plan.state}", style))


def _plan_lines(plan: Plan, head: str, style: Style) -> list[str]:
    lines = [f"{head}: orchestrate will make these changes:"]
    for change in plan.pending:
        lines += render_change(change, style)
    lines.append(f"Plan: {summary_text(plan)}.")
    return lines


def summary_text(plan: Plan) -> str:
    """Terraform's plan summary ("6 to create, 1 to update"), conflicts last; "no changes" for none."""
    counts = plan.summary()
    text = ", ".join(f"{counts[a.value]} to {a.value}" for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE) if counts[a.value])
    if counts[Action.CONFLICT.value]:
        text += f"{', ' if text else ''}{counted(counts[Action.CONFLICT.value], 'conflict')}"
    return text or "no changes"


def _step_head(step: WalkStep, total: int) -> str:
    source = "from the world as it is" if step.source is None else f"from state {step.source}"
    return f"State {step.plan.state} ({step.index + 1}/{total}), {source}"


def _where(walk: Walk) -> str:
    names = [step.plan.state for step in walk.steps]
    state = walk.world_in_state
    if state is None:
        return "The world is in none of the scenario's states"
    return f"The world is in state {state} ({names.index(state) + 1}/{len(names)})"


def render_walk(walk: Walk, style: Style) -> str:
    """The walk apply would make, state by state, then a summary per state and which state the
    world is in. As Terraform's "No changes." when apply would leave the world as it is (it is in
    the last state): that line first, the walk apply still makes on the way only summarised."""
    total = len(walk.steps)
    summary = [f"  state {s.plan.state} ({s.index + 1}/{total}): {summary_text(s.plan)}" for s in walk.steps]
    if walk.no_changes:
        lines = [f"No changes. {_where(walk)}, the last: where apply leaves it."]
        if total > 1:
            lines += ["", "apply walks every state from the first and would leave the world as it is now; on the way:",
                      *summary, "`orchestrate plan --state NAME` shows one state's changes against the world."]
        return "\n".join(lines)
    lines: list[str] = []
    for step in walk.steps:
        head = _step_head(step, total)
        lines += _plan_lines(step.plan, head, style) if step.plan.pending else [f"{head}: no changes."]
        lines.append("")
    return "\n".join(lines + ["Summary:", *summary, f"{_where(walk)}."])
