"""Mutation testing's cost: `orchestrate mutate` of every shipped scenario, in-process (the
engine over every mutant: `mutation_report`, loading excluded, median of `runs`) and as a whole
process per scenario (start-up included, one run each), with the mutant counts."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def in_process(path: Path, runs: int) -> tuple[float, Any]:
    from orchestrator.analysis.mutate import mutation_report
    from orchestrator.loader import load_scenario

    loaded = load_scenario(path)
    times, report = [], None
    for _ in range(runs):
        started = time.perf_counter()
        report = mutation_report(loaded)
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


def measure(root: Path, whole_process: Callable[..., dict[str, float]], runs: int = 3) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "scenarios").glob("*.yaml")):
        seconds, report = in_process(path, runs)
        process = whole_process("orchestrator.cli", "mutate", str(path), "--output", "json")
        rows.append({"scenario": path.stem, "mutants": len(report.results), "killed": report.count("killed"),
                     "survived": report.count("survived"), "equivalent": report.count("equivalent"),
                     "score": report.score, "in_process_s": seconds, "process_wall_s": process["wall"],
                     "exit": process["exit"]})
    return rows
