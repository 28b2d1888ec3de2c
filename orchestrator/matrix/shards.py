"""Deterministic, balanced shards: the longest-processing-time-first rule on an expected cost.

The cost of a scenario is read from the file (resources to reconcile, states, expectations),
never from a previous run, so the split is the same on every runner and every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.loader import LoadedScenario


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as in --shard I/N
    total: int
    files: tuple[str, ...]
    cost: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.total}"


def cost(loaded: LoadedScenario) -> int:
    """Resources are reconciled once per state; each expectation is one call plus its prediction."""
    scenario = loaded.scenario
    resources = len(scenario.users) * 2 + len(scenario.keys) + len(scenario.tables) + len(scenario.groups) * 2 + len(scenario.policies)
    expectations = sum(len(state.expectations) for state in scenario.states)
    return resources * len(scenario.states) + 2 * expectations + 5


def split(costs: dict[str, int], total: int) -> list[Shard]:
    """Assign each file to the least loaded shard, most expensive first (ties by name, index)."""
    if total < 1:
        raise ValueError("the number of shards must be at least 1")
    loads = [0] * total
    members: list[list[str]] = [[] for _ in range(total)]
    for file, value in sorted(costs.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(total), key=lambda index: (loads[index], index))
        loads[target] += value
        members[target].append(file)
    return [Shard(i + 1, total, tuple(sorted(members[i])), loads[i]) for i in range(total)]


def parse_shard(text: str) -> tuple[int, int]:
    """'2/5' -> (2, 5); raises ValueError with a clear message otherwise."""
    index, _, total = text.partition("/")
    if not (index.isdigit() and total.isdigit()) or not 1 <= int(index) <= int(total):
        raise ValueError(f"--shard takes I/N with 1 <= I <= N, not {text!r}")
    return int(index), int(total)
