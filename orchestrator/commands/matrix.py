"""`orchestrate matrix [PATH...] [--jobs N] [--shard I/N] [--junit FILE] [--output ...]`.

Scenarios run in isolation in up to N worker processes; results come back as plain data and are
aggregated: one JUnit testsuite per scenario, a Markdown summary, GitHub annotations.
Exit 3 if any scenario errored, else 1 if any expectation failed, else 0; 2 for invalid input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from orchestrator.commands.common import (EXIT_INVALID, CommandError, junit_problem, refuse_bad_names, refuse_profiles,
                                         shortened)
from orchestrator.loader import load_all
from orchestrator.matrix import aggregate
from orchestrator.matrix.shards import Shard, cost, parse_shard, split
from orchestrator.matrix.worker import Target, namespace, run_one
from orchestrator.report.progress import for_output

#: Hears of each scenario's outcome as its worker finishes (orchestrator.report.progress).
OnDone = Callable[[dict[str, Any]], None]


def run(args: argparse.Namespace) -> int:
    loaded, diagnostics = load_all(args.paths)
    if diagnostics:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
        return EXIT_INVALID
    try:
        index, total = parse_shard(args.shard) if args.shard else (1, 1)
    except ValueError as error:
        print(f"orchestrate matrix: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        refuse_profiles(args.target, args.profile_for, loaded)
        for scenario in loaded:
            _refuse_bad_names(args, scenario)
    except CommandError as error:
        print(f"orchestrate matrix: {error}", file=sys.stderr)
        return error.code
    if args.junit and (unwritable := junit_problem(args)) is not None:  # before anything runs
        return unwritable
    costs = {str(scenario.path): cost(scenario) for scenario in loaded}
    if args.list:
        return _list(split(costs, args.shards or total), args.output)
    files = split(costs, total)[index - 1].files
    label = f"{index}/{total}" if args.shard else None
    with for_output(len(files), args.output, getattr(args, "quiet", False)) as meter:
        outcomes = execute(list(files), _target(args), args.jobs or os.cpu_count() or 1, meter.scenario_done)
    return _report(outcomes, args, label)


def _refuse_bad_names(args: argparse.Namespace, loaded: Any) -> None:
    """The run id each scenario gets where the world is shared (worker.namespace), checked before
    anything runs; on the embedded backend, where each scenario has a world of its own and no
    run id, only a --run-id given."""
    shared = args.target == "aws" or bool(args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    if not (shared or args.run_id):
        return
    run_id = namespace(args.run_id, loaded.scenario.name)
    label = (f"--run-id {shortened(args.run_id)} (as {shortened(run_id)} for this scenario)" if args.run_id
             else f"the run id {run_id!r} matrix gives it")
    refuse_bad_names(loaded, run_id, label)


def _target(args: argparse.Namespace) -> Target:
    return Target(args.target, args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"), args.profile, args.account, args.run_id,
                  args.timeout, tuple(sorted(args.profile_for.items())), getattr(args, "mutate", False))


def execute(files: list[str], target: Target, jobs: int, on_done: OnDone | None = None) -> list[dict[str, Any]]:
    """Run every file; on_done hears of each outcome as it finishes (in the order workers finish),
    the results come back in the order of files, so that the aggregate does not depend on timing."""
    results: dict[str, dict[str, Any]] = {}
    if jobs <= 1 or len(files) <= 1:
        for file in files:
            results[file] = _announce(run_one(file, target), on_done)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
            futures = {pool.submit(run_one, file, target): file for file in files}
            for future in as_completed(futures):
                results[futures[future]] = _announce(future.result(), on_done)
    return [results[file] for file in files]


def _announce(outcome: dict[str, Any], on_done: OnDone | None) -> dict[str, Any]:
    if on_done:
        on_done(outcome)
    return outcome


def _list(shards: list[Shard], output: str) -> int:
    if output in ("github", "json"):
        print(json.dumps({"include": [{"shard": s.label, "scenarios": list(s.files), "cost": s.cost} for s in shards]}))
    else:
        for shard in shards:
            print(f"shard {shard.label} (cost {shard.cost}): {' '.join(shard.files)}")
    return 0


def _report(outcomes: list[dict[str, Any]], args: argparse.Namespace, label: str | None) -> int:
    if args.output == "json":
        print(aggregate.as_json(outcomes, label))
    elif args.output == "markdown":
        print(aggregate.markdown(outcomes, label), end="")
    elif args.output == "github":
        annotations = aggregate.github_annotations(outcomes)
        if annotations:
            print(annotations)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as stream:
                stream.write(aggregate.markdown(outcomes, label))
        else:
            print(aggregate.markdown(outcomes, label), end="")
    else:
        _text(outcomes)
    if args.junit and (unwritable := junit_problem(args, outcomes)) is not None:  # after the report: it keeps the verdicts
        return unwritable
    return aggregate.exit_code(outcomes)


def _text(outcomes: list[dict[str, Any]]) -> None:
    for outcome in outcomes:
        passed, failed = aggregate.counts(outcome)
        detail = outcome["error"] or f"{passed} passed, {failed} failed"
        if "mutation" in outcome:
            detail += f", mutation score {aggregate.mutation_words(outcome)}"
        print(f"{aggregate.status(outcome):>6}  {outcome['name']}: {detail} ({outcome['seconds']:.1f} s)")
    totals = [aggregate.counts(o) for o in outcomes]
    errored = sum(1 for o in outcomes if o["error"])
    print(f"{len(outcomes)} scenarios: {sum(p for p, _ in totals)} passed, {sum(f for _, f in totals)} failed, {errored} errored")
