"""`orchestrate apply FILE [--state NAME]` and `orchestrate run FILE` (apply, then destroy).

Exit codes: 0 every expectation met; 1 an expectation failed; 2 invalid input; 3 infrastructure
error (endpoint unreachable, a reconcile failed, an endpoint that enforces no IAM). `--junit FILE` is checked before anything is
made; written after the report is printed, a write that fails even so (a full disk) says so and
makes the exit 2, since 0 or 1 would claim the JUnit report a CI reads is there."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from orchestrator.commands.common import CommandError, finish, leftover, load, output, session
from orchestrator.commands.signals import leave_word
from orchestrator.exit_codes import ExitCode
from orchestrator.report.output import Output, OutputError
from orchestrator.report.style import stdout_style

if TYPE_CHECKING:  # the command module stays light to import
    from orchestrator.loader import LoadedScenario
    from orchestrator.prove.runner import RunResult
    from orchestrator.resources.context import RunContext


def run(args: argparse.Namespace) -> int:
    return finish(_apply, args)


def _apply(args: argparse.Namespace) -> int:
    from orchestrator.prove.runner import run_states
    from orchestrator.report.progress import for_output

    junit = output(args, args.junit, "the JUnit report") if args.junit else None
    if junit is not None:
        junit.check()  # refused now, not after a run of minutes
    loaded = load(args.file)
    last = loaded.state_index(args.state) if args.state else len(loaded.scenario.states) - 1
    progress = _progress(args)
    result = None
    unwritten = None
    with session(args, loaded, lock=True) as ctx:
        _eventually_consistent(args, ctx)
        _enforcement_check(args, ctx)
        try:
            with for_output(last + 1, args.output, getattr(args, "quiet", False)) as meter:
                result = run_states(ctx, loaded, last, progress, meter.state_done, getattr(args, "parallel", None),
                                    _organization_listing(ctx))
            unwritten = _report(args, result, junit)  # before run's destroy, which may fail in its turn
        except BaseException as error:
            if getattr(args, "destroy_after", False):
                _destroy_after(ctx, loaded, result)
                leave_word(error, leftover(args, ctx.backend, cleaned=True).words())  # a stop: run cleaned up
            raise
        else:
            if getattr(args, "destroy_after", False):
                _destroy_after(ctx, loaded, result)
    if result.error:  # the report above keeps the verdicts of the states before the failure
        print(result.error, file=sys.stderr)
    if unwritten is not None:
        print(f"{unwritten} (the verdicts are in the report above)", file=sys.stderr)
        return ExitCode.INVALID
    if result.error:
        return result.error.exit_code
    return ExitCode.OK if result.passed else ExitCode.FAILED


def _organization_listing(ctx: RunContext) -> Any:
    """With --manage-organization on real AWS: once preflight passes, the organization changes
    apply is about to make and the accounts each reaches, on stderr (stdout keeps the report)."""
    if ctx.backend.kind != "aws" or not ctx.manage_organization:
        return None

    def announce(states: list[Any]) -> None:
        from orchestrator.reconcile.organization_reach import apply_reach
        from orchestrator.report.organization_reach import render_reach

        print(render_reach(str(ctx.backend.world), apply_reach(ctx, states)), file=sys.stderr, flush=True)
    return announce


def _eventually_consistent(args: argparse.Namespace, ctx: RunContext) -> None:
    """--eventually-consistent: an endpoint's outcomes settle as real AWS's do (nothing is applied yet)."""
    if not getattr(args, "eventually_consistent", False):
        return
    if ctx.backend.kind == "embedded":
        raise CommandError("--eventually-consistent applies to an endpoint (--endpoint-url): the embedded backend"
                           " answers every change at once", ExitCode.INVALID)
    ctx.backend.eventually_consistent = True


def _enforcement_check(args: argparse.Namespace, ctx: RunContext) -> None:
    """An endpoint that enforces no IAM (plain moto, LocalStack by default) is refused before
    anything is applied (backends/endpoint.py enforcement_problem); not asked of the embedded
    backend (the gate is ours) nor of real AWS; `--no-enforcement-check` skips it."""
    from orchestrator.backends.endpoint import EndpointBackend, enforcement_problem

    if getattr(args, "no_enforcement_check", False) or not isinstance(ctx.backend, EndpointBackend):
        return
    problem = enforcement_problem(ctx.backend)
    if problem is not None:
        raise CommandError(problem, ExitCode.INFRA)


def _destroy_after(ctx: RunContext, loaded: LoadedScenario, result: RunResult | None) -> None:
    """run's destroy; when it fails too, the apply's own error is said first, not hidden by it."""
    from orchestrator.commands.common import announce_destroy
    from orchestrator.reconcile.apply import destroy

    try:
        announce_destroy(ctx, loaded.desired[-1])
        destroy(ctx, loaded.desired[-1])
    except BaseException:
        if result is not None and result.error:
            print(result.error, file=sys.stderr)
        raise


def _progress(args: argparse.Namespace) -> object:
    """Progress lines on stderr for long real-AWS runs on a terminal."""
    if args.target != "aws" or getattr(args, "quiet", False) or not sys.stderr.isatty():
        return None
    return lambda line: print(f"... {line}", file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, result: object, junit: Output | None) -> OutputError | None:
    """Print the report, then write the JUnit file; the error that kept it from being written, if any."""
    from orchestrator.report.junit import suite_element, write_junit
    from orchestrator.report.run_json import run_json
    from orchestrator.report.run_text import render_run

    report = run_json(result)
    if args.output == "json":
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
    else:
        print(render_run(result, stdout_style(args.no_color)))
    sys.stdout.flush()
    if junit is None:
        return None
    try:
        write_junit(junit, [suite_element(report, report["scenario"], error=report["error"])])
    except OutputError as error:
        return error
    return None
