"""Mutation testing's report as `orchestrate mutate --output json` prints it (and the text report
reads it back: orchestrator/report/mutate_text.py)."""

from __future__ import annotations

from typing import Any

from orchestrator.analysis.mutate import CellChange, MutantResult, MutationReport, counts
from orchestrator.loader.diagnostics import format_path

__all__ = ["report_json", "result_json", "change_json"]


def result_json(result: MutantResult, state_names: list[str]) -> dict[str, Any]:
    site, kill, suggestion = result.mutant.site, result.kill, result.suggestion
    file, line, col = result.location
    return {
        "status": result.status, "at": result.at, "file": file, "line": line, "col": col,
        "kind": site.kind, "policy": site.policy, "statement": site.label if site.kind == "statement" else None,
        "name": site.label, "path": format_path(site.path),
        "state": None if site.state is None else state_names[site.state],
        "operator": result.mutant.operator, "detail": result.mutant.detail,
        "killed_by": None if kill is None else {"state": kill.state, "index": kill.index, "as": kill.expectation.principal,
                                                "action": kill.expectation.action, "resource": kill.expectation.resource,
                                                "before": kill.before, "after": kill.after},
        "killed_by_guarantee": None if result.guarantee_kill is None else {
            "state": result.guarantee_kill.state, "index": result.guarantee_kill.index,
            "guarantee": result.guarantee_kill.words, "witness": result.guarantee_kill.witness},
        "changed_cells": [change_json(change, state_names) for change in result.changes],
        "suggestion": None if suggestion is None else {"state": suggestion.state, "cell": suggestion.cell, "yaml": suggestion.yaml,
                                                       "section": suggestion.section},
        "problem": result.problem, "embedded": result.embedded,
    }


def change_json(change: CellChange, state_names: list[str]) -> dict[str, Any]:
    column = change.before.column
    return {"state": state_names[change.state], "as": change.before.principal, "action": column.action,
            "resource": column.resource, "variant": column.variant or None, "before": change.before.label,
            "after": change.after.label}


def report_json(report: MutationReport, state_names: list[str], min_score: float, backend: str) -> dict[str, Any]:
    return {
        "scenario": report.scenario, "file": report.file, "backend": backend,
        "score": round(report.score, 4), "min_score": min_score, "passed": report.score >= min_score,
        "counts": counts(report),
        "disagreements": [{"state": d.state, "index": d.index, "as": d.expectation.principal, "action": d.expectation.action,
                           "resource": d.expectation.resource, "expect": d.expectation.expect, "layer": d.expectation.layer,
                           "engine": d.engine} for d in report.disagreements],
        "mutants": [result_json(result, state_names) for result in report.results],
    }
