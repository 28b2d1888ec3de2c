"""Start-up (issue 22, item 10): `orchestrate --help` and `orchestrate validate` of the seed, each
a whole process (interpreter start, imports, parsing, the scenario's models built and validated).
Absolute figures against a target of 0.25 s: no peer runs here, so no ratio.

`python -m bench.startup` runs these figures and the seed's ratio (bench.run.seed_overhead) alone
and prints them; `python -m bench` writes them into RESULTS.md with every other figure.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

TARGET_S = 0.25
#: (label, arguments of `orchestrate`): each timed as its own process.
COMMANDS = (("help", ("--help",)), ("validate", ("validate", "scenarios/kms-dynamodb-access.yaml")))
LABELS = {"help": "`orchestrate --help`", "validate": "`orchestrate validate` of the seed"}
#: Whole-process seconds when the figures were added (issue 22, before item 10; this machine, shared).
BEFORE = {"help": 0.06, "validate": 0.26}


def measure(whole_process: Callable[..., dict[str, float]], runs: int) -> dict[str, Any]:
    """Median wall seconds (and peak RSS) of each command, its runs alternating with the other's."""
    samples: dict[str, list[dict[str, float]]] = {label: [] for label, _ in COMMANDS}
    for _ in range(runs):
        for label, args in COMMANDS:
            samples[label].append(whole_process("orchestrator.cli", *args))
    figures: dict[str, Any] = {"runs": runs}
    for label, taken in samples.items():
        assert all(run["exit"] == 0 for run in taken), f"orchestrate {label} failed"
        figures[label] = {"wall_s": statistics.median(run["wall"] for run in taken),
                          "inner_s": statistics.median(run["inner"] for run in taken),
                          "rss_mib": max(run["rss_mib"] for run in taken)}
    return figures


def targets(figure: dict[str, Any] | None) -> list[str]:
    """Rows of RESULTS.md's target table."""
    if figure is None:
        return []
    return [f"| {LABELS[label]} under {TARGET_S:g} s whole process (issue 22; {BEFORE[label]:.2f} s before; no peer run here) | "
            f"{figure[label]['wall_s']:.3f} s | {'yes' if figure[label]['wall_s'] < TARGET_S else 'no'} |"
            for label, _ in COMMANDS]


def lines(figure: dict[str, Any] | None) -> list[str]:
    """RESULTS.md's section for the start-up figures."""
    if figure is None:
        return []
    rows = [f"| {LABELS[label]} | {figure[label]['wall_s']:.3f} s | {figure[label]['inner_s']:.3f} s | {figure[label]['rss_mib']:.0f} MiB |"
            for label, _ in COMMANDS]
    return ["## Start-up (bench/startup.py: whole process, alternating runs)", "",
            "| command | wall (median) | in-process (median) | peak RSS (max) |", "|---|---|---|---|", *rows, "",
            "Only the command run is imported (orchestrator/cli.py parses; each command imports what it uses); the",
            "scenario models' pydantic schemas are built once, when the models are first imported.", ""]


def main() -> None:
    import json

    from bench.run import RUNS, compiled, seed_overhead, whole_process

    compiled()
    print(f"seed: {json.dumps(seed_overhead())}", flush=True)
    print(f"startup: {json.dumps(measure(whole_process, RUNS))}", flush=True)


if __name__ == "__main__":
    main()
