"""Shards partition the scenarios exactly, deterministically and in balance; exit codes aggregate."""

from __future__ import annotations

import random

import pytest

from orchestrator.matrix.aggregate import exit_code
from orchestrator.matrix.shards import parse_shard, split

COSTS = {f"scenarios/s{i:02d}.yaml": (i * 37) % 23 + 5 for i in range(17)}


@pytest.mark.parametrize("total", [1, 2, 3, 5, 17, 20])
def test_shards_partition_exactly(total: int) -> None:
    shards = split(COSTS, total)
    assigned = [file for shard in shards for file in shard.files]
    assert sorted(assigned) == sorted(COSTS)  # every file once, none twice, none lost
    assert [s.label for s in shards] == [f"{i}/{total}" for i in range(1, total + 1)]
    assert sum(s.cost for s in shards) == sum(COSTS.values())


def test_split_is_stable_whatever_the_input_order() -> None:
    items = list(COSTS.items())
    random.Random(7).shuffle(items)
    assert split(dict(items), 4) == split(COSTS, 4)


def test_split_is_balanced_within_the_largest_cost() -> None:
    loads = [s.cost for s in split(COSTS, 4)]
    assert max(loads) - min(loads) <= max(COSTS.values())


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "2", "1/0", ""])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--shard takes I/N"):
        parse_shard(text)


def outcome(status: str) -> dict[str, object]:
    if status == "error":
        return {"error": "boom", "report": None}
    return {"error": None, "report": {"passed": status == "passed"}}


@pytest.mark.parametrize(
    "statuses,code",
    [(["passed", "passed"], 0), (["passed", "failed"], 1), (["failed", "error"], 3), (["error"], 3), ([], 0)],
)
def test_exit_codes_aggregate(statuses: list[str], code: int) -> None:
    assert exit_code([outcome(s) for s in statuses]) == code
