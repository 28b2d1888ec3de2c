"""`orchestrate mutate FILE [--min-score S] [--output text|json] [--embedded] [--quiet]`: mutation
testing of a scenario's expectations (orchestrator/analysis/mutate.py).

Each mutant (a statement deleted, its Effect flipped, its Principal, Action or Resource widened, a
condition dropped, a key disabled, a grant deleted) is decided by the engine offline; a mutant no
expectation notices is a survivor, reported where it stands in the file with an expectation that
would kill it. `--embedded` runs each mutant with apply on its own embedded backend instead.
Progress goes to stderr as mutants are decided (a line per ten, per one with --embedded), unless --quiet.
Exit 0 when the score is at least --min-score, 1 below it, 2 for a bad file or option."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command module stays light to import
    from orchestrator.analysis.mutate import MutantResult
    from orchestrator.report.progress import Progress

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
    quiet = bool(getattr(args, "quiet", False))
    with Meter("mutants decided", quiet, 10) as meter:
        report = mutation_report(loaded, meter)
    if args.embedded:
        try:
            with Meter("mutants run on the embedded backend", quiet, 1) as meter:
                run_embedded(loaded, report, meter)
        except ValueError as error:
            raise CommandError(str(error), ExitCode.INVALID) from None
    names = [state.name for state in loaded.scenario.states]
    data = {"format_version": FORMAT_VERSION,
            **report_json(report, names, args.min_score, "embedded" if args.embedded else "engine")}
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.output == "json" else render_text(data))
    return ExitCode.OK if data["passed"] else ExitCode.FAILED


class Meter:
    """Progress over mutants: counts each status so far; made when the number of mutants is known."""

    def __init__(self, what: str, quiet: bool, every: int) -> None:
        self.what, self.quiet, self.every = what, quiet, every
        self.counts: Counter[str] = Counter()
        self.started = time.perf_counter()
        self.progress: Progress | None = None

    def __call__(self, result: MutantResult, total: int) -> None:
        from orchestrator.report.progress import for_mutants

        if self.progress is None:
            self.progress = for_mutants(total, self.quiet, self.every)
        self.counts[result.embedded or result.status] += 1
        ordered = {status: self.counts[status] for status in ("killed", "survived", "equivalent", "invalid", "error")}
        self.progress.mutants_done(ordered, time.perf_counter() - self.started, self.what)

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.finish()
