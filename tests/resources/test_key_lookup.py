"""Finding the scenario's keys at a cost independent of the account's size (issue 14, item 6).

KMS keys have no name: each key of a scenario and run carries its ownership alias
(`alias/orchestrate/SCENARIO/RUN/NAME`), found with one DescribeKey and checked by its tags.
The account is scanned (ListKeys, then every key's tags) only when the alias finds nothing and
preflight has seen something of the run in the account. The foreign keys are made through
moto's backend directly: 1,000 CreateKey calls through boto3 would take most of the test's time.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from moto.kms.models import kms_backends
from res_support import ACCOUNT, REGION, key_tags, tagged_keys

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.reconcile.observe import plan_state
from orchestrator.reconcile.preflight import refuse_conflicts
from orchestrator.resources.context import OWNERSHIP_ALIAS_PREFIX, RunContext

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "kms-dynamodb-access.yaml"
OWN = "alias/orchestrate/kms-dynamodb-access/default/data"
#: KMS calls that look keys up (the scan's are ListKeys and one ListResourceTags per key).
LOOKUPS = ("ListKeys", "ListResourceTags", "DescribeKey", "ListAliases")


def foreign_keys(count: int) -> list[str]:
    """Keys that no scenario owns, made in moto's backend (no HTTP, no botocore)."""
    backend = kms_backends[ACCOUNT][REGION]
    return [backend.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "foreign", None).id
            for _ in range(count)]


def seed_apply(backend: EmbeddedBackend) -> Counter[str]:
    """`orchestrate apply`'s reconciling of the seed (preflight, then every state in one run):
    the KMS operations it called, counted from botocore's events (the backend's call log)."""
    loaded = load_scenario(SEED)
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    states = [(state.name, desired) for state, desired in zip(loaded.scenario.states, loaded.desired)]
    backend.log.clear()
    refuse_conflicts(ctx, states)
    for name, desired in states:
        apply_state(ctx, desired, name)
    return Counter(operation for service, operation, _ in backend.log.calls if service == "kms")


def seed_destroy(backend: EmbeddedBackend) -> None:
    loaded = load_scenario(SEED)
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    destroy(ctx, loaded.desired[-1])


def seed_plan(backend: EmbeddedBackend) -> Any:
    loaded = load_scenario(SEED)
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    return plan_state(ctx, loaded.desired[-1], "last")


def lookups(calls: Counter[str]) -> dict[str, int]:
    return {operation: calls[operation] for operation in LOOKUPS if calls[operation]}


def alias_target(backend: EmbeddedBackend, alias: str) -> str | None:
    targets = {a["AliasName"]: a.get("TargetKeyId") for a in backend.client("kms").list_aliases()["Aliases"]}
    return targets.get(alias)


def live_owned(backend: EmbeddedBackend) -> list[dict[str, Any]]:
    return [k for k in tagged_keys(backend, "data", scenario="kms-dynamodb-access") if k["KeyState"] != "PendingDeletion"]


def test_seed_apply_lookups_do_not_grow_with_the_account(backend: EmbeddedBackend) -> None:
    """The same KMS lookups with 1,000 foreign keys as with none: no ListKeys, no tags of keys
    that are not ours (the scan before this change read 1,000 keys' tags)."""
    empty = seed_apply(backend)
    seed_destroy(backend)
    foreign_keys(1000)

    crowded = seed_apply(backend)

    assert lookups(crowded) == lookups(empty)
    assert "ListKeys" not in crowded
    assert crowded["ListResourceTags"] <= 3 and crowded["DescribeKey"] <= 10
    [key] = live_owned(backend)
    assert alias_target(backend, OWN) == key["KeyId"]


def test_a_re_apply_finds_the_key_through_its_alias(backend: EmbeddedBackend) -> None:
    seed_apply(backend)
    foreign_keys(300)

    again = seed_apply(backend)

    assert "ListKeys" not in again
    assert again["ListResourceTags"] <= 3
    assert len(live_owned(backend)) == 1


def test_the_ownership_alias_is_hidden_from_plan_and_drift(backend: EmbeddedBackend) -> None:
    seed_apply(backend)

    plan = seed_plan(backend)

    key = next(c for c in plan.changes if c.address == "kms_key.data")
    assert key.action.value == "no-op"
    assert key.before is not None and key.before["aliases"] == ["alias/orders-data"]


def test_an_alias_deleted_out_of_band_is_found_by_the_scan_and_written_again(backend: EmbeddedBackend) -> None:
    seed_apply(backend)
    [key] = live_owned(backend)
    foreign_keys(50)
    backend.client("kms").delete_alias(AliasName=OWN)
    assert seed_plan(backend).pending == []  # orchestrate's own, as the ownership tags are

    again = seed_apply(backend)

    assert again["ListKeys"] >= 1 and again["ListResourceTags"] >= 50  # the scan, once
    assert [k["KeyId"] for k in live_owned(backend)] == [key["KeyId"]]  # found, not made again
    assert alias_target(backend, OWN) == key["KeyId"]
    assert "ListKeys" not in seed_apply(backend)  # repaired: the alias finds it again


def test_an_alias_moved_to_a_foreign_key_is_moved_back_and_the_key_not_adopted(backend: EmbeddedBackend) -> None:
    """As Terraform puts back a managed alias moved out of band: the alias is the scenario's by
    its name; the key it named is left as it was, untagged and live."""
    seed_apply(backend)
    [key] = live_owned(backend)
    [foreign] = foreign_keys(1)
    kms = backend.client("kms")
    kms.update_alias(AliasName=OWN, TargetKeyId=foreign)

    seed_apply(backend)

    assert [k["KeyId"] for k in live_owned(backend)] == [key["KeyId"]]
    assert alias_target(backend, OWN) == key["KeyId"]
    assert key_tags(backend, foreign) == {}
    assert kms.describe_key(KeyId=foreign)["KeyMetadata"]["KeyState"] == "Enabled"
    seed_destroy(backend)
    assert live_owned(backend) == []
    assert kms.describe_key(KeyId=foreign)["KeyMetadata"]["KeyState"] == "Enabled"


def test_an_alias_on_a_foreign_key_in_a_fresh_account_is_taken_over(backend: EmbeddedBackend) -> None:
    """No key of ours anywhere, the alias names a foreign one: a key is made, the alias moved
    to it; the foreign key is not adopted."""
    [foreign] = foreign_keys(1)
    backend.client("kms").create_alias(AliasName=OWN, TargetKeyId=foreign)

    seed_apply(backend)

    [key] = live_owned(backend)
    assert key["KeyId"] != foreign and alias_target(backend, OWN) == key["KeyId"]
    assert key_tags(backend, foreign) == {}


def test_destroy_removes_everything(backend: EmbeddedBackend) -> None:
    seed_apply(backend)
    foreign_keys(20)

    seed_destroy(backend)

    assert live_owned(backend) == []
    assert alias_target(backend, OWN) is None
    assert not [a for a in backend.client("kms").list_aliases()["Aliases"] if a["AliasName"].startswith("alias/orders")]


def test_destroy_finds_a_key_whose_alias_was_deleted_out_of_band(backend: EmbeddedBackend) -> None:
    seed_apply(backend)
    backend.client("kms").delete_alias(AliasName=OWN)

    seed_destroy(backend)

    assert live_owned(backend) == []
    assert tagged_keys(backend, "data", scenario="kms-dynamodb-access")[0]["KeyState"] == "PendingDeletion"


def test_after_destroy_a_new_apply_is_fresh_again(backend: EmbeddedBackend) -> None:
    seed_apply(backend)
    seed_destroy(backend)
    foreign_keys(100)

    calls = seed_apply(backend)

    assert "ListKeys" not in calls
    assert len(live_owned(backend)) == 1


def test_a_key_a_state_scheduled_for_deletion_keeps_its_alias_and_is_found_by_it(backend: EmbeddedBackend) -> None:
    """CreateAlias fails on a key pending deletion (KMS Developer Guide, "Key states of AWS KMS
    keys"), so the alias made with the key stays on it; a later run finds the key through it."""
    from res_support import apply, desired, plan, teardown

    document: dict[str, Any] = {"keys": {"data": {"policy": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "kms:*", "Resource": "*"}]}}}}
    apply(backend, document)
    document["keys"]["data"]["pending_deletion"] = True
    apply(backend, document)
    [key] = tagged_keys(backend, "data")
    own = "alias/orchestrate/res/default/data"
    assert key["KeyState"] == "PendingDeletion" and alias_target(backend, own) == key["KeyId"]
    backend.log.clear()

    assert plan(backend, document).pending == []
    assert "ListKeys" not in [operation for _, operation, _ in backend.log.calls]
    teardown(backend, document)
    assert alias_target(backend, own) is None
    assert desired(document).keys["data"].pending_deletion


def test_ownership_aliases_are_valid_and_distinct() -> None:
    """KMS API Reference, CreateAlias: AliasName `^alias/[a-zA-Z0-9/_-]+$`, at most 256."""
    import re

    names = ["data", "a.b", "a_2eb", "a@b", "a+b=c,d", "x" * 64]
    aliases = {RunContext(None, scenario, run_id=run).ownership_alias(name)  # type: ignore[arg-type]
               for scenario in ("s", "s.t") for run in (None, "r1", "r/1", "é" * 100) for name in names}
    assert len(aliases) == 2 * 4 * len(names)
    assert all(re.fullmatch(r"alias/[a-zA-Z0-9/_-]+", a) and len(a) <= 256 for a in aliases)
    assert all(a.startswith(OWNERSHIP_ALIAS_PREFIX) for a in aliases)
