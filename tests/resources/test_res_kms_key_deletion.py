"""Key deletion as a state (`keys.NAME.pending_deletion`), orchestrator/resources/kms_key.py.

AWS KMS Developer Guide, "Deleting AWS KMS keys" and "Key states of AWS KMS keys"; API Reference,
ScheduleKeyDeletion (PendingWindowInDays) and CancelKeyDeletion ("When this operation succeeds,
the key state of the KMS key is Disabled"). The embedded backend runs with its gate here, so that
orchestrate's own calls meet KMS's key-state rules (TagResource, EnableKey... refused on a key
pending deletion), which moto alone does not enforce.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from res_support import (
    ACCOUNT_ADMIN, REGION, actions, apply, context, desired, doc, key_statement, key_tags, live_key,
    mutating_ops, pending, plan, tagged_keys, teardown,
)

from orchestrator.backends.base import is_mutating
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources.kms_key import TAG_PENDING

ROOT = Path(__file__).resolve().parents[2]
TESTER = key_statement("TesterUse", "user:tester", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"])


@pytest.fixture
def gated():
    """moto in-process with the authorization gate, which applies KMS's key-state rules."""
    created = EmbeddedBackend(REGION)
    try:
        yield created
    finally:
        created.close()


def scenario(**key_overrides: Any) -> dict[str, Any]:
    key: dict[str, Any] = {"deletion_window_days": 8, "aliases": ["alias/ledger-data"], "policy": doc(ACCOUNT_ADMIN, TESTER)}
    key.update(key_overrides)
    return {
        "users": {"tester": {"managed_policies": ["AmazonDynamoDBFullAccess"]}},
        "keys": {"data": key},
        "tables": {"ledger": {"partition_key": {"name": "id"}, "encryption": "key:data", "items": [{"id": "e-1"}]}},
    }


def kms_mutations(backend: EmbeddedBackend) -> list[str]:
    return [operation for service, operation, _ in backend.log.mutating() if service == "kms"]


def key_state(backend: EmbeddedBackend, key_id: str) -> dict[str, Any]:
    return backend.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]


def changes(result: Any, address: str = "kms_key.data") -> dict[str, tuple[Any, Any]]:
    change = next(c for c in result.changes if c.address == address)
    return {p.path: (p.before, p.after) for p in change.properties}


def drift_of(backend: EmbeddedBackend, document: dict[str, Any]) -> dict[str, tuple[Any, Any, bool]]:
    found = [d for pair in observe_all(context(backend), desired(document)) for d in differences(pair)]
    return {f"{d.resource}.{d.path}": (d.expected, d.actual, d.widens_access) for d in found}


# ---- plan and apply ---------------------------------------------------------------------------

def test_scheduling_plans_the_change_and_applies_schedule_key_deletion_with_the_window(gated):
    """Plan: `~ pending_deletion: false -> true` (and `enabled: true -> false`: a key pending
    deletion is not enabled). Apply: the mark, then ScheduleKeyDeletion(PendingWindowInDays=8),
    no DisableKey; the table's items are no longer compared (unreadable)."""
    apply(gated, scenario())
    key_id = live_key(gated, "data")["KeyId"]
    gated.log.clear()

    planned = plan(gated, scenario(pending_deletion=True))
    assert changes(planned) == {"pending_deletion": (False, True), "enabled": (True, False)}
    assert pending(planned) == {"kms_key.data": ["enabled", "pending_deletion"]}

    apply(gated, scenario(pending_deletion=True))

    assert mutating_ops(gated) == ["TagResource", "ScheduleKeyDeletion"]
    metadata = key_state(gated, key_id)
    assert metadata["KeyState"] == "PendingDeletion"
    assert abs(metadata["DeletionDate"] - (datetime.now(timezone.utc) + timedelta(days=8))) < timedelta(hours=1)
    assert key_tags(gated, key_id)[TAG_PENDING] == "true"


def test_a_key_scheduled_by_a_state_is_still_the_scenarios_key_and_reapply_makes_no_call(gated):
    """The key pending deletion is found (not taken for gone, not created anew): re-apply and
    plan are clean, and there is still exactly one key of that name."""
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    gated.log.clear()

    result = apply(gated, scenario(pending_deletion=True))

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(gated) == []
    assert pending(plan(gated, scenario(pending_deletion=True))) == {}
    assert [k["KeyState"] for k in tagged_keys(gated, "data")] == ["PendingDeletion"]


def test_cancelling_comes_back_disabled_then_enabled_only_when_declared(gated):
    """CancelKeyDeletion leaves the key Disabled (as AWS does); `enabled: true` adds EnableKey after
    it, and the plan shows both changes. With `enabled: false` the key stays Disabled."""
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    key_id = tagged_keys(gated, "data")[0]["KeyId"]
    gated.log.clear()

    stay_disabled = scenario(pending_deletion=False, enabled=False)
    assert changes(plan(gated, stay_disabled)) == {"pending_deletion": (True, False)}
    apply(gated, stay_disabled)
    assert mutating_ops(gated) == ["CancelKeyDeletion", "UntagResource"]
    assert key_state(gated, key_id)["KeyState"] == "Disabled"
    assert TAG_PENDING not in key_tags(gated, key_id)

    apply(gated, scenario(pending_deletion=True))
    gated.log.clear()
    enabled = scenario(pending_deletion=False, enabled=True)
    assert changes(plan(gated, enabled)) == {"pending_deletion": (True, False), "enabled": (False, True)}
    apply(gated, enabled)
    assert mutating_ops(gated) == ["CancelKeyDeletion", "UntagResource", "EnableKey"]
    assert key_state(gated, key_id)["KeyState"] == "Enabled"
    assert live_key(gated, "data")["KeyId"] == key_id
    assert pending(plan(gated, enabled)) == {}


def test_a_key_created_pending_deletion_is_scheduled_after_its_setup(gated):
    """A first apply straight into a state with `pending_deletion: true`: CreateKey and its
    aliases first (CreateAlias fails on a key pending deletion), ScheduleKeyDeletion last."""
    document = scenario(pending_deletion=True)
    del document["tables"]  # a table cannot be created under a key pending deletion

    apply(gated, document)

    calls = kms_mutations(gated)
    # the ownership alias (kms_key.py) first, then the declared one
    assert calls == ["CreateKey", "CreateAlias", "CreateAlias", "TagResource", "ScheduleKeyDeletion"]
    assert [k["KeyState"] for k in tagged_keys(gated, "data")] == ["PendingDeletion"]
    assert pending(plan(gated, document)) == {}


def test_policy_change_and_schedule_in_one_state(gated):
    """PutKeyPolicy goes before ScheduleKeyDeletion, and a later state that changes only the policy
    of a key still pending deletion works (PutKeyPolicy is allowed in PendingDeletion)."""
    apply(gated, scenario())
    gated.log.clear()
    narrowed = scenario(pending_deletion=True, policy=doc(ACCOUNT_ADMIN))

    apply(gated, narrowed)
    calls = mutating_ops(gated)
    assert calls.index("PutKeyPolicy") < calls.index("ScheduleKeyDeletion")

    gated.log.clear()
    apply(gated, scenario(pending_deletion=True))
    assert mutating_ops(gated) == ["PutKeyPolicy"]


# ---- drift ------------------------------------------------------------------------------------

def desired_key(backend: EmbeddedBackend) -> Any:
    from orchestrator.resources.kms_key import KmsKey
    return KmsKey().desired(context(backend), desired(scenario()), "data")


def test_drift_reports_a_schedule_out_of_band_as_narrowing(gated):
    """A deletion scheduled out of band, without orchestrate's mark: for the scenario the key is
    gone (MISSING, as before this feature: keys that destroy scheduled look the same), which
    widens nothing."""
    apply(gated, scenario())
    gated.client("kms").schedule_key_deletion(KeyId=live_key(gated, "data")["KeyId"], PendingWindowInDays=7)

    assert drift_of(gated, scenario())["kms_key.data."] == (desired_key(gated), None, False)


def test_drift_of_a_marked_key_scheduled_out_of_band_narrows_and_a_cancel_does_not_widen(gated):
    """A key of the scenario scheduled out of band (after a state cancelled it, say): the drift is
    `pending_deletion` and `enabled`, neither widening. A cancel out of band leaves the key
    Disabled: `pending_deletion` differs, not widening; enabling it too is the widening part."""
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    kms = gated.client("kms")
    key_id = tagged_keys(gated, "data")[0]["KeyId"]

    kms.cancel_key_deletion(KeyId=key_id)  # out of band; the mark stays (a stale mark)
    found = drift_of(gated, scenario(pending_deletion=True))
    assert found["kms_key.data.pending_deletion"] == (True, False, False)
    assert "kms_key.data.enabled" not in found

    kms.enable_key(KeyId=key_id)
    assert drift_of(gated, scenario(pending_deletion=True))["kms_key.data.enabled"] == (False, True, True)

    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)  # out of band, the mark still on
    found = drift_of(gated, scenario())
    assert found["kms_key.data.pending_deletion"] == (False, True, False)
    assert found["kms_key.data.enabled"] == (True, False, False)


# ---- destroy ----------------------------------------------------------------------------------

def test_destroy_of_a_key_pending_deletion_leaves_it_scheduled_and_gone(gated):
    """Destroy does not fail on a key a state scheduled: aliases go, the deletion is cancelled,
    the mark removed and the deletion scheduled again with the window, so that the key then
    counts as gone and the next plan creates a new one."""
    document = scenario(pending_deletion=True)
    apply(gated, scenario())
    apply(gated, document)
    key_id = tagged_keys(gated, "data")[0]["KeyId"]
    gated.log.clear()

    result = teardown(gated, document)

    assert actions(result)["kms_key.data"] == "delete"
    # the declared alias, then the ownership alias (kms_key.py)
    assert kms_mutations(gated) == ["DeleteAlias", "DeleteAlias", "CancelKeyDeletion", "UntagResource", "ScheduleKeyDeletion"]
    assert key_state(gated, key_id)["KeyState"] == "PendingDeletion"
    assert TAG_PENDING not in key_tags(gated, key_id)
    assert actions(plan(gated, scenario()))["kms_key.data"] == "create"


def test_destroy_removes_a_stale_mark_before_scheduling(gated):
    """A live key that still carries the mark (a cancel out of band, or an apply stopped between
    CancelKeyDeletion and UntagResource) is unmarked first, so that destroy's key counts as gone."""
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    key_id = tagged_keys(gated, "data")[0]["KeyId"]
    gated.client("kms").cancel_key_deletion(KeyId=key_id)

    teardown(gated, scenario())

    assert TAG_PENDING not in key_tags(gated, key_id)
    assert actions(plan(gated, scenario()))["kms_key.data"] == "create"


# ---- faults: a failure at each call converges on the next apply ------------------------------

def failing_at(backend: EmbeddedBackend, operation: str) -> Any:
    def observer(service: str, name: str, params: dict[str, Any]) -> None:
        if name == operation:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, name)
    return backend.observe(observer)


@pytest.mark.parametrize("operation", ["TagResource", "ScheduleKeyDeletion"])
def test_a_failed_schedule_converges_on_the_next_apply(gated, operation):
    apply(gated, scenario())
    undo = failing_at(gated, operation)
    with pytest.raises(ClientError):
        apply(gated, scenario(pending_deletion=True))
    undo()
    assert changes(plan(gated, scenario(pending_deletion=True)))["pending_deletion"] == (False, True)

    apply(gated, scenario(pending_deletion=True))

    assert [k["KeyState"] for k in tagged_keys(gated, "data")] == ["PendingDeletion"]
    assert pending(plan(gated, scenario(pending_deletion=True))) == {}


@pytest.mark.parametrize("operation", ["CancelKeyDeletion", "UntagResource", "EnableKey"])
def test_a_failed_cancel_converges_on_the_next_apply(gated, operation):
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    rescued = scenario(pending_deletion=False, enabled=True)
    undo = failing_at(gated, operation)
    with pytest.raises(ClientError):
        apply(gated, rescued)
    undo()

    apply(gated, rescued)

    assert live_key(gated, "data")["KeyState"] == "Enabled"
    assert len(tagged_keys(gated, "data")) == 1
    assert pending(plan(gated, rescued)) == {}
    teardown(gated, rescued)
    assert actions(plan(gated, rescued))["kms_key.data"] == "create"


SHIPPED = ROOT / "scenarios" / "key-pending-deletion.yaml"


def mutating_calls_after_first_state(loaded: Any) -> int:
    backend = EmbeddedBackend(REGION)
    try:
        ctx = context(backend, scenario=loaded.scenario.name)
        from orchestrator.reconcile.apply import apply_state
        apply_state(ctx, loaded.desired[0], "first")
        backend.log.clear()
        for index in range(1, len(loaded.desired)):
            apply_state(context(backend, scenario=loaded.scenario.name), loaded.desired[index], f"s{index}")
        return len(backend.log.mutating())
    finally:
        backend.close()


LOADED = load_scenario(SHIPPED)
DELETION_CALLS = mutating_calls_after_first_state(LOADED)


def test_the_shipped_scenario_schedules_and_cancels_with_five_mutating_calls():
    """TagResource + ScheduleKeyDeletion, then CancelKeyDeletion + UntagResource + EnableKey."""
    assert DELETION_CALLS == 5


@pytest.mark.parametrize("k", range(1, DELETION_CALLS + 1))
def test_the_shipped_scenario_interrupted_at_each_deletion_call_converges(k):
    from orchestrator.reconcile.apply import apply_state
    from orchestrator.reconcile.observe import plan_state

    backend = EmbeddedBackend(REGION)
    name = LOADED.scenario.name
    try:
        apply_state(context(backend, scenario=name), LOADED.desired[0], "first")
        seen = {"n": 0}

        def interrupt(service: str, operation: str, params: dict[str, Any]) -> None:
            if is_mutating(operation):
                seen["n"] += 1
                if seen["n"] == k:
                    raise RuntimeError(f"interrupted at {operation}")

        undo = backend.observe(interrupt)
        with pytest.raises(RuntimeError):
            for index in range(1, len(LOADED.desired)):
                apply_state(context(backend, scenario=name), LOADED.desired[index], f"s{index}")
        undo()
        for index in range(len(LOADED.desired)):
            apply_state(context(backend, scenario=name), LOADED.desired[index], f"again{index}")
        assert plan_state(context(backend, scenario=name), LOADED.desired[-1], "check").pending == []
        assert [k["KeyState"] for k in tagged_keys(backend, "data", scenario=name)] == ["Enabled"]
    finally:
        backend.close()


# ---- the gate: key-state for orchestrate's calls and the principals' ---------------------------

def test_gate_refuses_tagging_and_describing_a_key_pending_deletion(gated):
    """KMS Developer Guide, "Key states of AWS KMS keys": TagResource, UntagResource and
    UpdateKeyDescription fail with KMSInvalidStateException "<key ARN> is pending deletion."."""
    apply(gated, scenario())
    apply(gated, scenario(pending_deletion=True))
    key = tagged_keys(gated, "data")[0]
    kms = gated.client("kms")
    for call in (lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "a", "TagValue": "b"}]),
                 lambda: kms.untag_resource(KeyId=key["KeyId"], TagKeys=["a"]),
                 lambda: kms.update_key_description(KeyId=key["KeyId"], Description="x")):
        with pytest.raises(ClientError) as excinfo:
            call()
        error = excinfo.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("KMSInvalidStateException", f"{key['Arn']} is pending deletion.")


def test_gate_refuses_to_cancel_a_key_that_is_not_pending_deletion(gated):
    """KMS "Key states" table: CancelKeyDeletion on an Enabled or Disabled key fails with
    KMSInvalidStateException "<key ARN> is not pending deletion." (moto would disable the key)."""
    apply(gated, scenario())
    key = live_key(gated, "data")
    with pytest.raises(ClientError) as excinfo:
        gated.client("kms").cancel_key_deletion(KeyId=key["KeyId"])
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("KMSInvalidStateException", f"{key['Arn']} is not pending deletion.")
    assert key_state(gated, key["KeyId"])["KeyState"] == "Enabled"


def test_gate_denies_reads_of_a_table_under_a_key_pending_deletion(gated):
    """A principal whose policies allow: kms:Decrypt answers KMSInvalidStateException, DynamoDB
    GetItem AccessDeniedException wrapping it; both decided by the key-state layer."""
    apply(gated, scenario())
    kms, iam = gated.client("kms"), gated.client("iam")
    key = live_key(gated, "data")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"probe")["CiphertextBlob"]
    secret = iam.create_access_key(UserName="tester")["AccessKey"]
    apply(gated, scenario(pending_deletion=True))
    try:
        credentials = {"aws_access_key_id": secret["AccessKeyId"], "aws_secret_access_key": secret["SecretAccessKey"]}
        tester_kms = _client(gated, "kms", credentials)
        with pytest.raises(ClientError) as excinfo:
            tester_kms.decrypt(CiphertextBlob=blob)
        assert excinfo.value.response["Error"]["Code"] == "KMSInvalidStateException"
        assert excinfo.value.response["Error"]["Message"] == f"{key['Arn']} is pending deletion."
        with pytest.raises(ClientError) as excinfo:
            _client(gated, "dynamodb", credentials).get_item(TableName="ledger", Key={"id": {"S": "e-1"}})
        error = excinfo.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert f"KMSInvalidStateException: {key['Arn']} is pending deletion." in error["Message"]
    finally:
        iam.delete_access_key(UserName="tester", AccessKeyId=secret["AccessKeyId"])


def _client(backend: EmbeddedBackend, service: str, credentials: dict[str, str]) -> Any:
    from orchestrator.backends.base import Credentials
    return backend.client(service, Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"]))


# ---- the model --------------------------------------------------------------------------------

def test_pending_deletion_must_be_a_boolean_with_a_located_error(tmp_path):
    source = (SHIPPED.read_text().replace("          pending_deletion: true", '          pending_deletion: "yes"'))
    path = tmp_path / "bad.yaml"
    path.write_text(source)
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    text = str(excinfo.value)
    line = next(n for n, l in enumerate(source.splitlines(), 1) if '"yes"' in l)
    assert f"bad.yaml:{line}:" in text and "pending_deletion" in text


def test_state_of_a_declared_key():
    base = copy.deepcopy(scenario())
    key = desired(base).keys["data"]
    assert (key.state, key.usable) == ("Enabled", True)
    assert desired(scenario(enabled=False)).keys["data"].state == "Disabled"
    pending_key = desired(scenario(pending_deletion=True, enabled=True)).keys["data"]
    assert (pending_key.state, pending_key.usable) == ("PendingDeletion", False)
