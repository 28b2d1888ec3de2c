"""A run refused before any proof says so and nothing else (report/run_text.py): no count of
expectations "proved at once", no "0 passed, 0 failed"."""

from __future__ import annotations

from orchestrator.prove.runner import RunResult
from orchestrator.report.run_text import render_run
from orchestrator.report.style import Style


def test_a_run_refused_before_any_proof_says_so_and_nothing_else() -> None:
    result = RunResult("ledger", "endpoint", error="conflict: the table is another scenario's", parallel=32)
    text = render_run(result, Style(False))
    assert text == "Scenario ledger on the endpoint backend: refused before any proof"


def test_a_run_with_verdicts_keeps_its_tally() -> None:
    text = render_run(RunResult("ledger", "embedded"), Style(False))
    assert text.splitlines()[-1] == "0 passed, 0 failed"
