"""The bench's settle and serve-throughput figures measure what they say (bench/settle.py,
bench/serve_throughput.py), at a size small enough for the suite; their timings are read in
bench/RESULTS.md, never asserted here."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bench import serve_throughput, settle
from bench.results import _settle_target
from orchestrator.prove.runner import DEFAULT_PARALLEL

ROOT = Path(__file__).resolve().parents[2]


def test_a_pooled_state_waits_out_the_delay_and_every_expectation_settles(tmp_path: Path) -> None:
    figure = settle.run_once(ROOT, tmp_path, 3, None, delay=0.5)
    assert figure["expectations"] == 3 and figure["parallel"] == DEFAULT_PARALLEL
    assert figure["waited"] == 3  # each met the old key policy first: the pool observed them at once
    assert figure["last_to_settle"]["attempts"] > settle.CONSECUTIVE
    assert figure["settle_s"] >= 0.5


def report(waited: bool) -> dict[str, Any]:
    verdict = {"passed": True, "settled": True, "attempts": 5 if waited else 3}
    return {"passed": True, "parallel": 8, "states": [{"expectations": [copy.deepcopy(verdict) for _ in range(2)],
            "settle_seconds": 3.0, "last_to_settle": {"index": 0, "settle_seconds": 3.0 if waited else 0.75, "attempts": 5}}]}


def test_a_run_that_never_waited_is_refused() -> None:
    assert settle.checked(report(True), 2, 4.0, 5.0)["waited"] == 2
    with pytest.raises(AssertionError, match="met the old policy"):
        settle.checked(report(False), 2, 4.0, 5.0)


def test_a_run_with_a_failed_expectation_is_refused() -> None:
    failed = report(True)
    failed["states"][-1]["expectations"][1]["passed"] = False
    with pytest.raises(AssertionError, match="not every expectation"):
        settle.checked(failed, 2, 4.0, 5.0)


def test_the_target_row_compares_the_largest_pooled_state_with_the_smallest() -> None:
    runs = [{"expectations": n, "parallel": 8, "settle_s": s} for n, s in ((1, 8.0), (50, 12.0), (200, 24.0))]
    row = _settle_target({"delay_s": 5.0, "parallel": runs, "ratio": 3.0})[0]
    assert "200 expectations under 2x the time of 1" in row and row.endswith("| no |")


def test_both_servers_answer_every_request_of_the_mix() -> None:
    figure = serve_throughput.measure(ROOT, runs=1, duration=0.5, clients=2)
    assert figure["failed"] == {"gate": 0, "moto": 0}, figure["errors"]
    assert figure["gate_rps"] > 0 and figure["moto_rps"] > 0
    row, section = serve_throughput.rows(figure)
    assert row.startswith("| serve: 2 clients") and section[0].startswith("## serve throughput")
