"""Kills at every mutating call of an apply against `orchestrate serve`, not at random points
(test_kills.py) nor as raised errors (test_faults.py): for each k from 1 to N, the number of
mutating calls a clean apply makes, an apply sends itself SIGTERM, and another SIGKILL, just
before its k-th mutating call is sent. When the k-th call is one of the principals' access-key
calls, a third apply is sent SIGTERM once that call is answered but before orchestrate has the
answer: a signal while the call is in flight, so the endpoint did it and orchestrate does not
know (for CreateAccessKey, not even the key's id: the pending mark finds it). For other calls
that round would repeat the SIGTERM before call k+1: the cleanup uses only what orchestrate
knows of its keys.

- SIGTERM (a CI cancel), before the call or in flight, runs the same cleanup as a normal exit
  (orchestrator/commands/signals.py), whatever call it cut short, the cleanup's own included:
  exit 143, no traceback, no access key and no mark left on any scenario user.
- SIGKILL runs nothing: exit -9, and the world holds exactly the keys the first k-1 calls made
  and had not deleted yet.

Either way the next apply exits 0 (it deletes the marked keys left by a run that did not finish,
and never a key but those, before it makes its own: `own_keys_only`), leaves no key and no mark
after it, and a destroy leaves nothing. The world is reset between rounds, so that every killed
apply starts from nothing and makes the same calls as the clean one: its k-th is checked to be
the clean apply's k-th.

Each killed apply is a child forked by one fork server (kill_driver.py) that imported
orchestrate once; follow-ups run in this process. Both save interpreter start-ups: the whole
series (N = 21 today: 52 rounds) took 65 to 80 s on 2 cores. It is dealt into SHARDS test cases
(k to shard k % SHARDS), so that pytest-xdist's workers share it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from kill_driver import on_mutating_calls
from orchestrator.backends.endpoint import CHECK_USER_PREFIX
from serve_support import (Forks, World, check_own_keys_only, follow_up, fork_server, keys_and_marks, leftovers,
                           orchestrate, reset, served)

#: (signal, when). SIGKILL once a call is answered would leave what SIGKILL before the next one does.
KILLS = ((signal.SIGTERM, "before"), (signal.SIGKILL, "before"))
IN_FLIGHT = (signal.SIGTERM, "answered")
#: The calls of orchestrator/prove/principals.py, whose answers its cleanup keeps (key ids, marks).
KEY_CALLS = ("iam:TagUser", "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UntagUser")
#: Test cases the series is dealt into.
SHARDS = 4
#: Bounds, generous: a hang fails the test instead of the job; speed is bench/'s business.
CHILD_SECONDS = 60
BUDGET_SECONDS = 600


@dataclass
class Tally:
    rounds: int = 0
    #: keys each SIGKILL left for the next apply to sweep
    killed_left: list[int] = field(default_factory=list)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with served(tmp_path_factory.mktemp("serve") / "stderr.log") as world:
        yield world


@pytest.fixture(scope="module")
def forks(endpoint: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forks]:
    with fork_server(endpoint, tmp_path_factory.mktemp("killed"), CHILD_SECONDS) as server:
        yield server


@pytest.fixture(scope="module")
def recorded(endpoint: World) -> tuple[list[str], list[bool]]:
    """The clean apply's mutating calls, in order (the world is reset around it), and which of
    them are the endpoint enforcement check's, on its throwaway user (not a scenario user)."""
    reset(endpoint)
    made = clean_apply_calls(endpoint)
    reset(endpoint)
    return made


@pytest.fixture(scope="module")
def calls(recorded: tuple[list[str], list[bool]]) -> list[str]:
    return recorded[0]


@pytest.fixture(scope="module")
def checks(recorded: tuple[list[str], list[bool]]) -> list[bool]:
    return recorded[1]


@pytest.fixture
def own_keys_only(endpoint: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """In this process, each key made is checked: the users hold no key but this run's."""
    return check_own_keys_only(endpoint, monkeypatch)


def clean_apply_calls(world: World) -> tuple[list[str], list[bool]]:
    """The mutating calls, in order, of an apply from nothing, and whether each is on the
    enforcement check's user; the world is empty again afterwards."""
    calls: list[str] = []
    checks: list[bool] = []
    undo = on_mutating_calls(lambda n, call: calls.append(call),
                             lambda params: checks.append(str(params.get("UserName", "")).startswith(CHECK_USER_PREFIX)))
    try:
        code, output = orchestrate(world, "apply")
    finally:
        undo()
    assert code == 0, output[-2000:]
    assert keys_and_marks(world.iam) == ([], [])
    code, output = orchestrate(world, "destroy")
    assert code == 0 and leftovers(world) == [], output[-2000:]
    assert any(checks[:4]), "the enforcement check comes first (its keys are not the scenario users')"
    return calls, checks


def keys_made_before(calls: list[str], checks: list[bool], k: int) -> int:
    """Access keys live on the scenario's users once the first k-1 calls are answered (the
    enforcement check's key is its own user's: the next check sweeps it with that user)."""
    done = [call for call, check in zip(calls[:k - 1], checks) if not check]
    return done.count("iam:CreateAccessKey") - done.count("iam:DeleteAccessKey")


def check_terminated(world: World, code: int, log: str) -> None:
    assert code == 143, f"SIGTERM made apply exit {code}: {log[-2000:]}"
    assert "Traceback" not in log and "terminated" in log, log[-2000:]
    keys, marks = keys_and_marks(world.iam)
    assert (keys, marks) == ([], []), f"SIGTERM's cleanup left {len(keys)} key(s) and marks {marks}"


def check_killed(world: World, code: int, expected_keys: int) -> int:
    assert code == -signal.SIGKILL, f"SIGKILL made apply exit {code}"
    keys, _ = keys_and_marks(world.iam)
    assert len(keys) == expected_keys, f"SIGKILL left {len(keys)} key(s), the first calls made {expected_keys}"
    return len(keys)


def kill_round(world: World, forks: Forks, calls: list[str], checks: list[bool], k: int, kill: tuple[int, str],
               tally: Tally) -> None:
    signum, when = kill
    code, log = forks.apply_killed_at(k, signum, when, CHILD_SECONDS)
    assert log.count("killed ") == 1 and f"killed {when} {k} {calls[k - 1]}\n" in log, \
        f"not the clean apply's call {k}, {calls[k - 1]}: {log[-2000:]}"
    if signum == signal.SIGTERM:
        check_terminated(world, code, log)
    else:
        tally.killed_left.append(check_killed(world, code, keys_made_before(calls, checks, k)))
    follow_up(world)


def test_the_series_covers_the_principals_keys(calls: list[str], checks: list[bool]) -> None:
    assert len(calls) > 10, calls
    assert "iam:CreateAccessKey" in calls and "iam:DeleteAccessKey" in calls, "the series covers the principals' keys"
    # every SIGKILL round checks that it left exactly the keys its first k-1 calls made
    assert any(keys_made_before(calls, checks, k) for k in range(1, len(calls) + 1)), \
        "no SIGKILL comes while a key is live: the series aims wrong"


@pytest.mark.parametrize("shard", range(SHARDS), ids=lambda n: f"shard{n + 1}of{SHARDS}")
def test_a_kill_at_any_mutating_call_is_cleaned_up_or_swept_by_the_next_apply(
        shard: int, endpoint: World, forks: Forks, calls: list[str], checks: list[bool],
        own_keys_only: list[int]) -> None:
    started = time.monotonic()
    reset(endpoint)
    tally, failures = Tally(), []
    for k in range(1, len(calls) + 1)[shard::SHARDS]:
        for kill in KILLS + ((IN_FLIGHT,) if calls[k - 1] in KEY_CALLS else ()):
            assert time.monotonic() - started < BUDGET_SECONDS, f"k={k}: over the time bound"
            try:
                kill_round(endpoint, forks, calls, checks, k, kill, tally)
            except AssertionError as error:  # every round is still run: all the failing calls at once
                failures.append(f"k={k} ({calls[k - 1]}) {signal.Signals(kill[0]).name} {kill[1]}: {error}")
            finally:
                reset(endpoint)
            tally.rounds += 1
    swept = sum(tally.killed_left)
    print(f"N={len(calls)} mutating calls, {tally.rounds} rounds in {time.monotonic() - started:.1f}s; keys left "
          f"by SIGKILLs and swept: {swept} in {sum(1 for n in tally.killed_left if n)} rounds")
    assert failures == [], "\n".join(failures)
    assert tally.rounds > 0, "an empty shard"
    assert len(own_keys_only) == 2 * tally.rounds, "every follow-up apply made both principals' keys"
