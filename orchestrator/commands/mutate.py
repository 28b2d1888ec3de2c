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

from orchestrator.commands.common import CommandError, finish, load
from orchestrator.exit_codes import ExitCode

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_mutate, args)


def _mutate(args: argparse.Namespace) -> int:
    from orchestrator.analysis.mutate import mutation_report, run_embedded
    from orchestrator.report.mutate_json import report_json
    from orchestrator.report.mutate_text import render_text

    if not 0.0 <= args.min_score <= 1.0:
        raise CommandError(f"--min-score {args.min_score}: a score is between 0 and 1", ExitCode.INVALID)
    loaded = load(args.file)
    report = mutation_report(loaded)
    if args.embedded:
        try:
            run_embedded(loaded, report)
        except ValueError as error:
            raise CommandError(str(error), ExitCode.INVALID) from None
    names = [state.name for state in loaded.scenario.states]
    data = {"format_version": FORMAT_VERSION,
            **report_json(report, names, args.min_score, "embedded" if args.embedded else "engine")}
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.output == "json" else render_text(data))
    return ExitCode.OK if data["passed"] else ExitCode.FAILED
