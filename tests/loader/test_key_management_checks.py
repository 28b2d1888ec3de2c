"""Key management and alias expectations at load time (orchestrator/loader/key_checks.py): each
bad use is refused at its file:line:col with its field path, before anything is applied.

KMS Developer Guide, "Key states of AWS KMS keys" (CancelKeyDeletion needs a key pending deletion;
CreateGrant, which orchestrate's throwaway grant for kms:RevokeGrant needs, fails on one) and
"Using aliases to control access to KMS keys" (which operations take an alias as KeyId).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.loader import ScenarioError, load_scenario

BASE = """\
name: km
users:
  tester: {}
keys:
  data:
    aliases: [alias/orders]
    pending_deletion: PENDING
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
tables:
  orders:
    partition_key: {name: order_id, type: S}
states:
  - name: s
    expectations:
      - EXPECTATION
"""


def load(tmp_path: Path, expectation: str, pending: bool = False) -> object:
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("EXPECTATION", expectation).replace("PENDING", str(pending).lower()))
    return load_scenario(path)


def at(expectation: str, field: str | None = None) -> str:
    """line:col of the expectation (line 15, col 9), or of one field's value in it."""
    return "15:9" if field is None else f"15:{9 + expectation.index(field + ': ') + len(field) + 2}"


def diagnostics(tmp_path: Path, expectation: str, pending: bool = False) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, expectation, pending)
    return [str(d).removeprefix(str(tmp_path / "scenario.yaml") + ":") for d in caught.value.diagnostics]


@pytest.mark.parametrize("action", ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DisableKey",
                                    "kms:EnableKey", "kms:TagResource", "kms:ListGrants", "kms:RevokeGrant"])
def test_management_actions_load_on_a_key(tmp_path: Path, action: str) -> None:
    load(tmp_path, f"{{as: tester, action: {action}, resource: key:data, expect: denied}}")


def test_cancel_key_deletion_needs_a_key_declared_pending_deletion(tmp_path: Path) -> None:
    expectation = "{as: tester, action: kms:CancelKeyDeletion, resource: key:data, expect: denied}"
    [problem] = diagnostics(tmp_path, expectation)
    assert problem.startswith(f"{at(expectation, 'action')}: kms:CancelKeyDeletion needs a key pending deletion; key 'data' is Enabled")
    assert problem.endswith("(at states[0].expectations[0].action)")
    load(tmp_path, expectation, pending=True)


def test_revoke_grant_is_refused_on_a_key_pending_deletion(tmp_path: Path) -> None:
    expectation = "{as: tester, action: kms:RevokeGrant, resource: key:data, expect: denied}"
    [problem] = diagnostics(tmp_path, expectation, pending=True)
    assert problem.startswith(f"{at(expectation, 'action')}: kms:RevokeGrant revokes a throwaway grant") and "pending deletion" in problem


def test_an_alias_must_be_declared_by_a_key(tmp_path: Path) -> None:
    expectation = "{as: tester, action: kms:Encrypt, resource: alias:billing, expect: denied}"
    [problem] = diagnostics(tmp_path, expectation)
    assert problem == (f"{at(expectation, 'resource')}: 'alias:billing' names no alias of a key of this scenario (aliases: orders)"
                       " (at states[0].expectations[0].resource)")
    load(tmp_path, "{as: tester, action: kms:Encrypt, resource: alias:orders, expect: denied}")


@pytest.mark.parametrize("action", ["kms:ScheduleKeyDeletion", "kms:GetKeyPolicy", "kms:CreateGrant"])
def test_an_operation_that_takes_no_alias_is_refused_on_one(tmp_path: Path, action: str) -> None:
    expectation = f"{{as: tester, action: {action}, resource: alias:orders, expect: denied}}"
    [problem] = diagnostics(tmp_path, expectation)
    assert problem == (f"{at(expectation, 'action')}: {action} takes no alias as KeyId (KMS API Reference: only the cryptographic operations,"
                       " DescribeKey and GetPublicKey do): use key:data (at states[0].expectations[0].action)")


def test_an_alias_is_not_a_table(tmp_path: Path) -> None:
    [problem] = diagnostics(tmp_path, "{as: tester, action: dynamodb:GetItem, resource: alias:orders, key: {order_id: o}, expect: denied}")
    assert "dynamodb:GetItem acts on a table, not a alias" in problem


def test_batch_get_item_needs_the_items_key(tmp_path: Path) -> None:
    [problem] = diagnostics(tmp_path, "{as: tester, action: dynamodb:BatchGetItem, resource: table:orders, expect: denied}")
    assert problem == "15:9: dynamodb:BatchGetItem needs `key`: the item's key attributes (at states[0].expectations[0])"
    load(tmp_path, "{as: tester, action: dynamodb:BatchGetItem, resource: table:orders, key: {order_id: o-1}, expect: denied}")


def test_a_management_action_takes_no_encryption_context(tmp_path: Path) -> None:
    [problem] = diagnostics(tmp_path, "{as: tester, action: kms:DisableKey, resource: key:data, encryption_context: {a: b},"
                                      " expect: denied}")
    assert "encryption_context applies only to" in problem and "not kms:DisableKey" in problem
