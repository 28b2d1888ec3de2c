"""KMS keys (orchestrator/resources/kms_key.py) against moto through the embedded backend.

AWS KMS API Reference: CreateKey, DescribeKey, GetKeyPolicy/PutKeyPolicy, CreateAlias/DeleteAlias,
EnableKey/DisableKey, EnableKeyRotation/GetKeyRotationStatus, TagResource/UntagResource,
UpdateKeyDescription, ScheduleKeyDeletion.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from res_support import (
    ACCOUNT, ACCOUNT_ADMIN, actions, allow, apply, context, desired, doc, key_policy, key_statement,
    live_key, mutating_ops, ownership, pending, plan, statements_by_sid, tagged_keys, teardown,
)

from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.observe import plan_state
from orchestrator.reconcile.plan import Action
from orchestrator.resources.lockout import MANAGEMENT_SID

ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"


def scenario(**key_overrides: object) -> dict:
    """One user, one key whose policy names that user (so the user must exist first)."""
    key = {
        "description": "orders key",
        "aliases": ["alias/orders-data"],
        "rotation": True,
        "deletion_window_days": 9,
        "tags": {"team": "security"},
        "policy": doc(key_statement("KeyAdministration", "user:admin")),
    }
    key.update(key_overrides)
    return {"users": {"admin": {}}, "keys": {"data": key}}


def test_create_key_has_declared_properties(backend):
    """CreateKey (Description, KeySpec, KeyUsage, Policy, Tags), CreateAlias, EnableKeyRotation,
    DisableKey: the key exists with each declared property, references resolved to ARNs."""
    document = scenario()
    document["keys"]["cold"] = {"description": "disabled at birth", "enabled": False, "policy": doc(ACCOUNT_ADMIN)}

    result = apply(backend, document)

    assert actions(result)["kms_key.data"] == "create"
    assert actions(result)["kms_key.cold"] == "create"
    kms = backend.client("kms")
    data = live_key(backend, "data")
    assert (data["Description"], data["KeyState"], data["KeySpec"], data["KeyUsage"]) == (
        "orders key", "Enabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert kms.get_key_rotation_status(KeyId=data["KeyId"])["KeyRotationEnabled"] is True
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=data["KeyId"])["Aliases"] if not a["AliasName"].startswith("alias/orchestrate/")] == ["alias/orders-data"]
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=data["KeyId"])["Tags"]}
    assert tags == {"team": "security", **ownership("data")}
    statements = statements_by_sid(key_policy(backend, data["KeyId"]))
    assert set(statements) == {"KeyAdministration", MANAGEMENT_SID}
    assert statements["KeyAdministration"]["Principal"]["AWS"] in (ADMIN_ARN, [ADMIN_ARN])

    cold = live_key(backend, "cold")
    assert cold["KeyState"] == "Disabled"
    assert kms.get_key_rotation_status(KeyId=cold["KeyId"])["KeyRotationEnabled"] is False
    assert [a for a in kms.list_aliases(KeyId=cold["KeyId"])["Aliases"] if not a["AliasName"].startswith("alias/orchestrate/")] == []  # the ownership alias only


def test_second_apply_makes_no_mutating_call(backend):
    """Reading back DescribeKey/GetKeyPolicy/ListAliases/ListResourceTags/GetKeyRotationStatus
    must reproduce the desired properties exactly, so a second apply changes nothing."""
    document = scenario()
    apply(backend, document)
    backend.log.clear()

    result = apply(backend, document)

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []
    # The deletion window is write-only (not readable until deletion): changing it is no change.
    assert pending(plan(backend, scenario(deletion_window_days=30))) == {}


def _step(backend, document, expected_ops):
    backend.log.clear()
    result = apply(backend, document)
    assert actions(result)["kms_key.data"] == "update"
    assert mutating_ops(backend) == expected_ops
    assert pending(plan(backend, document)) == {}


def test_state_description_and_rotation_update_in_place(backend):
    """UpdateKeyDescription, DisableKey, EnableKey and EnableKeyRotation/DisableKeyRotation, one
    property at a time; the key keeps its ARN (an in-place update, not a replacement)."""
    document = scenario(rotation=False)
    apply(backend, document)
    kms = backend.client("kms")
    key_id = live_key(backend, "data")["KeyId"]

    document["keys"]["data"]["description"] = "orders key, v2"
    _step(backend, document, ["UpdateKeyDescription"])
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "orders key, v2"

    document["keys"]["data"]["enabled"] = False
    _step(backend, document, ["DisableKey"])
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"

    document["keys"]["data"]["enabled"] = True
    document["keys"]["data"]["rotation"] = True
    _step(backend, document, ["EnableKey", "EnableKeyRotation"])
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True

    document["keys"]["data"]["rotation"] = False
    _step(backend, document, ["DisableKeyRotation"])
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    assert live_key(backend, "data")["KeyId"] == key_id


def test_alias_tags_and_policy_update_in_place(backend):
    """DeleteAlias + CreateAlias for a rename, TagResource/UntagResource for tags (ownership tags
    untouched), PutKeyPolicy for an added statement (the management statement kept)."""
    document = scenario()
    apply(backend, document)
    kms = backend.client("kms")
    key_id = live_key(backend, "data")["KeyId"]

    document["keys"]["data"]["aliases"] = ["alias/orders-data-v2"]
    _step(backend, document, ["DeleteAlias", "CreateAlias"])
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"] if not a["AliasName"].startswith("alias/orchestrate/")] == ["alias/orders-data-v2"]
    assert "alias/orders-data" not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}

    document["keys"]["data"]["tags"] = {"team": "platform", "env": "lab"}
    _step(backend, document, ["TagResource"])
    document["keys"]["data"]["tags"] = {"env": "lab"}
    _step(backend, document, ["UntagResource"])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}
    assert tags == {"env": "lab", **ownership("data")}

    document["keys"]["data"]["policy"]["Statement"].append(key_statement("AccountRead", "account", "kms:DescribeKey"))
    _step(backend, document, ["PutKeyPolicy"])
    statements = statements_by_sid(key_policy(backend, key_id))
    assert set(statements) == {"KeyAdministration", "AccountRead", MANAGEMENT_SID}
    assert statements["AccountRead"]["Principal"]["AWS"] in (f"arn:aws:iam::{ACCOUNT}:root", [f"arn:aws:iam::{ACCOUNT}:root"])
    assert live_key(backend, "data")["KeyId"] == key_id


def _with_key_user(**key_overrides: object) -> dict:
    document = scenario(rotation=False, **key_overrides)
    document["users"]["reader"] = {"inline_policies": {"use-key": doc(allow("kms:Decrypt", "key:data"))}}
    return document


def test_spec_change_replaces_key(backend):
    """KeySpec cannot change in place (CreateKey only): plan shows REPLACE; apply schedules the old
    key for deletion, creates a new one, moves the alias, and re-resolves `key:data` elsewhere."""
    document = _with_key_user()
    apply(backend, document)
    old = live_key(backend, "data")

    document["keys"]["data"]["spec"] = "RSA_2048"
    planned = plan(backend, document)
    assert actions(planned)["kms_key.data"] == Action.REPLACE.value
    assert pending(planned)["kms_key.data"] == ["spec"]

    backend.log.clear()
    apply(backend, document)

    calls = mutating_ops(backend)
    assert calls.index("ScheduleKeyDeletion") < calls.index("CreateKey")
    kms = backend.client("kms")
    new = live_key(backend, "data")
    assert new["Arn"] != old["Arn"] and new["KeySpec"] == "RSA_2048"
    assert kms.describe_key(KeyId=old["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=new["KeyId"])["Aliases"] if not a["AliasName"].startswith("alias/orchestrate/")] == ["alias/orders-data"]
    inline = backend.client("iam").get_user_policy(UserName="reader", PolicyName="use-key")["PolicyDocument"]
    assert inline["Statement"][0]["Resource"] in (new["Arn"], [new["Arn"]])
    assert pending(plan(backend, document)) == {}


def test_plan_of_key_replacement_shows_dependents_changing(backend):
    """A plan must announce what apply will do: after a REPLACE of the key, whatever names
    `key:data` gets a new ARN ("known after apply"), as Terraform shows it."""
    document = _with_key_user()
    apply(backend, document)
    document["keys"]["data"]["spec"] = "RSA_2048"

    planned = actions(plan(backend, document))
    applied = actions(apply(backend, document))

    assert applied["iam_user_access.reader"] == "update"
    assert planned["iam_user_access.reader"] == applied["iam_user_access.reader"]


def test_destroy_schedules_deletion_with_scenario_window(backend):
    """ScheduleKeyDeletion(PendingWindowInDays) after DeleteAlias: the key ends PendingDeletion
    with DeletionDate about now + the scenario's window, and then counts as gone."""
    document = scenario(deletion_window_days=9)
    apply(backend, document)
    key = live_key(backend, "data")
    backend.log.clear()

    result = teardown(backend, document)

    assert actions(result)["kms_key.data"] == "delete"
    calls = mutating_ops(backend)
    assert calls.index("DeleteAlias") < calls.index("ScheduleKeyDeletion")
    metadata = backend.client("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    expected = datetime.now(timezone.utc) + timedelta(days=9)
    assert abs(metadata["DeletionDate"] - expected) < timedelta(hours=1)
    assert backend.client("kms").list_aliases(KeyId=key["KeyId"])["Aliases"] == []
    assert actions(plan(backend, document))["kms_key.data"] == "create"


def test_tags_changed_back_in_a_later_state_of_one_run(backend):
    """TagResource across policy states applied with one RunContext (commands/apply.py does this)."""
    ctx = context(backend)
    for team in ("a", "b", "a"):
        apply_state(ctx, desired(scenario(tags={"team": team})), f"team-{team}")

    key = live_key(backend, "data")
    tags = {t["TagKey"]: t["TagValue"] for t in backend.client("kms").list_resource_tags(KeyId=key["KeyId"])["Tags"]}
    assert tags["team"] == "a"


def test_pending_deletion_twin_does_not_shadow_live_key(backend):
    """DescribeKey KeyState PendingDeletion: such a key is gone for the scenario, whatever ListKeys order."""
    document = scenario()
    apply(backend, document)
    kms = backend.client("kms")
    twin = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in ownership("data").items()])["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=twin["KeyId"], PendingWindowInDays=7)
    assert len(tagged_keys(backend, "data")) == 2

    assert pending(plan(backend, document)) == {}


def test_plan_state_before_first_apply_is_all_create(backend):
    """plan_state reads only (Describe/List/Get): every resource is CREATE and nothing is mutated."""
    document = scenario()
    result = plan_state(context(backend), desired(document), "state")

    assert actions(result) == {"iam_user.admin": "create", "kms_key.data": "create", "iam_user_access.admin": "create"}
    assert mutating_ops(backend) == []
    assert backend.client("kms").list_keys()["Keys"] == []
    assert result.changes[1].after["aliases"] == ["alias/orders-data"]


def test_rotation_change_on_a_disabled_key(backend):
    """KMS Developer Guide, "Key states": EnableKeyRotation/DisableKeyRotation on a Disabled key fail
    with DisabledException. Emulated here from the call log (moto does not check key states)."""
    from botocore.exceptions import ClientError

    disabled: set[str] = set()

    def emulate(service, operation, params):
        key = str(params.get("KeyId", "")).rpartition("/")[2]
        if operation == "DisableKey":
            disabled.add(key)
        elif operation == "EnableKey":
            disabled.discard(key)
        elif operation in ("EnableKeyRotation", "DisableKeyRotation") and key in disabled:
            raise ClientError({"Error": {"Code": "DisabledException", "Message": f"{key} is disabled."}}, operation)

    backend.observe(emulate)
    document = scenario(enabled=False, rotation=False)
    apply(backend, document)
    document["keys"]["data"]["rotation"] = True

    apply(backend, document)

    key = live_key(backend, "data")
    assert key["KeyState"] == "Disabled"
    assert backend.client("kms").get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
