"""Eventual consistency on real AWS: an outcome is observed until it matches and has held for N
consecutive observations, or the settle timeout passes; the embedded backend never waits."""

from __future__ import annotations

from orchestrator.prove.assertions import Outcome, settle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def observations(*allowed: bool):  # type: ignore[no-untyped-def]
    answers = iter(allowed)
    return lambda: Outcome(next(answers))


def test_waits_until_the_outcome_holds_for_consecutive_observations() -> None:
    clock = Clock()
    outcome, attempts, seconds = settle(observations(False, False, True, True, True), True, 120, 3, True, clock.sleep, lambda: clock.now)
    assert (outcome.allowed, attempts) == (True, 5)
    assert clock.slept == [1.0, 2.0, 4.0, 8.0] and seconds == 15.0


def test_a_flip_back_restarts_the_count() -> None:
    clock = Clock()
    outcome, attempts, _ = settle(observations(True, False, True, True, True), True, 120, 3, True, clock.sleep, lambda: clock.now)
    assert (outcome.allowed, attempts) == (True, 5)


def test_gives_up_at_the_timeout_with_the_last_outcome() -> None:
    clock = Clock()
    outcome, attempts, seconds = settle(observations(*([False] * 20)), True, 20, 2, True, clock.sleep, lambda: clock.now)
    assert outcome.allowed is False and sum(clock.slept) <= 20 and attempts == len(clock.slept) + 1


def test_embedded_backend_never_waits() -> None:
    clock = Clock()
    outcome, attempts, _ = settle(observations(False), True, 120, 3, False, clock.sleep, lambda: clock.now)
    assert (outcome.allowed, attempts, clock.slept) == (False, 1, [])
