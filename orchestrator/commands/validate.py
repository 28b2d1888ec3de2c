"""`orchestrate validate PATH...`: exit 0 when every scenario is valid, 2 otherwise."""

from __future__ import annotations

import argparse
import json
import sys

from orchestrator.exit_codes import ExitCode
from orchestrator.loader import Diagnostic, LoadedScenario, load_all
from orchestrator.report.words import counted

FORMAT_VERSION = "1"  # the envelope every command's JSON shares (see report/run_json.py)


def run(args: argparse.Namespace) -> int:
    loaded, diagnostics = load_all(args.paths)
    if args.output == "json":
        print(json.dumps(as_json(loaded, diagnostics), indent=2))
    else:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
        for scenario in loaded:
            print(f"{scenario.path}: valid ({counted(len(scenario.scenario.states), 'state')}, {counted(_count(scenario), 'expectation')})")
    return ExitCode.INVALID if diagnostics else ExitCode.OK


def _count(scenario: LoadedScenario) -> int:
    return sum(len(state.expectations) for state in scenario.scenario.states)


def as_json(loaded: list[LoadedScenario], diagnostics: list[Diagnostic]) -> dict[str, object]:
    return {
        "format_version": FORMAT_VERSION,
        "valid": not diagnostics,
        "scenarios": [{"file": str(s.path), "name": s.scenario.name, "states": len(s.scenario.states)} for s in loaded],
        "errors": [diagnostic.as_json() for diagnostic in diagnostics],
    }
