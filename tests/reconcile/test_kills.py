"""Kills at random points of an apply against `orchestrate serve`: SIGKILL (nothing runs) and
SIGTERM (a CI cancel: cleanup runs, exit 143). Each is followed by an apply that exits 0 and leaves
no access key behind (it deletes the keys the killed run left, which are marked as orchestrate's),
and by a destroy that leaves nothing. Without the marks, two leftovers on a user make every
later apply fail (`LimitExceeded ... AccessKeysPerUser: 2`, IAM quotas).

Kills are seeded; half are aimed at the expectation phase (once the run has made a principal's
key), half anywhere in the apply's duration. The default is the issue's full series, 50 SIGKILLs and
20 SIGTERMs; ORCHESTRATE_KILL_ROUNDS="KILLS,TERMS" sets another (say 5,2 while developing);
ORCHESTRATE_KILL_SEED the seed.

The series is dealt round-robin into SHARDS test cases (round n to shard n % SHARDS), so that
pytest-xdist's workers share it; the delays are the seeded series' whatever the shard. Applies
killed anywhere are `orchestrate apply` processes of their own, start-up included (a SIGTERM
during the imports is among what they meet); applies killed in the expectation phase, which
starts after the start-up, are processes of their own too.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from serve_support import (CLI, SEED, World, check_own_keys_only, follow_up as converges,
                           keys_and_marks, leftovers, orchestrate, reset, served)

DEFAULT_ROUNDS = "50,20"  # the series; about 3 minutes on 2 cores
#: Test cases the series is dealt into: odd, so that each holds aimed and unaimed rounds alike.
SHARDS = 5
#: Bound on each shard, generous: a hang or a slow leak fails the test, not the job.
BUDGET_SECONDS = 900
#: Bound on one apply (its start-up included).
APPLY_SECONDS = 60


@dataclass
class Tally:
    rounds: int = 0
    left_keys: list[int] = field(default_factory=list)
    finished_first: int = 0


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with served(tmp_path_factory.mktemp("serve") / "stderr.log") as world:
        yield world


@pytest.fixture(scope="module")
def apply_seconds(endpoint: World) -> float:
    """Calibration: how long one apply takes here (in this process, from nothing)."""
    reset(endpoint)
    started = time.monotonic()
    code, output = orchestrate(endpoint, "apply")
    assert code == 0, output
    duration = time.monotonic() - started
    orchestrate(endpoint, "destroy")
    return duration


@pytest.fixture
def own_keys_only(endpoint: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """In this process, each key made is checked: the users hold no key but this run's."""
    return check_own_keys_only(endpoint, monkeypatch)


def wait_for_a_key(iam: Any, running: Any, deadline: float) -> None:
    """Until the run has made a principal's key (it is proving expectations) or has ended."""
    while running() and time.monotonic() < deadline:
        if keys_and_marks(iam)[0]:
            return
        time.sleep(0.01)


def killed_apply(world: World, signum: int, delay: float, aim_at_keys: bool) -> tuple[int, str]:
    """Start an apply (a process of its own), signal it after `delay` (counted from its first key
    when aim_at_keys); its exit code and what it printed (stdout, then stderr's last lines)."""
    process = subprocess.Popen(CLI + ["apply", SEED, "--endpoint-url", world.url, "--no-color"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if aim_at_keys:
        wait_for_a_key(world.iam, lambda: process.poll() is None, time.monotonic() + APPLY_SECONDS)
    time.sleep(delay)
    process.send_signal(signum)
    out, err = process.communicate(timeout=APPLY_SECONDS)
    return process.returncode, out.decode() + "\n--- stderr ---\n" + err.decode()[-2000:]


def check_terminated(world: World, code: int, out: str, tally: Tally) -> None:
    """SIGTERM: the run cleaned up its keys, and said so with 143. Or the signal came outside the
    command, where the default action stands: before it began (no user exists yet) or after it
    had reported (it finished: its summary is out)."""
    keys, marks = keys_and_marks(world.iam)
    finished = "3 passed, 0 failed" in out
    if code == 0 or (code == -signal.SIGTERM and finished):
        tally.finished_first += 1
    elif code == -signal.SIGTERM:
        assert world.iam.list_users()["Users"] == [], "SIGTERM's default action cut off a run that had begun"
    else:
        assert code == 143, f"SIGTERM made apply exit {code}; it printed: {out[-1500:]}"
    assert (keys, marks) == ([], []), f"after SIGTERM (exit {code}) keys {len(keys)} and marks {marks} were left"


def follow_up(world: World, tally: Tally) -> None:
    """An apply that exits 0 and leaves no key; a destroy that leaves nothing."""
    left, _ = keys_and_marks(world.iam)
    tally.left_keys.append(len(left))
    converges(world)


def rounds() -> list[int]:
    kills, terms = (int(n) for n in os.environ.get("ORCHESTRATE_KILL_ROUNDS", DEFAULT_ROUNDS).split(","))
    return [signal.SIGKILL] * kills + [signal.SIGTERM] * terms


def series(apply_seconds: float) -> list[tuple[int, int, bool, float]]:
    """Every round of the seeded series: (number, signal, aimed at the keys, delay)."""
    rng = random.Random(int(os.environ.get("ORCHESTRATE_KILL_SEED", "10")))
    made = []
    for number, signum in enumerate(rounds()):
        aim_at_keys = number % 2 == 0
        delay = rng.uniform(0, 0.3) if aim_at_keys else rng.uniform(0, apply_seconds * 1.2)
        made.append((number, signum, aim_at_keys, delay))
    return made


@pytest.mark.parametrize("shard", range(SHARDS), ids=lambda n: f"shard{n + 1}of{SHARDS}")
def test_kills_and_terms_are_followed_by_a_converging_apply_and_a_complete_destroy(
        shard: int, endpoint: World, apply_seconds: float, own_keys_only: list[int]) -> None:
    started = time.monotonic()
    tally = Tally()
    for number, signum, aim_at_keys, delay in series(apply_seconds)[shard::SHARDS]:
        assert time.monotonic() - started < BUDGET_SECONDS, f"round {number}: over the time bound"
        reset(endpoint)
        code, out = killed_apply(endpoint, signum, delay, aim_at_keys)
        if signum == signal.SIGTERM:
            check_terminated(endpoint, code, out, tally)
        follow_up(endpoint, tally)
        tally.rounds += 1
    print(f"{tally.rounds} rounds in {time.monotonic() - started:.1f}s; keys left by kills: "
          f"{sum(tally.left_keys)} in {sum(1 for n in tally.left_keys if n)} rounds; all deleted by the next apply; "
          f"SIGTERM after the run finished: {tally.finished_first}")
    assert tally.rounds > 0, "an empty shard"
    assert len(own_keys_only) >= 2 * tally.rounds, "every follow-up apply made its principals' keys"
    assert any(tally.left_keys), "no kill ever hit the expectation phase: the test aims wrong"


def test_a_key_orchestrate_did_not_make_is_drift_that_apply_leaves_and_destroy_removes(endpoint: World) -> None:
    reset(endpoint)
    assert orchestrate(endpoint, "apply")[0] == 0
    key_id = endpoint.iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]

    code, text = orchestrate(endpoint, "drift")
    assert code == 2 and "ADD iam_user.tester.access_keys[0]  [widens access]" in text, text
    assert "apply leaves it alone" in text and key_id not in text
    code, as_json = orchestrate(endpoint, "drift", "--output", "json")
    [difference] = json.loads(as_json)["differences"]
    assert (difference["PropertyPath"], difference["WidensAccess"]) == ("access_keys[0]", True)

    assert orchestrate(endpoint, "apply")[0] == 0
    assert keys_and_marks(endpoint.iam) == ([key_id], []), "apply never deletes a key it did not make"
    assert orchestrate(endpoint, "destroy")[0] == 0
    assert leftovers(endpoint) == [], "destroy deletes every key of the users it owns"
