"""One scenario in isolation: its own embedded backend (or its own run-id namespace on a shared
endpoint or real AWS), apply with expectations, destroy where the world outlives the run.
Returns plain data so that it can cross a process boundary."""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    target: str = "embedded"
    endpoint_url: str | None = None
    profile: str | None = None
    account: str | None = None
    run_id: str | None = None
    timeout: float | None = None  # --timeout: each call's wait for an answer
    #: --profile-for (real AWS): (account NAME, AWS profile) pairs, for every scenario that declares NAME
    profiles_for: tuple[tuple[str, str], ...] = ()
    mutate: bool = False  # --mutate: add the scenario's mutation score (the engine's, offline)


def namespace(base: str | None, scenario: str) -> str:
    """A run id per scenario, so that scenarios sharing an endpoint never share a name."""
    return f"{base or 'mx'}-{hashlib.sha1(scenario.encode()).hexdigest()[:6]}"


def run_in_worker(file: str, target: Target) -> dict[str, Any]:
    """run_one in a worker process: SIGTERM and SIGINT raise during the scenario (its cleanup
    runs), and are handled by the lifeline between scenarios (lifeline.py)."""
    from orchestrator.commands.signals import raising_on_stop

    with raising_on_stop():
        outcome = run_one(file, target)
    if "left" in outcome and _orphaned():  # no parent to say it: the worker says what it left
        print(f"orchestrate matrix: the matrix process is gone; {file} ({outcome['name']}): {outcome['left']}",
              file=sys.stderr, flush=True)
    return outcome


def _orphaned() -> bool:
    """This worker's parent has died (it was re-parented: getppid(2))."""
    import multiprocessing
    import os

    parent = multiprocessing.parent_process()
    return parent is not None and os.getppid() != parent.pid


def run_one(file: str, target: Target) -> dict[str, Any]:
    """One scenario; a stop (SIGTERM, SIGINT) ends it after its cleanup, its outcome saying what
    was left (`stopped`, `left`). On a shared world it holds the one-writer lock of its scenario
    and run, as `apply` does (backends/lock.py)."""
    from orchestrator.backends.lock import world_lock
    from orchestrator.loader import load_scenario
    from orchestrator.session import backend_session

    started = time.perf_counter()
    loaded = load_scenario(file)
    name = loaded.scenario.name
    shared = target.target == "aws" or target.endpoint_url is not None
    run_id = namespace(target.run_id, name) if shared else None
    cleaned = False
    try:
        with backend_session(loaded, _choice(target, loaded.scenario.accounts), run_id=run_id) as ctx:
            try:
                with world_lock(ctx.backend.world if shared else None, name, run_id or "default"):
                    result, cleaned = _run_and_clean(ctx, loaded, run_id)
            except BaseException as error:  # before the backend is closed: what it left is read from it
                return _failed(error, file, name, started, target, ctx.backend, run_id, cleaned)
    except BaseException as error:  # one scenario's failure must not stop the others; a stop is said so
        return _failed(error, file, name, started, target, None, run_id, cleaned)
    error = None if result.error is None else str(result.error)  # the outcome crosses processes as plain data
    outcome = {"file": file, "name": name, "report": _report(result), "error": error, "seconds": time.perf_counter() - started}
    return {**outcome, "mutation": mutation_summary(loaded)} if target.mutate else outcome


def _choice(target: Target, accounts: dict[str, str]) -> Any:
    """The backend of the target; --profile-for's pairs for the scenario's own accounts."""
    from orchestrator.session import BackendChoice

    return BackendChoice(target.target, target.endpoint_url, target.profile, None, target.account, target.timeout,
                         {name: profile for name, profile in target.profiles_for if name in accounts})


def _run_and_clean(ctx: Any, loaded: Any, run_id: str | None) -> tuple[Any, bool]:
    """Apply every state with its expectations; on a shared world destroy afterwards, also when
    the run failed or was stopped. True once that destroy has finished."""
    from orchestrator.prove.runner import run_states
    from orchestrator.reconcile.apply import destroy

    try:
        result = run_states(ctx, loaded, len(loaded.scenario.states) - 1)
    except BaseException as error:
        if run_id is not None:
            destroy(ctx, loaded.desired[-1])
            error.add_note(CLEANED)  # a stop passing on: its cleanup finished
        raise
    if run_id is not None:
        destroy(ctx, loaded.desired[-1])
    return result, run_id is not None


#: The note a failure carries once the scenario's destroy finished after it (run_one reads it).
CLEANED = "orchestrate matrix: the scenario's destroy finished"


def _failed(error: BaseException, file: str, name: str, started: float, target: Target, backend: Any,
            run_id: str | None, cleaned: bool) -> dict[str, Any]:
    """An errored outcome; for a stop, what it left (`stopped`, `left`). Anything else re-raised."""
    from orchestrator.backends.failures import describe_aws_error
    from orchestrator.commands.signals import stopped_by

    stop = stopped_by(error)
    seconds = time.perf_counter() - started
    if stop is None:
        if not isinstance(error, Exception):
            raise error
        return {"file": file, "name": name, "report": None, "error": describe_aws_error(error), "seconds": seconds}
    cleaned = cleaned or CLEANED in getattr(error, "__notes__", ())
    left = leftover(file, target, backend, run_id, cleaned).words()
    signame = "SIGINT" if isinstance(stop, KeyboardInterrupt) else str(stop)
    return {"file": file, "name": name, "report": None, "error": f"stopped by {signame}: {left}", "seconds": seconds,
            "stopped": signame, "left": left}


def leftover(file: str, target: Target, backend: Any, run_id: str | None, cleaned: bool) -> Any:
    """What one scenario left: its world (None: its own embedded one), whether it changed it, and
    the options of the `orchestrate destroy` that finds it."""
    from orchestrator.report.leftovers import Leftover, Where

    where = Where(target.target, getattr(backend, "endpoint_url", None) or target.endpoint_url, target.profile,
                  target.profiles_for, None, target.account, run_id)
    changed = backend is not None and bool(backend.log.mutating())
    return Leftover("matrix", file, _world(backend, changed), changed, where, cleaned)


def _world(backend: Any, changed: bool) -> str | None:
    """The world's name; on AWS its account is known once anything was changed (asking for it
    otherwise would make a call while stopping)."""
    if backend is None or backend.kind == "embedded":
        return None
    return backend.world if changed or backend.kind != "aws" else "AWS"


def lost(file: str, target: Target) -> dict[str, Any]:
    """The outcome of a scenario whose worker died without one (killed): on a shared world it may
    have left what it made, under the run id its name gives."""
    from orchestrator.loader import load_scenario
    from orchestrator.report.leftovers import Leftover, Where

    name = load_scenario(file).scenario.name
    shared = target.target == "aws" or target.endpoint_url is not None
    run_id = namespace(target.run_id, name) if shared else None
    where = Where(target.target, target.endpoint_url, target.profile, target.profiles_for, None, target.account, run_id)
    world = (target.endpoint_url and f"the endpoint {target.endpoint_url.rstrip('/')}") or ("AWS" if shared else None)
    left = Leftover("matrix", file, world, True, where).words()
    return {"file": file, "name": name, "report": None, "error": f"its worker process died: {left}", "seconds": 0.0,
            "stopped": "SIGKILL", "left": left}


def _report(result: Any) -> dict[str, Any]:
    from orchestrator.report.run_json import run_json

    return run_json(result)


def mutation_summary(loaded: Any) -> dict[str, Any]:
    """The scenario's mutation score and counts (orchestrate mutate, decided by the engine)."""
    from orchestrator.analysis.mutate import counts, mutation_report

    report = mutation_report(loaded)
    return {"score": round(report.score, 4), **counts(report)}
