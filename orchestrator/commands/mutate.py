"""`orchestrate mutate FILE [--min-score S] [--output text|json] [--embedded]`: mutation testing of a
scenario's expectations (orchestrator/analysis/mutate.py).

Each mutant (a statement deleted, its Effect flipped, its Principal, Action or Resource widened, a
condition dropped, a key disabled, a grant deleted) is decided by the engine offline; a mutant no
expectation notices is a survivor, reported where it stands in the file with an expectation that
would kill it. `--embedded` runs each mutant with apply on its own embedded backend instead.
Exit 0 when the score is at least --min-score, 1 below it, 2 for a bad file or option."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from orchestrator.commands.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, CommandError, finish, load

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_mutate, args)


def _mutate(args: argparse.Namespace) -> int:
    from orchestrator.analysis.mutate import mutation_report, report_json, run_embedded

    if not 0.0 <= args.min_score <= 1.0:
        raise CommandError(f"--min-score {args.min_score}: a score is between 0 and 1", EXIT_INVALID)
    loaded = load(args.file)
    report = mutation_report(loaded)
    if args.embedded:
        try:
            run_embedded(loaded, report)
        except ValueError as error:
            raise CommandError(str(error), EXIT_INVALID) from None
    names = [state.name for state in loaded.scenario.states]
    data = {"format_version": FORMAT_VERSION,
            **report_json(report, names, args.min_score, "embedded" if args.embedded else "engine")}
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.output == "json" else render_text(data))
    return EXIT_OK if data["passed"] else EXIT_FAILED


def render_text(data: dict[str, Any]) -> str:
    counts = data["counts"]
    lines = [f"{data['file']}: mutation score {data['score']:.2f} ({counts['killed']} of"
             f" {counts['killed'] + counts['survived']} mutants killed; {counts['equivalent']} equivalent,"
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
    lines.append(f"    kill it with {suggestion['cell']}; under `expectations:` of state {suggestion['state']}:")
    return lines + [textwrap.indent(suggestion["yaml"].rstrip("\n"), "      ")]


def _killed(mutant: dict[str, Any]) -> list[str]:
    kill = mutant["killed_by"]
    if kill is None:
        return ["    killed on the embedded backend"]
    return [f"    by {kill['state']} #{kill['index'] + 1} ({kill['as']} {kill['action']} {kill['resource']}):"
            f" {kill['before']} -> {kill['after']}"]


def _short(text: str | None, limit: int = 160) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
