"""Crash-safe principals: every key orchestrate makes is marked on its user (AWS's convention for
a key's description: a user tag whose key is the access key id) before it is used; a run that
never finished leaves marked keys, which the next run deletes before it makes any; a key without
orchestrate's mark is never touched. A run that dies is simulated by a PrincipalKeys that is
entered and never exited."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import orchestrator.backends
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import LoadedScenario, load_scenario
from orchestrator.prove.principals import PrincipalKeys, scenario_users
from orchestrator.prove.runner import run_states
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all, plan_state
from orchestrator.resources.access_keys import PENDING_TAG, KeyMark, PendingMark, key_marks
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
SEED = load_scenario(ROOT / "scenarios" / "kms-dynamodb-access.yaml")


class Boom(Exception):
    pass


@pytest.fixture
def backend() -> Iterator[EmbeddedBackend]:
    created = EmbeddedBackend(SEED.scenario.region)
    try:
        yield created
    finally:
        created.close()


def context(backend: EmbeddedBackend, **options: Any) -> RunContext:
    return RunContext(backend, SEED.scenario.name, **options)


def set_up(backend: EmbeddedBackend, **options: Any) -> None:
    apply_state(context(backend, **options), SEED.desired[0], SEED.scenario.states[0].name)


def died(backend: EmbeddedBackend, *users: str) -> PrincipalKeys:
    """A run that made keys for `users` and was killed before it could delete them."""
    keys = PrincipalKeys(context(backend), scenario_users(SEED.desired)).__enter__()
    for user in users:
        keys.credentials(user)
    return keys


def held(backend: EmbeddedBackend, user: str) -> list[str]:
    return sorted(k["AccessKeyId"] for k in backend.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"])


def tags(backend: EmbeddedBackend, user: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backend.client("iam").list_user_tags(UserName=user)["Tags"]}


def run(backend: EmbeddedBackend, loaded: LoadedScenario = SEED, **options: Any) -> bool:
    return run_states(context(backend, **options), loaded, len(loaded.scenario.states) - 1).passed


def test_each_key_is_marked_on_its_user_before_its_first_use(backend: EmbeddedBackend) -> None:
    marked: dict[str, int] = {}
    backend.observe(lambda service, operation, params: marked.update(
        {t["Key"]: len(backend.log.calls) for t in params["Tags"] if t["Key"].startswith("AKIA")})
        if operation == "TagUser" else None)
    assert run(backend)
    first_use = {}
    for position, (_, _, principal) in enumerate(backend.log.calls, start=1):
        first_use.setdefault(principal, position)
    assert len(marked) == 2  # tester's and admin's
    for key, position in marked.items():
        assert position < first_use[key], "the key was used before it was marked"


def test_keys_of_runs_that_died_are_deleted_by_the_next_run_before_it_makes_any(backend: EmbeddedBackend) -> None:
    set_up(backend)
    for _ in range(3):  # without the sweep, the third would meet LimitExceeded (AccessKeysPerUser: 2)
        died(backend, "tester", "admin")
    left = held(backend, "tester") + held(backend, "admin")
    assert len(left) == 2 and len(key_marks(tags(backend, "tester"))) == 1

    keys = PrincipalKeys(context(backend), scenario_users(SEED.desired))
    with keys:
        assert keys.swept == 2
        assert held(backend, "tester") == held(backend, "admin") == []
        assert key_marks(tags(backend, "tester")) == {} and PENDING_TAG not in tags(backend, "tester")
        keys.credentials("tester")
    assert held(backend, "tester") == [] and key_marks(tags(backend, "tester")) == {}
    assert run(backend)


def test_an_adopted_users_own_keys_are_never_touched(backend: EmbeddedBackend) -> None:
    iam = backend.client("iam")
    iam.create_user(UserName="tester")
    owners = iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]
    set_up(backend, adopt=True)
    died(backend, "tester")
    assert len(held(backend, "tester")) == 2

    assert run(backend)  # its sweep deleted the dead run's key; its own key fitted beside the owner's
    assert held(backend, "tester") == [owners]
    assert key_marks(tags(backend, "tester")) == {}


def test_a_key_made_but_never_marked_is_recognised_by_its_pending_mark(backend: EmbeddedBackend) -> None:
    """Killed between CreateAccessKey and the TagUser that marks the key: the pending mark, written
    before CreateAccessKey, names the keys held before, so only the new one is deleted."""
    set_up(backend)
    owners = backend.client("iam").create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]

    def die_before_marking(service: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "TagUser" and params["Tags"][0]["Key"] != PENDING_TAG:
            raise Boom("killed")

    undo = backend.observe(die_before_marking)
    with pytest.raises(Boom):
        died(backend, "tester")
    undo()
    assert len(held(backend, "tester")) == 2 and key_marks(tags(backend, "tester")) == {}

    with PrincipalKeys(context(backend), ["tester"]) as keys:
        assert keys.swept == 1
    assert held(backend, "tester") == [owners]
    assert PENDING_TAG not in tags(backend, "tester")


def test_a_key_whose_answer_was_lost_is_deleted_when_the_run_ends(backend: EmbeddedBackend) -> None:
    """CreateAccessKey made the key but its answer never reached us (a timeout, a signal)."""
    set_up(backend)

    def lose_the_answer(**_: Any) -> None:
        raise Boom("read timeout")

    backend.client("iam").meta.events.register("after-call.iam.CreateAccessKey", lose_the_answer)
    with pytest.raises(Boom), PrincipalKeys(context(backend), ["tester"]) as keys:
        keys.credentials("tester")
    assert len(backend.client("iam").list_access_keys(UserName="tester")["AccessKeyMetadata"]) == 0
    assert PENDING_TAG not in tags(backend, "tester")


def test_an_ambiguous_pending_mark_touches_no_key(backend: EmbeddedBackend) -> None:
    """Two unmarked keys made after a pending mark: one may be the owner's; neither is deleted."""
    set_up(backend)
    iam = backend.client("iam")
    pending = PendingMark(KeyMark("default", "deadbeefdeadbeef"), datetime.now(timezone.utc), ())
    iam.tag_user(UserName="tester", Tags=[{"Key": PENDING_TAG, "Value": pending.value}])
    made = sorted(iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"] for _ in range(2))
    with PrincipalKeys(context(backend), ["tester"]) as keys:
        assert keys.swept == 0
    assert held(backend, "tester") == made


def test_a_pending_mark_explains_only_keys_made_near_its_time() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    pending = PendingMark(KeyMark("r", "s"), at, ("AKIAHELDBEFORE000000",))
    assert pending.made({"AccessKeyId": "AKIANEW0000000000000", "CreateDate": at + timedelta(seconds=3)})
    assert not pending.made({"AccessKeyId": "AKIAHELDBEFORE000000", "CreateDate": at})
    assert not pending.made({"AccessKeyId": "AKIANEW0000000000000", "CreateDate": at + timedelta(hours=2)})
    assert len(pending.value) <= 256 and "=" in pending.value


def test_marks_are_neither_tags_to_converge_nor_drift_but_unmarked_keys_are(backend: EmbeddedBackend) -> None:
    assert run(backend)
    died(backend, "tester")
    plan = plan_state(context(backend), SEED.desired[-1], "again")
    assert plan.pending == [], "a key's mark is not a user tag that apply would remove"
    drift = [d for pair in observe_all(context(backend), SEED.desired[-1], observed_only=True) for d in differences(pair)]
    assert drift == [], "a marked key is orchestrate's own"

    backend.client("iam").create_access_key(UserName="admin")  # out of band
    drift = [d for pair in observe_all(context(backend), SEED.desired[-1], observed_only=True) for d in differences(pair)]
    [found] = drift
    assert (found.resource, found.path, found.kind, found.widens_access) == ("iam_user.admin", "access_keys[0]", "ADD", True)
    key_ids = held(backend, "admin")
    assert all(key_id not in repr(found.as_json()) for key_id in key_ids), "drift never shows a whole key id"


def test_sigterm_runs_the_cleanup_and_exits_143(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    made: list[str] = []
    deleted: list[str] = []
    real_open = orchestrator.backends.open_backend

    def observed_open(*args: Any, **kwargs: Any) -> Any:
        opened = real_open(*args, **kwargs)
        opened.observe(lambda service, operation, params: _on_call(operation, params, made, deleted))
        return opened

    monkeypatch.setattr(orchestrator.backends, "open_backend", observed_open)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["apply", str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")]) == 143
    assert "terminated" in capsys.readouterr().err
    assert len(made) == 2 and sorted(made) == sorted(deleted)
    assert signal.getsignal(signal.SIGTERM) is before, "the handler is restored"


def _on_call(operation: str, params: dict[str, Any], made: list[str], deleted: list[str]) -> None:
    if operation == "TagUser" and params["Tags"][0]["Key"].startswith("AKIA"):
        made.append(params["Tags"][0]["Key"])
    if operation == "DeleteAccessKey":
        deleted.append(params["AccessKeyId"])
    if operation == "GetItem" and len(made) == 2:  # the admin's expectation: both keys exist
        signal.raise_signal(signal.SIGTERM)


def test_a_signal_during_the_cleanup_does_not_cut_it_short(backend: EmbeddedBackend) -> None:
    """SIGTERM while the run is already deleting its keys (it had finished): every key still goes."""
    from orchestrator.commands.signals import Terminated, raising_on_stop

    set_up(backend)
    signalled: list[str] = []

    def signal_at_the_first_delete(service: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "DeleteAccessKey" and not signalled:
            signalled.append(params["UserName"])
            signal.raise_signal(signal.SIGTERM)

    backend.observe(signal_at_the_first_delete)
    with pytest.raises(Terminated), raising_on_stop(), PrincipalKeys(context(backend), ["tester", "admin"]) as keys:
        keys.credentials("tester")
        keys.credentials("admin")
    assert signalled
    assert held(backend, "tester") == held(backend, "admin") == []
    assert key_marks(tags(backend, "tester")) == key_marks(tags(backend, "admin")) == {}


def test_marks_on_a_user_the_scenario_does_not_own_are_left_alone(backend: EmbeddedBackend) -> None:
    """Someone else's same-named user: even a key that reads as orchestrate's is not ours to delete."""
    iam = backend.client("iam")
    iam.create_user(UserName="tester")
    key_id = iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]
    iam.tag_user(UserName="tester", Tags=[{"Key": key_id, "Value": KeyMark("default", "feedfacefeedface").value}])
    with PrincipalKeys(context(backend), ["tester"]) as keys:
        assert keys.swept == 0
    assert held(backend, "tester") == [key_id]
