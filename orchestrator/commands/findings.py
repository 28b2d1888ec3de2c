"""`orchestrate findings FILE [--state NAME] [--output text|json|sarif] [-o PATH] [--exit-zero]`:
external-access findings per policy state (orchestrator/analysis/findings.py), decided over every
principal by the symbolic engine, and the new access each state grants over the one before it.

From the desired state: no AWS call, no backend. Exit 0 when no finding (nothing reachable from
outside the account, the organization or by the public, and nothing undecided), 1 when there is
one, as a linter does, so that CI fails on it; `--exit-zero` reports and exits 0 (a workflow
that uploads the SARIF and lets code scanning gate). 2 for a bad file, an unknown state or an
unwritable output path, the file and line named."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from orchestrator.commands.common import finish, load, output
from orchestrator.exit_codes import ExitCode

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_findings, args)


def _findings(args: argparse.Namespace) -> int:
    from orchestrator.analysis.finding_sites import FindingSites
    from orchestrator.report.findings_json import findings_json

    if args.output_path not in (None, "-"):
        output(args, args.output_path, "the findings").check()  # before anything is decided
    loaded = load(args.file)
    report = _report(loaded, shown_path(args.file), args.state)
    data = {"format_version": FORMAT_VERSION, **findings_json(report, FindingSites(loaded.data, loaded.positions).locate)}
    _emit(args, _rendered(data, args.output))
    return ExitCode.FAILED if report.open and not args.exit_zero else ExitCode.OK


def _report(loaded: Any, file: str, state: str | None) -> Any:
    from orchestrator.analysis.finding_targets import targets_of
    from orchestrator.analysis.findings import findings_report, state_findings
    from orchestrator.analysis.offline import offline_context

    scenario = loaded.scenario
    ctx = offline_context(scenario.name, loaded.desired, scenario.region)

    def decided(index: int) -> Any:
        return state_findings(index, scenario.states[index].name, targets_of(ctx, index, loaded.desired[index]))

    if state is None:
        return findings_report(scenario.name, file, [decided(i) for i in range(len(scenario.states))])
    index = loaded.state_index(state)
    return findings_report(scenario.name, file, [decided(index)], decided(index - 1) if index > 0 else None)


def shown_path(path: str) -> str:
    """The scenario's path as reports name it: relative to the working directory when it is below
    it (code scanning resolves a SARIF `artifactLocation.uri` from the repository root, where CI
    runs), with forward slashes; else as given."""
    relative = os.path.relpath(os.path.abspath(path))
    return Path(relative).as_posix() if not relative.startswith("..") else path


def _rendered(data: dict[str, Any], form: str) -> str:
    if form == "json":
        return json.dumps(data, indent=2) + "\n"
    if form == "sarif":
        from orchestrator.cli import _version
        from orchestrator.report.sarif import render_sarif

        return json.dumps(render_sarif(data, _version()), indent=2) + "\n"
    from orchestrator.report.findings_text import render_text

    return render_text(data)


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output_path in (None, "-"):
        sys.stdout.write(text)
        return
    output(args, args.output_path, "the findings").write(lambda stream: stream.write(text))
