"""One scenario in isolation: its own embedded backend (or its own run-id namespace on a shared
endpoint or real AWS), apply with expectations, destroy where the world outlives the run.
Returns plain data so that it can cross a process boundary."""

from __future__ import annotations

import hashlib
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


def run_one(file: str, target: Target) -> dict[str, Any]:
    from orchestrator.reconcile.apply import destroy
    from orchestrator.backends import open_backend
    from orchestrator.backends.failures import describe_aws_error
    from orchestrator.loader import load_scenario
    from orchestrator.report.run_json import run_json
    from orchestrator.resources.context import Context
    from orchestrator.prove.runner import run_states

    started = time.perf_counter()
    loaded = load_scenario(file)
    name = loaded.scenario.name
    shared = target.target == "aws" or target.endpoint_url is not None
    try:
        accounts = loaded.scenario.accounts
        backend = open_backend(loaded.scenario.region, target.target, target.endpoint_url, target.profile,
                               target.account or loaded.scenario.account, target.timeout,
                               {name: profile for name, profile in target.profiles_for if name in accounts}, accounts)
        ctx = Context(backend, name, run_id=namespace(target.run_id, name) if shared else None)
        ctx.declare(loaded.desired)
        try:
            result = run_states(ctx, loaded, len(loaded.scenario.states) - 1)
        finally:
            if shared:
                destroy(ctx, loaded.desired[-1])
            backend.close()
    except Exception as error:  # one scenario's infrastructure failure must not stop the others
        return {"file": file, "name": name, "report": None, "error": describe_aws_error(error), "seconds": time.perf_counter() - started}
    outcome = {"file": file, "name": name, "report": run_json(result), "error": result.error, "seconds": time.perf_counter() - started}
    return {**outcome, "mutation": mutation_summary(loaded)} if target.mutate else outcome


def mutation_summary(loaded: Any) -> dict[str, Any]:
    """The scenario's mutation score and counts (orchestrate mutate, decided by the engine)."""
    from orchestrator.analysis.mutate import counts, mutation_report

    report = mutation_report(loaded)
    return {"score": round(report.score, 4), **counts(report)}
