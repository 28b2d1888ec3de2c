"""bench/engine.py returns its measurements (no timing assertions)."""
from __future__ import annotations

from bench.engine import _typical, _worst, measure


def test_measure_returns_rates() -> None:
    rates = measure(seconds=0.01)
    assert set(rates) == {"typical", "worst"} and all(rate > 0 for rate in rates.values())


def test_bench_workloads_decide_as_intended() -> None:
    # typical: the key policy names the user with a satisfied kms:ViaService condition.
    typical = _typical()()
    assert (typical.decision, typical.layer) == ("allowed", "key-policy")
    # worst: 50 non-matching statements, then delegation + an IAM allow.
    worst = _worst()()
    assert (worst.decision, worst.layer) == ("allowed", "identity-policy")
