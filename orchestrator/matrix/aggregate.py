"""What a matrix run adds up to: the exit code, and summaries for people and for CI."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.exit_codes import ExitCode


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


def counts(outcome: dict[str, Any]) -> tuple[int, int]:
    summary = (outcome["report"] or {}).get("summary", {})
    return summary.get("passed", 0), summary.get("failed", 0)


def markdown(outcomes: list[dict[str, Any]], shard: str | None = None) -> str:
    """A summary fit for $GITHUB_STEP_SUMMARY."""
    title = "### orchestrate scenario matrix" + (f" (shard {shard})" if shard else "")
    icon = {"passed": "✅", "failed": "❌", "error": "💥"}
    mutated = any("mutation" in outcome for outcome in outcomes)
    lines = [title, "", "| scenario | status | passed | failed | seconds |" + (" mutation score |" if mutated else ""),
             "|---|---|---|---|---|" + ("---|" if mutated else "")]
    for outcome in outcomes:
        passed, failed = counts(outcome)
        state = status(outcome)
        score = f" {mutation_words(outcome)} |" if mutated else ""
        lines.append(f"| `{outcome['name']}` | {icon[state]} {state} | {passed} | {failed} | {outcome['seconds']:.1f} |{score}")
    failures = [(o, v) for o in outcomes if o["report"] for s in o["report"]["states"] for v in s["expectations"] if not v["passed"]]
    if failures:
        lines += ["", "#### Failed expectations", ""]
        lines += [f"- `{o['name']}` {v['state']}: {v['principal']} {v['action']} {v['resource']}: expected {v['expected']}, "
                  f"actual {v['actual']} — {v['reason']}" for o, v in failures]
    lines += [f"- `{o['name']}`: {o['error']}" for o in outcomes if o["error"]]
    return "\n".join(lines) + "\n"


def mutation_words(outcome: dict[str, Any]) -> str:
    """`0.89 (8/9)`: the score, killed of counted mutants; `-` when it was not computed."""
    mutation = outcome.get("mutation")
    if not mutation:
        return "-"
    return f"{mutation['score']:.2f} ({mutation['killed']}/{mutation['killed'] + mutation['survived']})"


def github_annotations(outcomes: list[dict[str, Any]]) -> str:
    """GitHub Actions workflow commands: one ::error per failed expectation or errored scenario."""
    lines = []
    for outcome in outcomes:
        if outcome["error"]:
            lines.append(f"::error file={outcome['file']},title=scenario {outcome['name']} errored::{_escape(outcome['error'])}")
            continue
        for state in outcome["report"]["states"]:
            for verdict in state["expectations"]:
                if not verdict["passed"]:
                    title = f"{outcome['name']} {state['name']}: {verdict['principal']} {verdict['action']} {verdict['resource']}"
                    lines.append(f"::error file={outcome['file']},title={_escape(title)}::{_escape('; '.join(verdict['problems']) + ' — ' + verdict['reason'])}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def as_json(outcomes: list[dict[str, Any]], shard: str | None) -> str:
    return json.dumps({"format_version": "1", "shard": shard, "exit_code": exit_code(outcomes), "scenarios": outcomes}, indent=2, default=str)
