"""Key management expectations (orchestrator/prove/key_management.py) on the embedded backend:
each is a real call made by the principal, allowed or denied as the key policy says (and as the
engine predicts), and the key is left exactly as the state declares it: the same policy text,
KeyState, Enabled flag, tags and grants. An undo AWS refuses is the run's failure, naming what is
left.

KMS Developer Guide, "Default key policy", "Key states of AWS KMS keys", "Deleting AWS KMS keys"
(a cancelled deletion leaves the key Disabled); KMS API Reference for each operation.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main

SCENARIO = """\
name: km
users:
  admin: {}
  user: {}
keys:
  data:
    aliases: [alias/orders]
    tags: {team: data}
    enabled: ENABLED
    pending_deletion: PENDING
    policy:
      Statement:
        - Sid: KeyAdministrators
          Effect: Allow
          Principal: {AWS: "user:admin"}
          Action: [kms:ScheduleKeyDeletion, kms:CancelKeyDeletion, kms:PutKeyPolicy, kms:GetKeyPolicy, kms:DisableKey,
                   kms:EnableKey, kms:TagResource, kms:ListGrants, kms:RevokeGrant, kms:DescribeKey]
          Resource: "*"
        - Sid: UseThroughTheAlias
          Effect: Allow
          Principal: {AWS: "user:user"}
          Action: [kms:Encrypt, kms:Decrypt]
          Resource: "*"
          Condition: {StringLike: {kms:RequestAlias: "alias/*orders"}}
states:
  - name: s
    expectations: EXPECTATIONS
"""
MANAGEMENT = ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DisableKey", "kms:EnableKey",
              "kms:TagResource", "kms:ListGrants", "kms:RevokeGrant"]


def write(tmp_path: Path, expectations: list[str], enabled: bool = True, pending: bool = False, text: str = SCENARIO) -> str:
    path = tmp_path / "km.yaml"
    listed = "[" + ", ".join(expectations) + "]" if expectations else "[]"
    path.write_text(text.replace("EXPECTATIONS", listed).replace("ENABLED", str(enabled).lower())
                    .replace("PENDING", str(pending).lower()))
    return str(path)


def key_snapshot(backend: EmbeddedBackend) -> dict[str, Any]:
    """What the state declares of the key, as KMS answers it (DeletionDate aside: a re-scheduled
    deletion's date moves on)."""
    kms = backend.client("kms")
    [key_id] = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    return {
        "KeyState": metadata["KeyState"], "Enabled": metadata["Enabled"],
        "Policy": kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"],
        "Tags": sorted((t["TagKey"], t["TagValue"]) for t in kms.list_resource_tags(KeyId=key_id)["Tags"]),
        "Grants": kms.list_grants(KeyId=key_id)["Grants"],
    }


def proved(backend: EmbeddedBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str], expectation: str,
           enabled: bool = True, pending: bool = False, text: str = SCENARIO) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The key as the state declares it (applied with no expectation), the verdict, and the key
    after the expectation was proved in the same world."""
    assert main(["apply", write(tmp_path, [], enabled, pending, text), "--quiet"]) == 0
    capsys.readouterr()
    before = key_snapshot(backend)
    code = main(["apply", write(tmp_path, [expectation], enabled, pending, text), "--output", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    [verdict] = report["states"][0]["expectations"]
    return before, verdict, key_snapshot(backend)


@pytest.mark.parametrize("action", MANAGEMENT)
def test_an_allowed_management_call_leaves_the_key_as_declared(backend: EmbeddedBackend, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], action: str) -> None:
    before, verdict, after = proved(backend, tmp_path, capsys, f"{{as: admin, action: {action}, resource: key:data, expect: allowed}}")
    assert (verdict["actual"], verdict["predicted"]) == ("allowed", "allowed")
    assert after == before and before["KeyState"] == "Enabled" and before["Grants"] == []


@pytest.mark.parametrize("action", MANAGEMENT)
def test_a_denied_management_call_is_the_key_policys_and_changes_nothing(backend: EmbeddedBackend, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str], action: str) -> None:
    before, verdict, after = proved(backend, tmp_path, capsys,
                                    f"{{as: user, action: {action}, resource: key:data, expect: denied, layer: key-policy}}")
    assert (verdict["actual"], verdict["predicted"], verdict["error_code"]) == ("denied", "denied", "AccessDeniedException")
    assert after == before  # RevokeGrant's throwaway grant is revoked by orchestrate


@pytest.mark.parametrize("principal, outcome", [("admin", "allowed"), ("user", "denied")])
def test_cancel_key_deletion_is_undone_by_scheduling_it_again(backend: EmbeddedBackend, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str], principal: str, outcome: str) -> None:
    before, verdict, after = proved(backend, tmp_path, capsys, f"{{as: {principal}, action: kms:CancelKeyDeletion,"
                                    f" resource: key:data, expect: {outcome}}}", pending=True)
    assert (verdict["actual"], verdict["predicted"]) == (outcome, outcome)
    assert after == before and before["KeyState"] == "PendingDeletion"
    assert ("orchestrate:pending-deletion", "true") in after["Tags"]  # still the scenario's key, scheduled by a state


def test_disable_key_on_a_key_pending_deletion_is_a_key_state_denial(backend: EmbeddedBackend, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before, verdict, after = proved(backend, tmp_path, capsys, "{as: admin, action: kms:DisableKey, resource: key:data,"
                                    " expect: denied, error: KMSInvalidStateException, layer: key-state}", pending=True)
    assert (verdict["actual"], verdict["predicted"], verdict["layer"]) == ("denied", "denied", "key-state")
    assert after == before


@pytest.mark.parametrize("action", ["kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion"])
def test_a_key_declared_disabled_stays_disabled(backend: EmbeddedBackend, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str], action: str) -> None:
    before, verdict, after = proved(backend, tmp_path, capsys, f"{{as: admin, action: {action}, resource: key:data,"
                                    " expect: allowed}", enabled=False)
    assert verdict["actual"] == "allowed"
    assert after == before and (before["KeyState"], before["Enabled"]) == ("Disabled", False)


def test_a_declared_tag_of_the_probes_name_gets_its_value_back(backend: EmbeddedBackend, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    text = SCENARIO.replace("{team: data}", "{team: data, orchestrate-probe: kept}")
    before, verdict, after = proved(backend, tmp_path, capsys, "{as: admin, action: kms:TagResource, resource: key:data,"
                                    " expect: allowed}", text=text)
    assert verdict["actual"] == "allowed" and after == before and ("orchestrate-probe", "kept") in after["Tags"]


def refuse(backend: EmbeddedBackend, operation: str) -> None:
    """orchestrate's own (admin) call ``operation`` is refused; the principals' calls go on."""
    def observer(_service: str, called: str, _params: dict[str, Any]) -> None:
        if called == operation:
            raise ClientError({"Error": {"Code": "KMSInternalException", "Message": f"{operation} refused for the test"}}, operation)
    backend.observe(observer)


@pytest.mark.parametrize("action, refused, left", [
    ("kms:ScheduleKeyDeletion", "CancelKeyDeletion", "key:data ({arn}) is left PendingDeletion, scheduled by the principal's call"),
    ("kms:DisableKey", "EnableKey", "key:data ({arn}) is left Disabled, declared enabled"),
    ("kms:TagResource", "UntagResource", "key:data ({arn}) is left with the tag orchestrate-probe"),
])
def test_an_undo_that_fails_is_a_run_error_naming_what_is_left(backend: EmbeddedBackend, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], action: str,
                                                               refused: str, left: str) -> None:
    assert main(["apply", write(tmp_path, []), "--quiet"]) == 0
    capsys.readouterr()
    kms = backend.client("kms")
    [arn] = [k["KeyArn"] for k in kms.list_keys()["Keys"]]
    refuse(backend, refused)
    code = main(["apply", write(tmp_path, [f"{{as: admin, action: {action}, resource: key:data, expect: allowed}}"]),
                 "--output", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert report["error"] == (f"state s: orchestrate could not undo an allowed key management call: its {refused} failed"
                               f" with KMSInternalException: {refused} refused for the test; left: {left.format(arn=arn)}")


def test_a_denied_revoke_grant_whose_grant_cannot_be_revoked_names_the_grant(backend: EmbeddedBackend, tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", write(tmp_path, []), "--quiet"]) == 0
    capsys.readouterr()
    # the principal's RevokeGrant is denied by the gate before moto sees it; orchestrate's is refused here
    refuse(backend, "RevokeGrant")
    code = main(["apply", write(tmp_path, ["{as: user, action: kms:RevokeGrant, resource: key:data, expect: denied}"]),
                 "--output", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and "left: the throwaway grant " in report["error"] and "on key:data" in report["error"]


@pytest.mark.parametrize("expectation, outcome", [
    ("{as: user, action: kms:Encrypt, resource: alias:orders, expect: allowed}", "allowed"),
    ("{as: user, action: kms:Decrypt, resource: alias:orders, expect: allowed}", "allowed"),
    ("{as: user, action: kms:Encrypt, resource: key:data, expect: denied, layer: key-policy}", "denied"),
    ("{as: admin, action: kms:DescribeKey, resource: alias:orders, expect: allowed}", "allowed"),
])
@pytest.mark.parametrize("run_id", [None, "r7"])
def test_an_alias_resource_calls_through_the_physical_alias_setting_request_alias(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], expectation: str, outcome: str, run_id: str | None) -> None:
    options = ["--run-id", run_id] if run_id else []
    assert main(["apply", write(tmp_path, [expectation]), "--output", "json", "--quiet", *options]) == 0
    [verdict] = json.loads(capsys.readouterr().out)["states"][0]["expectations"]
    assert (verdict["actual"], verdict["predicted"]) == (outcome, outcome)


def test_the_alias_call_names_the_alias_the_key_reconciler_creates() -> None:
    from orchestrator.model.scenario import DesiredState, Expectation
    from orchestrator.prove.calls import Probes, call_for
    from orchestrator.resources.context import RunContext

    class Backend:
        account_id, region = "123456789012", "us-east-1"

    desired = DesiredState.model_validate(json.loads(json.dumps({"keys": {"data": {
        "aliases": ["alias/orders"], "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "account"},
                                                               "Action": "kms:*", "Resource": "*"}]}}}})))
    ctx = RunContext(Backend(), "km", run_id="r7")  # type: ignore[arg-type]
    ctx.known["key:data"] = "arn:aws:kms:us-east-1:123456789012:key/k-1"
    expectation = Expectation.model_validate({"as": "u", "action": "kms:Encrypt", "resource": "alias:orders", "expect": "allowed"})
    spec = call_for(ctx, desired, expectation, Probes(ctx))
    assert spec.params["KeyId"] == "alias/r7-orders"


def test_batch_get_item_reads_through_the_key_as_get_item_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SCENARIO.replace("states:", """tables:
  orders:
    partition_key: {name: order_id, type: S}
    encryption: key:data
    items: [{order_id: o-1}]
states:""").replace("kms:DescribeKey]", "kms:DescribeKey, kms:Decrypt]")
    path = tmp_path / "batch.yaml"
    path.write_text(text.replace("EXPECTATIONS", "[" + ", ".join([
        "{as: admin, action: dynamodb:BatchGetItem, resource: table:orders, key: {order_id: o-1}, expect: denied,"
        " layer: identity-policy}",
    ]) + "]").replace("ENABLED", "true").replace("PENDING", "false")
        .replace("  admin: {}", "  admin: {inline_policies: {read: {Statement: [{Effect: Allow, Action: dynamodb:GetItem,"
                                " Resource: table:orders}]}}}"))
    assert main(["apply", str(path), "--output", "json", "--quiet"]) == 0
    [verdict] = json.loads(capsys.readouterr().out)["states"][0]["expectations"]
    assert (verdict["actual"], verdict["predicted"], verdict["layer"]) == ("denied", "denied", "identity-policy")
    allowed = path.read_text().replace("Action: dynamodb:GetItem", "Action: [dynamodb:GetItem, dynamodb:BatchGetItem]").replace(
        "expect: denied,\n layer: identity-policy", "expect: allowed").replace("expect: denied, layer: identity-policy", "expect: allowed")
    path.write_text(allowed)
    assert main(["apply", str(path), "--output", "json", "--quiet"]) == 0
    [verdict] = json.loads(capsys.readouterr().out)["states"][0]["expectations"]
    assert (verdict["actual"], verdict["predicted"]) == ("allowed", "allowed")


def test_a_decrypt_through_the_alias_in_a_disabled_state_uses_a_ciphertext_made_before(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [])
    Path(path).write_text(Path(path).read_text() + """  - name: disabled
    patch: {keys: {data: {enabled: false}}}
    expectations:
      - {as: user, action: kms:Decrypt, resource: alias:orders, expect: denied, error: DisabledException, layer: key-state}
""")
    assert main(["apply", path, "--output", "json", "--quiet"]) == 0
    [verdict] = json.loads(capsys.readouterr().out)["states"][1]["expectations"]
    assert (verdict["actual"], verdict["predicted"], verdict["error_code"]) == ("denied", "denied", "DisabledException")
