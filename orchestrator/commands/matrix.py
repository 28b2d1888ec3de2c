"""`orchestrate matrix [PATH...] [--jobs N] [--shard I/N] [--junit FILE] [--output ...]`.

Scenarios run in isolation in up to N worker processes; results come back as plain data and are
aggregated: one JUnit testsuite per scenario, a Markdown summary, GitHub annotations.
Exit 3 if any scenario errored, else 1 if any expectation failed, else 0; 2 for invalid input.

Two files with one scenario `name:` are refused before anything runs (exit 2, both files named):
on a shared endpoint or account a scenario's physical names, ownership tags and lock come from its
name and run id, so the two would change one namespace at once; and every report keys a scenario
by its name (a JUnit testsuite, a Markdown row, a GitHub annotation's title). Giving each file a
namespace of its own would need a run id from its path, which differs between checkouts, so a
later `orchestrate destroy --run-id` could not be told it. A stopped matrix (SIGTERM, SIGINT) stops
its workers' scenarios as a SIGTERM would, waits for their cleanup, and says per unfinished
scenario what it left and the `orchestrate destroy` that removes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import Pipe
from typing import Any

from orchestrator.commands.common import (CommandError, junit_problem, refuse_bad_names, refuse_profiles,
                                         shortened)
from orchestrator.commands.signals import stop_named, leave_word, stopped_by
from orchestrator.exit_codes import ExitCode
from orchestrator.loader import LoadedScenario, load_all
from orchestrator.matrix import aggregate
from orchestrator.matrix.lifeline import stop_workers, worker_started
from orchestrator.matrix.shards import Shard, cost, parse_shard, split
from orchestrator.matrix.worker import Target, namespace, run_in_worker, run_one
from orchestrator.report.progress import for_output
from orchestrator.report.tally import total, words
from orchestrator.report.words import counted

#: Hears of each scenario's outcome as its worker finishes (orchestrator.report.progress).
OnDone = Callable[[dict[str, Any]], None]


def run(args: argparse.Namespace) -> int:
    loaded, diagnostics = load_all(args.paths)
    if diagnostics:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
        return ExitCode.INVALID
    try:
        index, total = parse_shard(args.shard) if args.shard else (1, 1)
    except ValueError as error:
        print(f"orchestrate matrix: {error}", file=sys.stderr)
        return ExitCode.INVALID
    try:
        refuse_profiles(args.target, args.profile_for, loaded)
        for scenario in loaded:
            _refuse_bad_names(args, scenario)
        refuse_shared_names(loaded)
    except CommandError as error:
        print(f"orchestrate matrix: {error}", file=sys.stderr)
        return error.exit_code("matrix")
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


def refuse_shared_names(loaded: list[LoadedScenario]) -> None:
    """Two files, one scenario name: refused, both files named (the module's docstring says why)."""
    first: dict[str, str] = {}
    for scenario in loaded:
        name, path = scenario.scenario.name, str(scenario.path)
        if name in first and first[name] != path:
            raise CommandError(f"{first[name]} and {path} are both scenario {name!r}: a matrix runs each scenario"
                               " once, under its name (on a shared endpoint or account its resources' names, tags"
                               " and lock); give one of them another `name:`", ExitCode.INVALID)
        first.setdefault(name, path)


def execute(files: list[str], target: Target, jobs: int, on_done: OnDone | None = None) -> list[dict[str, Any]]:
    """Run every file; on_done hears of each outcome as it finishes (in the order workers finish),
    the results come back in the order of files, so that the aggregate does not depend on timing.
    A stop raises on, after the scenarios under way have cleaned up, with what each left said."""
    results: dict[str, dict[str, Any]] = {}
    if jobs <= 1 or len(files) <= 1:
        _in_process(files, target, results, on_done)
    else:
        _in_workers(files, target, min(jobs, len(files)), results, on_done)
    return [results[file] for file in files]


def _in_process(files: list[str], target: Target, results: dict[str, dict[str, Any]], on_done: OnDone | None) -> None:
    for file in files:
        results[file] = _announce(run_one(file, target), on_done)
        if "stopped" in results[file]:  # run_one cleaned up and said what it left: the matrix stops too
            stop = stop_named(results[file]["stopped"])
            leave_word(stop, unfinished(files, results))
            raise stop


def _in_workers(files: list[str], target: Target, jobs: int, results: dict[str, dict[str, Any]],
                on_done: OnDone | None) -> None:
    """Up to `jobs` scenarios at once, each submitted only when a worker is free: none waits in
    the pool's queue, so a stopped matrix starts nothing new. The workers hold the lifeline's
    read end: they stop with the matrix, and die with it (orchestrator/matrix/lifeline.py)."""
    reader, writer = Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=worker_started, initargs=(reader, writer)) as pool:
            running: dict[Future[dict[str, Any]], str] = {}
            try:
                _schedule(pool, list(files), target, jobs, running, results, on_done)
            except BaseException as error:
                if stopped_by(error) is None:
                    raise
                stop_workers(writer, jobs)
                for future, file in running.items():
                    results[file] = _announce(_outcome(future, file, target), on_done)
                leave_word(error, unfinished(files, results))
                raise
    finally:
        writer.close()  # after the pool's shutdown: its workers have exited, and take this as their parent's end
        reader.close()


def _schedule(pool: ProcessPoolExecutor, pending: list[str], target: Target, jobs: int,
              running: dict[Future[dict[str, Any]], str], results: dict[str, dict[str, Any]], on_done: OnDone | None) -> None:
    while pending or running:
        while pending and len(running) < jobs:
            file = pending.pop(0)
            running[pool.submit(run_in_worker, file, target)] = file
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            file = running.pop(future)
            results[file] = _announce(_outcome(future, file, target), on_done)


def _outcome(future: Future[dict[str, Any]], file: str, target: Target) -> dict[str, Any]:
    """The worker's outcome; a worker that died without one (killed) is an errored scenario that
    may have left what it made."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        from orchestrator.matrix.worker import lost

        return lost(file, target)


def unfinished(files: list[str], results: dict[str, dict[str, Any]]) -> str:
    """Per scenario that did not finish, what it left: a stopped one's own words; one never
    started made nothing."""
    lines = [f"  {file} ({results[file]['name']}): {results[file]['left']}" for file in files
             if file in results and "left" in results[file]]
    lines += [f"  {file}: not started, nothing made" for file in files if file not in results]
    finished = sum(1 for file in files if file in results and "left" not in results[file])
    head = f"matrix stopped with {finished} of {counted(len(files), 'scenario')} finished"
    return "\n".join([head + (":" if lines else "; nothing was left unfinished"), *lines])


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
    """A line per scenario, then the totals: the JUnit file's tests, failures and errors, in the
    progress lines' words (a scenario that could not run to its end is one errored)."""
    for outcome in outcomes:
        detail = outcome["error"] or words(aggregate.counts(outcome), always=True)
        if "mutation" in outcome:
            detail += f", mutation score {aggregate.mutation_words(outcome)}"
        print(f"{aggregate.status(outcome):>6}  {outcome['name']}: {detail} ({outcome['seconds']:.1f} s)")
    print(f"{counted(len(outcomes), 'scenario')}: {words(total(aggregate.counts(o) for o in outcomes), always=True)}")
