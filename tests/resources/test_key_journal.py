"""A run killed between CreateKey and CreateAlias loses nothing (resources/key_journal.py).

A scenario of keys only leaves nothing else of its run in the account, so preflight finds the
account fresh and the ownership alias is all that would find the key. The journal beside the
world's lock says which key may exist without it: the next apply finds that key by the scan and
writes its alias instead of making a second key, and destroy finds it too.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.kms.models import kms_backends
from res_support import ACCOUNT, REGION

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.reconcile.preflight import refuse_conflicts
from orchestrator.resources import key_journal
from orchestrator.resources.context import RunContext
from orchestrator.resources.kms_key import KmsKey

KEYS_ONLY = """\
name: keys-only
region: us-east-1
keys:
  data:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Account, Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
states:
  - name: only
"""


class WorldBackend(EmbeddedBackend):
    """The embedded backend, naming its world as an endpoint does (so it has a lock and a journal)."""

    @property
    def world(self) -> str | None:
        return f"test-world-{id(self)}"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorldBackend]:
    monkeypatch.setenv("ORCHESTRATE_LOCK_DIR", str(tmp_path / "locks"))
    created = WorldBackend(REGION, gate=False)
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "keys-only.yaml"
    path.write_text(KEYS_ONLY)
    return path


def apply(backend: EmbeddedBackend, path: Path) -> RunContext:
    loaded = load_scenario(path)
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    states = [(state.name, desired) for state, desired in zip(loaded.scenario.states, loaded.desired)]
    refuse_conflicts(ctx, states)
    for name, desired in states:
        apply_state(ctx, desired, name)
    return ctx


def live_keys() -> list[str]:
    return [key.id for key in kms_backends[ACCOUNT][REGION].keys.values() if key.key_state == "Enabled"]


def killed_before_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next CreateAlias of an ownership alias never happens: the process dies first."""
    def die(self: KmsKey, ctx: RunContext, name: str, key_id: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(KmsKey, "_mark", die)


def killed_applying(world: WorldBackend, scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply of `scenario` that dies between CreateKey and CreateAlias."""
    with monkeypatch.context() as patch:
        killed_before_the_alias(patch)
        with pytest.raises(KeyboardInterrupt):
            apply(world, scenario)


def test_a_run_killed_before_the_alias_leaves_its_key_in_the_journal(world: WorldBackend, scenario: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    killed_applying(world, scenario, monkeypatch)
    assert len(live_keys()) == 1
    ctx = RunContext(world, "keys-only")
    assert key_journal.pending(ctx) == {"data"}


def test_the_next_apply_finds_that_key_and_makes_no_second_one(world: WorldBackend, scenario: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    killed_applying(world, scenario, monkeypatch)
    first = live_keys()
    ctx = apply(world, scenario)
    assert live_keys() == first
    aliases = [a["AliasName"] for a in world.client("kms").list_aliases(KeyId=first[0])["Aliases"]]
    assert ctx.ownership_alias("data") in aliases
    assert key_journal.pending(ctx) == set()


def test_destroy_after_the_kill_deletes_the_key(world: WorldBackend, scenario: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    killed_applying(world, scenario, monkeypatch)
    loaded = load_scenario(scenario)
    ctx = RunContext(world, loaded.scenario.name)
    ctx.declare(loaded.desired)
    destroy(ctx, loaded.desired[-1])
    assert live_keys() == []
    assert key_journal.pending(ctx) == set()


def test_without_the_journal_the_kill_would_make_a_second_key(world: WorldBackend, scenario: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the journal prevents (so the tests above could fail): forget it, and the next
    apply, finding the account fresh, makes another key."""
    killed_applying(world, scenario, monkeypatch)
    key_journal.done(RunContext(world, "keys-only"), "data")
    apply(world, scenario)
    assert len(live_keys()) == 2


def test_a_clean_apply_leaves_no_journal(world: WorldBackend, scenario: Path, tmp_path: Path) -> None:
    apply(world, scenario)
    assert not list((tmp_path / "locks").glob("*.keys"))


def test_the_embedded_world_keeps_no_journal(backend: EmbeddedBackend, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, scenario: Path) -> None:
    monkeypatch.setenv("ORCHESTRATE_LOCK_DIR", str(tmp_path / "locks"))
    apply(backend, scenario)
    key_journal.begin(RunContext(backend, "keys-only"), "data")
    assert not (tmp_path / "locks").exists()
