"""Mutation testing's report in words (`orchestrate mutate`), from its JSON shape."""

from __future__ import annotations

import textwrap
from typing import Any
from orchestrator.report.words import counted

__all__ = ["render_text"]


def render_text(data: dict[str, Any]) -> str:
    counts = data["counts"]
    lines = [f"{data['file']}: mutation score {data['score']:.2f} ({counts['killed']} of"
             f" {counted(counts['killed'] + counts['survived'], 'mutant')} killed; {counts['equivalent']} equivalent,"
             f" {counts['invalid']} invalid, {counts['mutants']} in all; decided by the {data['backend']})"]
    lines += _disagreements(data["disagreements"])
    by_status = {status: [m for m in data["mutants"] if m["status"] == status]
                 for status in ("survived", "equivalent", "invalid", "killed")}
    lines += _section(f"Surviving mutants ({len(by_status['survived'])}): no expectation notices them",
                      by_status["survived"], _survivor)
    lines += _section(f"Equivalent mutants ({len(by_status['equivalent'])}): no decision of the access matrix"
                      " changes; not counted", by_status["equivalent"], lambda m: [])
    lines += _section(f"Invalid mutants ({len(by_status['invalid'])}): refused by the loader or apply, as AWS"
                      " would refuse them; not counted", by_status["invalid"], lambda m: [f"    {_short(m['problem'])}"])
    lines += _section(f"Killed mutants ({len(by_status['killed'])})", by_status["killed"], _killed)
    if not data["passed"]:
        lines += ["", f"score {data['score']:.2f} is below --min-score {data['min_score']}"]
    return "\n".join(lines) + "\n"


def _disagreements(found: list[dict[str, Any]]) -> list[str]:
    if not found:
        return []
    lines = ["", "Note: the engine already disagrees with these expectations (a model gap, or a wrong expect);"
             " mutants are compared with the engine's verdicts:"]
    return lines + [f"  {d['state']} #{d['index'] + 1}: {d['as']} {d['action']} {d['resource']}: expects {d['expect']},"
                    f" the engine says {d['engine']}" for d in found]


def _section(title: str, mutants: list[dict[str, Any]], details: Any) -> list[str]:
    if not mutants:
        return []
    lines = ["", title]
    for mutant in mutants:
        lines.append(f"  {_heading(mutant)}")
        lines += details(mutant)
    return lines


def _heading(mutant: dict[str, Any]) -> str:
    where = f"{mutant['policy']}" + (f", patch of state {mutant['state']}" if mutant["state"] else "")
    name = mutant["statement"] or mutant["name"]
    detail = f" {mutant['detail']}" if mutant["detail"] else ""
    embedded = f" [embedded: {mutant['embedded']}]" if mutant["embedded"] else ""
    return f"{mutant['at']}: {name} ({where}): {mutant['operator']}{detail}{embedded}"


def _survivor(mutant: dict[str, Any]) -> list[str]:
    cells = mutant["changed_cells"]
    lines = [f"    changes {len(cells)} cell{'s' if len(cells) != 1 else ''} of the access matrix"]
    suggestion = mutant["suggestion"]
    if suggestion is None:
        return lines + ["    (no cell can be written as an expectation)"]
    if suggestion["section"] == "guarantees":
        lines = [f"    lets in principals nobody named: {suggestion['cell']}"]
    lines.append(f"    kill it with {suggestion['cell'] if suggestion['section'] == 'expectations' else 'a guarantee'};"
                 f" under `{suggestion['section']}:` of state {suggestion['state']}:")
    return lines + [textwrap.indent(suggestion["yaml"].rstrip("\n"), "      ")]


def _killed(mutant: dict[str, Any]) -> list[str]:
    kill = mutant["killed_by"]
    guarantee = mutant.get("killed_by_guarantee")
    if kill is None and guarantee is not None:
        return [f"    by {guarantee['state']} guarantee #{guarantee['index'] + 1} ({guarantee['guarantee']}):"
                f" violated, witness {guarantee['witness']}"]
    if kill is None:
        return ["    killed on the embedded backend"]
    return [f"    by {kill['state']} #{kill['index'] + 1} ({kill['as']} {kill['action']} {kill['resource']}):"
            f" {kill['before']} -> {kill['after']}"]


def _short(text: str | None, limit: int = 160) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
