"""Eventual consistency: an outcome is observed until it matches and has held for N consecutive
observations, or the settle timeout passes; the waits start short and double up to a cap; a
backend that is not eventually consistent is observed once. A fake clock and sleep: no waiting."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.prove.assertions import Outcome, next_wait, settle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def observations(*allowed: bool) -> Callable[[], Outcome]:
    answers = iter(allowed)
    return lambda: Outcome(next(answers))


def test_the_waits_start_short_and_double_up_to_the_cap() -> None:
    clock = Clock()
    settle(observations(*([False] * 10)), True, 30, 3, True, clock.sleep, lambda: clock.now)
    assert clock.slept == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    assert next_wait(4.0, 0) == 5.0 and next_wait(4.0, 1) == 0.25 and next_wait(0.25, 2) == 0.5


def test_waits_until_the_outcome_holds_for_consecutive_observations() -> None:
    clock = Clock()
    settled = settle(observations(False, False, True, True, True), True, 120, 3, True, clock.sleep, lambda: clock.now)
    assert (settled.outcome.allowed, settled.attempts, settled.stable) == (True, 5, True)
    # backing off while denied; the first allowed answer is confirmed soon: short waits again
    assert clock.slept == [0.25, 0.5, 0.25, 0.5] and settled.seconds == 1.5


def test_an_outcome_stable_at_once_is_proved_in_under_a_second() -> None:
    clock = Clock()
    settled = settle(observations(True, True, True), True, 120, 3, True, clock.sleep, lambda: clock.now)
    assert (settled.attempts, settled.stable, clock.slept) == (3, True, [0.25, 0.5])


def test_a_flip_back_restarts_the_count() -> None:
    clock = Clock()
    settled = settle(observations(True, False, True, True, True), True, 120, 3, True, clock.sleep, lambda: clock.now)
    assert (settled.outcome.allowed, settled.attempts, settled.stable) == (True, 5, True)


def test_a_flip_flop_is_not_settled_even_when_it_ends_on_the_expected_outcome() -> None:
    clock = Clock()
    flip_flop = observations(*([True, False] * 100))
    settled = settle(flip_flop, True, 20, 2, True, clock.sleep, lambda: clock.now)
    assert settled.stable is False
    assert settled.attempts == len(clock.slept) + 1 and sum(clock.slept) <= 20
    # held never passed 1: a mismatch reset it every other observation
    clock = Clock()
    settled = settle(observations(True, False, True), True, 0.75, 2, True, clock.sleep, lambda: clock.now)
    assert (settled.outcome.allowed, settled.attempts, settled.stable) == (True, 3, False)


def test_consecutive_is_counted_per_expectation() -> None:
    """Two expectations' loops, interleaved as a pool runs them: each counts its own answers."""
    clock = Clock()
    steady = settle(observations(True, True), True, 120, 2, True, clock.sleep, lambda: clock.now)
    lagging = settle(observations(False, True, False, True, True), True, 120, 2, True, clock.sleep, lambda: clock.now)
    assert (steady.attempts, steady.stable) == (2, True)
    assert (lagging.attempts, lagging.stable) == (5, True)


def test_gives_up_at_the_timeout_with_the_last_outcome() -> None:
    clock = Clock()
    settled = settle(observations(*([False] * 40)), True, 20, 2, True, clock.sleep, lambda: clock.now)
    assert settled.outcome.allowed is False and settled.stable is False
    assert sum(clock.slept) <= 20 and settled.attempts == len(clock.slept) + 1
    assert clock.slept == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]  # the next 5 s would pass 20 s


def test_a_backend_that_is_not_eventually_consistent_never_waits() -> None:
    clock = Clock()
    settled = settle(observations(False), True, 120, 3, False, clock.sleep, lambda: clock.now)
    assert (settled.outcome.allowed, settled.attempts, clock.slept, settled.stable) == (False, 1, [], True)
