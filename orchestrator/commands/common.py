"""What the reconciling commands share: target options, loading, the backend session, errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator.backends.failures import describe_aws_error, is_aws_failure
from orchestrator.errors import BackendFailure, OrchestrateError
from orchestrator.exit_codes import ExitCode, invalid_input
from orchestrator.loader import LoadedScenario, ScenarioError, load_scenario
from orchestrator.report.output import Output, OutputError

__all__ = ["CommandError", "describe_aws_error", "finish", "load", "output", "session"]

class CommandError(OrchestrateError):
    """Ends a command with a message and an exit code (INVALID: the command's own code for
    invalid input, as `InvalidInputError`'s)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def exit_code(self, command: str = "") -> ExitCode:
        return invalid_input(command) if self.code == ExitCode.INVALID else ExitCode(self.code)


def output(args: argparse.Namespace, path: str, what: str) -> Output:
    """An output file of the command, with its link policy (`--follow-symlinks`)."""
    return Output(path, what, getattr(args, "follow_symlinks", False))


def junit_problem(args: argparse.Namespace, outcomes: list[dict[str, Any]] | None = None) -> int | None:
    """matrix's `--junit FILE`: checked (outcomes None) or written, one suite per scenario; on a
    path that cannot be written, the message printed and exit 2 (never a traceback, never 1)."""
    from orchestrator.report.junit import suite_element, write_junit

    target = output(args, args.junit, "the JUnit report")
    try:
        if outcomes is None:
            target.check()
        else:
            write_junit(target, [suite_element(o["report"], o["name"], o["seconds"], o["error"], o["file"]) for o in outcomes])
    except OutputError as error:
        print(f"orchestrate matrix: {error}", file=sys.stderr)
        return error.exit_code("matrix")
    return None


def refuse_bad_names(loaded: LoadedScenario, run_id: str | None, label: str | None = None) -> None:
    """The names `run_id` would make for the scenario's entities, checked against AWS's name rules
    (model/names.py) before the backend is opened: one message naming each rule broken, exit 2,
    nothing made, so that no apply stops half-way on a name and no destroy fails on it after."""
    from orchestrator.loader.diagnostics import format_path
    from orchestrator.model.names import name_problems

    problems = name_problems(loaded.scenario.name, loaded.desired, run_id) if run_id else []
    if not problems:
        return
    lines = [f"  {format_path(p.path) if p.path != ('--run-id',) else 'the run id'}:"
             f" {p.words()}" for p in problems]
    shown = lines[:10] + ([f"  and {len(lines) - 10} more"] if len(lines) > 10 else [])
    raise CommandError(f"{loaded.path}: {label or '--run-id ' + shortened(run_id)} would make names AWS refuses"
                       " (nothing was made):\n"
                       + "\n".join(shown), ExitCode.INVALID)


def shortened(text: str | None) -> str:
    return repr(text if text is None or len(text) <= 40 else f"{text[:30]}...({len(text)} characters)")


def load(path: str) -> LoadedScenario:
    try:
        return load_scenario(path)
    except ScenarioError as error:
        raise CommandError(str(error), ExitCode.INVALID) from None


@contextmanager
def session(args: argparse.Namespace, loaded: LoadedScenario, infra_code: int = ExitCode.INFRA,
            lock: bool = False) -> Iterator[Any]:
    """A RunContext on the chosen backend (orchestrator/session.py), closed afterwards; infrastructure
    failures become CommandError. With lock (the commands that change the world) no other
    orchestrate process may change the same scenario and run in the same world meanwhile
    (backends/lock.py)."""
    from orchestrator.backends.lock import world_lock
    from orchestrator.resources.context import DEFAULT_RUN
    from orchestrator.session import backend_session

    refuse_bad_names(loaded, args.run_id)
    _refuse_before_opening(args, loaded)
    try:
        with backend_session(loaded, _choice(args, loaded), run_id=args.run_id, adopt=args.adopt, identify=True,
                             manage_organization=getattr(args, "manage_organization", False)) as ctx:
            backend = ctx.backend
            try:
                with saying_what_is_left(args, backend), \
                        world_lock(backend.world if lock else None, loaded.scenario.name, args.run_id or DEFAULT_RUN):
                    yield ctx
            except BackendFailure as error:  # a conflict, a lockout, the backend
                raise CommandError(str(error), infra_code) from None
            except Exception as error:
                explained = backend.failure(error)
                if explained is not None:
                    raise CommandError(str(explained), infra_code) from None
                if is_aws_failure(error):
                    raise CommandError(describe_aws_error(error), infra_code) from None
                raise
    except BackendFailure as error:  # opening it: the endpoint or the credentials are wrong (one attempt)
        raise CommandError(str(error), infra_code) from None


@contextmanager
def saying_what_is_left(args: argparse.Namespace, backend: Any) -> Iterator[None]:
    """A stop (SIGTERM, SIGINT) that passes says what the command left in its world and how to
    clean it up (signals.leave_word; main prints it), read from the backend's log of calls."""
    from orchestrator.commands.signals import leave_word

    try:
        yield
    except BaseException as error:
        leave_word(error, leftover(args, backend).words())
        raise


def leftover(args: argparse.Namespace, backend: Any, cleaned: bool = False) -> Any:
    """The command's Leftover: its world (None: embedded), whether it changed it, the options
    that select the same world and run for `orchestrate destroy`."""
    from orchestrator.report.leftovers import Leftover, Where

    where = Where(args.target, getattr(backend, "endpoint_url", None), args.profile,
                  tuple(sorted((getattr(args, "profile_for", None) or {}).items())), args.region, args.account, args.run_id)
    command = "run" if getattr(args, "destroy_after", False) else args.command
    world = backend.world if backend.kind != "embedded" else None
    return Leftover(command, args.file, world, bool(backend.log.mutating()), where, cleaned)


def refuse_chosen_transport(loaded: LoadedScenario) -> None:
    """Real AWS takes aws:SourceIp and aws:SecureTransport from the connection (IAM User Guide,
    "AWS global condition context keys"): an expectation that chooses them cannot run there.
    Refused before the backend is opened, so nothing is called or applied. An expectation through
    a VPC endpoint is not refused: it is skipped with the reason, and the rest of the run proceeds
    (prove/runner.py `skip_reason`)."""
    for state_index, state in enumerate(loaded.scenario.states):
        for number, expectation in enumerate(state.expectations):
            chosen = [f for f in ("source_ip", "secure_transport") if getattr(expectation, f) is not None]
            if chosen:
                path = ("states", state_index, "expectations", number, chosen[0])
                mark = _mark(loaded, path)
                raise CommandError(f"{loaded.path}:{mark}: {' and '.join(chosen)} can be chosen only on the embedded"
                                   " backend and against `orchestrate serve`; on real AWS (--target aws) the"
                                   f" connection decides them (at states[{state_index}].expectations[{number}]."
                                   f"{chosen[0]})", ExitCode.INVALID)


def announce_destroy(ctx: Any, desired: Any) -> None:
    """--manage-organization on real AWS: the organization changes destroy makes, and the accounts
    each reaches, on stderr before it makes them (run's destroy too)."""
    if ctx.backend.kind != "aws" or not ctx.manage_organization:
        return
    from orchestrator.reconcile.organization_reach import destroy_reach
    from orchestrator.report.organization_reach import render_reach

    print(render_reach(str(ctx.backend.world), destroy_reach(ctx, desired)), file=sys.stderr, flush=True)


def used_accounts(loaded: LoadedScenario) -> set[str]:
    """The names of the scenario's other accounts that hold one of its entities in some state."""
    from orchestrator.loader.references import ACCOUNT_SECTIONS

    return {account for desired in loaded.desired for section in ACCOUNT_SECTIONS
            for name in getattr(desired, section) if (account := desired.account_of(section, name)) is not None}


def refuse_profiles(target: str, profiles: dict[str, str], scenarios: list[LoadedScenario]) -> None:
    """--profile-for gives each of the scenarios' other accounts its credentials on real AWS (one
    AWS profile each: AWS SDKs and Tools Reference Guide, "Shared config and credentials files").
    Refused before the backend is opened, so nothing is called or applied: on another target; for
    an account no scenario declares; missing for an account that holds entities."""
    if target != "aws":
        if profiles:
            raise CommandError("--profile-for applies to --target aws (embedded moto and endpoints serve every"
                               " account of a scenario with the orchestrator's own credentials)", ExitCode.INVALID)
        return
    declared = {name for loaded in scenarios for name in loaded.scenario.accounts}
    for name in profiles:
        if name == "home":
            raise CommandError("--profile-for home: the scenario's own account takes the credentials of --profile"
                               " (or the default credential chain)", ExitCode.INVALID)
        if name not in declared:
            raise CommandError(f"--profile-for {name}: the scenario declares no account {name!r} under `accounts:`"
                               f" (declared: {', '.join(sorted(declared)) or 'none'})", ExitCode.INVALID)
    for loaded in scenarios:
        missing = sorted(used_accounts(loaded) - set(profiles))
        if missing:
            named = ", ".join(f"{name!r} ({loaded.scenario.accounts[name]})" for name in missing)
            options = " ".join(f"--profile-for {name}=PROFILE" for name in missing)
            raise CommandError(f"{loaded.path}: on real AWS each other account needs its own credentials, and the"
                               f" scenario has entities in its account {named}: pass {options}", ExitCode.INVALID)


def _mark(loaded: LoadedScenario, path: tuple[Any, ...]) -> str:
    """``line:col`` of ``path`` in the scenario file (1:1 if it cannot be read again)."""
    from orchestrator.loader.source import read_yaml

    try:
        mark = read_yaml(loaded.path)[1].locate(path, at_key=True)
    except Exception:  # the file changed since it was loaded: the path still names the field
        return "1:1"
    return f"{mark.line}:{mark.col}"


def _refuse_before_opening(args: argparse.Namespace, loaded: LoadedScenario) -> None:
    """What the options make impossible, refused before the backend is opened."""
    # destroy and drift run no expectation, so they stay possible for any scenario
    if args.target == "aws" and getattr(args, "command", "apply") not in ("destroy", "drift"):
        refuse_chosen_transport(loaded)
    refuse_profiles(args.target, getattr(args, "profile_for", None) or {}, [loaded])
    if getattr(args, "manage_organization", False) and args.target != "aws":
        raise CommandError("--manage-organization applies to --target aws (on the embedded backend and against"
                           " `orchestrate serve` orchestrate reconciles the whole organization a scenario declares)",
                           ExitCode.INVALID)


def _choice(args: argparse.Namespace, loaded: LoadedScenario) -> Any:
    from orchestrator.session import BackendChoice

    return BackendChoice(args.target, args.endpoint_url, args.profile, args.region, args.account,
                         getattr(args, "timeout", None), getattr(args, "profile_for", None) or {})


def finish(run: Any, args: argparse.Namespace) -> int:
    """Run a command body, printing an orchestrate error as one message with the exit code it
    asks for. Invalid input is the command's own code for it (plan and drift: 1, as Terraform's;
    exit_codes.py)."""
    try:
        return int(run(args))
    except OrchestrateError as error:
        print(str(error), file=sys.stderr)
        return error.exit_code(getattr(args, "command", ""))
