"""The run report as JSON (versioned): states, plans, verdicts, access changes, summary."""

from __future__ import annotations

from typing import Any

from orchestrator.prove.assertions import Verdict
from orchestrator.prove.runner import RunResult, StateResult, access_changes
from orchestrator.report.guarantees import guarantee_counts, guarantee_json

FORMAT_VERSION = "1"


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "state": verdict.state,
        "index": verdict.index,
        "principal": verdict.principal,
        "action": verdict.action,
        "resource": verdict.resource,
        "description": verdict.description,
        "line": verdict.line,
        "col": verdict.col,
        "expected": verdict.expected,
        "actual": verdict.actual.word,
        "predicted": None if verdict.predicted is None else ("allowed" if verdict.predicted.allowed else "denied"),
        "passed": verdict.passed,
        "skipped": verdict.skipped,
        "model_gap": verdict.model_gap,
        "layer": verdict.layer,
        "reason": verdict.reason,
        "error_code": verdict.actual.code,
        "error_message": verdict.actual.message,
        "problems": verdict.problems,
        "attempts": verdict.attempts,
        "settled": verdict.settled,
        "settle_seconds": round(verdict.settle_seconds, 3),
    }


def last_to_settle(state: StateResult) -> dict[str, Any] | None:
    """The expectation that took longest to settle, where the state waited (else null)."""
    slowest = next((v for v in state.verdicts if v.index == state.last_to_settle), None)
    if state.last_to_settle is None or slowest is None:
        return None
    return {"index": slowest.index, "principal": slowest.principal, "action": slowest.action,
            "resource": slowest.resource, "attempts": slowest.attempts, "settle_seconds": round(slowest.settle_seconds, 3)}


def summary(result: RunResult) -> dict[str, int]:
    """The expectations' count (report/tally.py): `failed` is a wrong outcome, `errored` no access
    decision, `skipped` no call; the run's own error, if any, is `error` beside it."""
    verdicts = result.verdicts
    errored = sum(v.actual.errored for v in verdicts)
    skipped = sum(v.skipped for v in verdicts)
    return {
        "expectations": len(verdicts),
        "passed": sum(v.passed for v in verdicts),
        "failed": sum(not v.passed for v in verdicts) - errored - skipped,
        "errored": errored,
        "skipped": skipped,
        "model_gaps": sum(v.model_gap for v in verdicts),
    }


def run_json(result: RunResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "scenario": result.scenario,
        "file": result.file,
        "backend": result.backend,
        "passed": result.passed,
        "error": None if result.error is None else str(result.error),
        "parallel": result.parallel,
        "summary": summary(result),
        "guarantees": guarantee_counts(result.guarantees),
        "states": [
            {"name": s.name, "changes": s.plan.as_json()["changes"], "settle_seconds": round(s.settle_seconds, 3),
             "last_to_settle": last_to_settle(s), "expectations": [verdict_json(v) for v in s.verdicts],
             "guarantees": [guarantee_json(g) for g in s.guarantees]}
            for s in result.states
        ],
        "access_changes": access_changes(result),
    }
