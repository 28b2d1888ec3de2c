"""What a matrix run adds up to: the exit code, and summaries for people and for CI."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.exit_codes import ExitCode
from orchestrator.report.tally import Tally, of_report, verdict_kind


def status(outcome: dict[str, Any]) -> str:
    if outcome["error"]:
        return "error"
    return "passed" if outcome["report"]["passed"] else "failed"


def exit_code(outcomes: list[dict[str, Any]]) -> int:
    """3 if any scenario errored, else 1 if any expectation failed, else 0."""
    statuses = {status(outcome) for outcome in outcomes}
    if "error" in statuses:
        return ExitCode.INFRA
    return ExitCode.FAILED if "failed" in statuses else ExitCode.OK


def counts(outcome: dict[str, Any]) -> Tally:
    """Passed, failed and errored, as the progress line, the JUnit suite and the summary count
    them (report/tally.py): a scenario that could not run to its end is one more errored."""
    return of_report(outcome["report"], outcome["error"])


def markdown(outcomes: list[dict[str, Any]], shard: str | None = None) -> str:
    """A summary fit for $GITHUB_STEP_SUMMARY."""
    title = "### orchestrate scenario matrix" + (f" (shard {shard})" if shard else "")
    icon = {"passed": "✅", "failed": "❌", "error": "💥"}
    mutated = any("mutation" in outcome for outcome in outcomes)
    lines = [title, "", "| scenario | status | passed | failed | errored | seconds |" + (" mutation score |" if mutated else ""),
             "|---|---|---|---|---|---|" + ("---|" if mutated else "")]
    for outcome in outcomes:
        tally = counts(outcome)
        state = status(outcome)
        score = f" {mutation_words(outcome)} |" if mutated else ""
        lines.append(f"| `{outcome['name']}` | {icon[state]} {state} | {tally.passed} | {tally.failed} | {tally.errored} |"
                     f" {outcome['seconds']:.1f} |{score}")
    for kind, heading in (("failed", "Failed expectations"), ("errored", "Errored expectations")):
        found = [(o, v) for o in outcomes if o["report"] for s in o["report"]["states"] for v in s["expectations"]
                 if verdict_kind(v) == kind]
        if found:
            lines += ["", f"#### {heading}", ""]
            lines += [f"- `{o['name']}` {v['state']}: {v['principal']} {v['action']} {v['resource']}: expected {v['expected']}, "
                      f"actual {v['actual']} — {v['reason']}" for o, v in found]
    lines += [f"- `{o['name']}`: {o['error']}" for o in outcomes if o["error"]]
    return "\n".join(lines) + "\n"


def mutation_words(outcome: dict[str, Any]) -> str:
    """`0.89 (8/9)`: the score, killed of counted mutants; `-` when it was not computed."""
    mutation = outcome.get("mutation")
    if not mutation:
        return "-"
    return f"{mutation['score']:.2f} ({mutation['killed']}/{mutation['killed'] + mutation['survived']})"


def github_annotations(outcomes: list[dict[str, Any]]) -> str:
    """GitHub Actions workflow commands: one ::error per expectation that failed or errored, at its
    line and column, and one per scenario that could not run to its end (GitHub Docs, "Workflow
    commands for GitHub Actions", "Setting an error message")."""
    lines = []
    for outcome in outcomes:
        if outcome["error"]:
            lines.append(workflow_command("error", outcome["error"], file=outcome["file"],
                                          title=f"scenario {outcome['name']} errored"))
        for state in (outcome["report"] or {}).get("states", []):
            for verdict in state["expectations"]:
                kind = verdict_kind(verdict)
                if kind not in ("passed", "skipped"):  # a skip fails nothing (report/tally.py)
                    title = (f"{outcome['name']} {state['name']}: {verdict['principal']} {verdict['action']}"
                             f" {verdict['resource']} {kind}")
                    lines.append(workflow_command("error", "; ".join(verdict["problems"]) + " — " + verdict["reason"],
                                                  file=outcome["file"], line=verdict.get("line") or None,
                                                  col=verdict.get("col") or None, title=title))
    return "\n".join(lines)


def workflow_command(command: str, message: str, **properties: object) -> str:
    """`::command key=value,...::message`, properties None left out. The escapes are the runner's
    (actions/toolkit, packages/core/src/command.ts): a property escapes `%`, CR, LF, `:` and `,`,
    which would otherwise end it; the message escapes `%`, CR and LF."""
    said = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{command}{' ' + said if said else ''}::{_escape(message)}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def as_json(outcomes: list[dict[str, Any]], shard: str | None) -> str:
    return json.dumps({"format_version": "1", "shard": shard, "exit_code": exit_code(outcomes), "scenarios": outcomes}, indent=2, default=str)
