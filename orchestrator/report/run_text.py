"""The run report for people: per state, each expectation with expected, actual, predicted and
the reason; the access gained or lost between states; a summary line."""

from __future__ import annotations

from orchestrator.prove.assertions import Verdict
from orchestrator.report.guarantees import guarantee_counts, render_guarantees
from orchestrator.report.plan_text import render_change
from orchestrator.report.run_json import summary
from orchestrator.report.style import Style
from orchestrator.report.words import counted
from orchestrator.prove.runner import RunResult, StateResult, access_changes


def render_verdict(verdict: Verdict, style: Style) -> list[str]:
    if verdict.skipped:
        return [f"  {style('SKIP', 'yellow', 'bold')} {verdict.principal} {verdict.action} {verdict.resource}:"
                f" expected {verdict.expected}, not called", f"       skipped: {verdict.reason}"]
    mark = style("PASS", "green", "bold") if verdict.passed else style("FAIL", "red", "bold")
    predicted = "n/a" if verdict.predicted is None else ("allowed" if verdict.predicted.allowed else "denied")
    head = (f"  {mark} {verdict.principal} {verdict.action} {verdict.resource}: "
            f"expected {verdict.expected}, actual {verdict.actual.word}, predicted {predicted}")
    lines = [head]
    if verdict.model_gap:
        lines.append("       " + style("model gap: the engine predicted otherwise than the service answered", "yellow"))
    if not verdict.actual.allowed and verdict.actual.code:
        lines.append(f"       error: {verdict.actual.code}")
    if verdict.layer:
        lines.append(f"       decided by: {verdict.layer}")
    if verdict.reason not in verdict.problems:  # an errored call's message is its one problem: say it once
        lines.append(f"       reason: {verdict.reason}")
    lines += [f"       {style('problem', 'red')}: {problem}" for problem in verdict.problems]
    return lines


def render_state(state: StateResult, style: Style) -> list[str]:
    changes = len(state.plan.pending)
    settled = f", settled in {state.settle_seconds:.1f} s" if state.settle_seconds >= 0.05 else ""
    lines = [style(f"State {state.name}", "bold") + f" ({counted(changes, 'change')} applied{settled})"]
    lines += render_settling(state)
    for change in state.plan.pending:
        lines += render_change(change, style)
    for verdict in state.verdicts:
        lines += render_verdict(verdict, style)
    return lines + render_guarantees(state.guarantees, style)


def render_settling(state: StateResult) -> list[str]:
    """Where the state waited for outcomes to settle: how long, and which expectation was last."""
    if state.last_to_settle is None:
        return []
    slowest = next((v for v in state.verdicts if v.index == state.last_to_settle), None)
    if slowest is None:
        return []
    return [f"  settled in {state.settle_seconds:.1f} s; last to settle: #{slowest.index + 1} {slowest.principal}"
            f" {slowest.action} {slowest.resource} ({slowest.attempts} observations, {slowest.settle_seconds:.1f} s)"]


def render_run(result: RunResult, style: Style) -> str:
    """The report; a run that ended before any expectation was proved says so and nothing more
    (no count of workers that never ran, no tally of nothing): its reason follows on stderr."""
    if result.error and not result.states:
        return style(f"Scenario {result.scenario} on the {result.backend} backend: refused before any proof", "red", "bold")
    proved = bool(result.verdicts)
    at_once = f", {result.parallel} expectations proved at once" if result.parallel > 1 and proved else ""
    lines = [f"Scenario {result.scenario} on the {result.backend} backend{at_once}"]
    for state in result.states:
        lines += render_state(state, style)
    changes = access_changes(result)
    if changes:
        lines.append("Access changes between states:")
        lines += [f"  {c['state']}: {c['principal']} {c['change']} {c['action']} on {c['resource']}" for c in changes]
    if result.error and not proved:  # it ended before its first proof: no tally of nothing
        lines.append(style("stopped before any proof", "red", "bold"))
        return "\n".join(lines)
    lines.append(summary_line(result, style))
    return "\n".join(lines)


def summary_line(result: RunResult, style: Style) -> str:
    """`3 passed, 1 failed, 1 errored`: the words and numbers of the progress lines and the JUnit
    totals (report/tally.py); the run's own error, if any, is one more errored."""
    counts = summary(result)
    errored = counts["errored"] + (1 if result.error else 0)
    gaps = f", {counted(counts['model_gaps'], 'model gap')}" if counts["model_gaps"] else ""
    said = (f"{counts['passed']} passed, {counts['failed']} failed" + (f", {errored} errored" if errored else "")
            + (f", {counts['skipped']} skipped" if counts["skipped"] else ""))
    return style(said + gaps, "green" if result.passed else "red", "bold") + guarantees_said(result)


def guarantees_said(result: RunResult) -> str:
    """`; 3 guarantees: 2 proved, 1 violated (1 failed)`, after the expectations' count."""
    counts = guarantee_counts(result.guarantees)
    if not counts["guarantees"]:
        return ""
    said = ", ".join(f"{counts[word]} {word}" for word in ("proved", "violated", "unknown") if counts[word])
    failed = f" ({counts['failed']} failed)" if counts["failed"] else ""
    return f"; {counted(counts['guarantees'], 'guarantee')}: {said}{failed}"
