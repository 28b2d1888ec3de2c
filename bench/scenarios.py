"""Per shipped scenario: whole-process `orchestrate apply` wall time, and the API calls of one
in-process run (every state reconciled and proved), then of a re-apply of its last state."""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Callable

#: Whole-process runs per scenario (a dozen scenarios: 3 keeps the whole bench under 5 minutes).
SCENARIO_RUNS = 3


def calls_of_a_run(path: Path) -> dict[str, int]:
    from orchestrator.backends.embedded import EmbeddedBackend
    from orchestrator.loader import load_scenario
    from orchestrator.prove.runner import run_states
    from orchestrator.reconcile.apply import apply_state
    from orchestrator.resources.context import RunContext

    loaded = load_scenario(path)
    backend = EmbeddedBackend(loaded.scenario.region)
    try:
        ctx = RunContext(backend, loaded.scenario.name)
        ctx.declare(loaded.desired)
        result = run_states(ctx, loaded, len(loaded.scenario.states) - 1)
        assert result.passed, f"{path.name} must pass"
        total, mutating = len(backend.log.calls), len(backend.log.mutating())
        backend.log.clear()
        apply_state(ctx, loaded.desired[-1], "bench")
        return {"calls": total, "mutating": mutating, "reapply_calls": len(backend.log.calls),
                "reapply_mutating": len(backend.log.mutating())}
    finally:
        backend.close()


def per_scenario(root: Path, whole_process: Callable[..., dict[str, float]], runs: int) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "scenarios").glob("*.yaml")):
        timed = [whole_process("orchestrator.cli", "apply", str(path), "--output", "json") for _ in range(min(runs, SCENARIO_RUNS))]
        assert all(run["exit"] == 0 for run in timed), f"{path.name} failed"
        rows.append({"scenario": path.name, "wall_s": statistics.median(r["wall"] for r in timed),
                     "inner_s": statistics.median(r["inner"] for r in timed), **calls_of_a_run(path)})
    return rows


def lines(rows: list[dict[str, Any]]) -> list[str]:
    found = ["## Shipped scenarios (apply time and API calls)", "",
             f"Wall and in-process time: median of {SCENARIO_RUNS} whole-process `orchestrate apply` runs on the embedded"
             " backend. Calls: one in-process run, every state reconciled and every expectation proved (probes, access"
             " keys, sessions and the expectations' own calls included); then a re-apply of the last state.", "",
             "| scenario | wall | in-process | API calls | mutating | re-apply: calls | re-apply: mutating |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        found.append(f"| `{row['scenario']}` | {row['wall_s']:.2f} s | {row['inner_s']:.2f} s | {row['calls']} | {row['mutating']}"
                     f" | {row['reapply_calls']} | {row['reapply_mutating']} |")
    return found
