"""kms:RetireGrant expectations: the grant decides who may retire it, not the key policy.

AWS KMS Developer Guide, "Retiring and revoking grants"
(https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html): "The grant determines
who can retire it": its retiring principal, its grantee if the grant includes the RetireGrant
operation, and the AWS account in which it was created; "The kms:RetireGrant permission is not
effective in a key policy"; "To deny permission to retire a grant, you can use a Deny action with
the kms:RetireGrant permission in your IAM policies"; "The AWS account that owns the KMS key can
delegate the kms:RetireGrant permission to an IAM principal in the account". KMS API Reference,
"RetireGrant" ("Permission to retire a grant is determined primarily by the grant").

orchestrate creates a throwaway grant naming `as` its grantee and (unless `retiring: false`) its
retiring principal; the principal retires it; a denied retirement's grant is revoked by orchestrate.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.authz.engine.evaluate import Engine
from orchestrator.authz.engine.inputs import Grant, PolicyInputs, PolicySource
from orchestrator.authz.engine.request import Request
from orchestrator.authz.services.rules import SERVICE_RULES
from orchestrator.authz.gate.caller import caller_principal
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from tests.prove.test_key_management import refuse

SCENARIO = """\
name: rg
users:
  holder: {}
  denied:
    inline_policies:
      no-retiring:
        Statement:
          - {Effect: Deny, Action: kms:RetireGrant, Resource: "*"}
  delegate:
    inline_policies:
      retire-for-the-account:
        Statement:
          - {Effect: Allow, Action: kms:RetireGrant, Resource: "*"}
keys:
  data:
    pending_deletion: PENDING
    policy:
      Statement:
        - Sid: NotEffectiveForRetireGrant
          Effect: Allow
          Principal: {AWS: "user:holder"}
          Action: kms:RetireGrant
          Resource: "*"
states:
  - name: s
    expectations: EXPECTATIONS
"""


def write(tmp_path: Path, expectations: list[str], pending: bool = False) -> str:
    path = tmp_path / "rg.yaml"
    path.write_text(SCENARIO.replace("EXPECTATIONS", "[" + ", ".join(expectations) + "]")
                    .replace("PENDING", str(pending).lower()))
    return str(path)


def grants(backend: EmbeddedBackend) -> list[dict[str, Any]]:
    kms = backend.client("kms")
    [key_id] = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    return list(kms.list_grants(KeyId=key_id)["Grants"])


def proved(backend: EmbeddedBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str], expectation: str) -> dict[str, Any]:
    code = main(["apply", write(tmp_path, [expectation]), "--output", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 2), report
    [verdict] = report["states"][0]["expectations"]
    return dict(verdict)


@pytest.mark.parametrize("expectation, outcome, layer", [
    # the retiring principal needs no policy at all
    ("{as: holder, action: kms:RetireGrant, resource: key:data, expect: allowed}", "allowed", None),
    # the key policy's Allow of kms:RetireGrant is not effective: the grant does not name holder
    ("{as: holder, action: kms:RetireGrant, resource: key:data, retiring: false, expect: denied, layer: grant}",
     "denied", "grant"),
    # an IAM Deny of kms:RetireGrant applies even to the retiring principal
    ("{as: denied, action: kms:RetireGrant, resource: key:data, expect: denied, layer: explicit-deny}",
     "denied", "explicit-deny"),
    # the key's account delegates: an IAM Allow of kms:RetireGrant in that account
    ("{as: delegate, action: kms:RetireGrant, resource: key:data, retiring: false, expect: allowed}", "allowed", None),
])
def test_the_grant_decides_who_retires_it_and_nothing_is_left(backend: EmbeddedBackend, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], expectation: str,
                                                               outcome: str, layer: str | None) -> None:
    verdict = proved(backend, tmp_path, capsys, expectation)
    assert (verdict["actual"], verdict["predicted"], verdict["layer"]) == (outcome, outcome, layer), verdict
    assert verdict["problems"] == []
    assert grants(backend) == []  # retired by the principal, or revoked by orchestrate


def test_a_denied_retire_grant_whose_grant_cannot_be_revoked_names_the_grant(backend: EmbeddedBackend, tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", write(tmp_path, []), "--quiet"]) == 0
    capsys.readouterr()
    refuse(backend, "RevokeGrant")
    code = main(["apply", write(tmp_path, ["{as: holder, action: kms:RetireGrant, resource: key:data, retiring: false,"
                                           " expect: denied}"]), "--output", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and "left: the throwaway grant " in report["error"] and "on key:data" in report["error"]


def test_retiring_applies_to_retire_grant_only_and_not_on_a_key_pending_deletion(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="retiring applies only to kms:RetireGrant"):
        load_scenario(write(tmp_path, ["{as: holder, action: kms:RevokeGrant, resource: key:data, retiring: true,"
                                            " expect: denied}"]))
    with pytest.raises(Exception, match="kms:RetireGrant retires a throwaway grant"):
        load_scenario(write(tmp_path, ["{as: holder, action: kms:RetireGrant, resource: key:data, expect: allowed}"],
                                 pending=True))


KEY = "arn:aws:kms:us-east-1:111111111111:key/k"
USER = "arn:aws:iam::111111111111:user/u"


def decide(principal: str, grant: Grant, identity: tuple[PolicySource, ...] = (), key_policy: str | None = None) -> Any:
    inputs = PolicyInputs(identity=identity, resource_account="111111111111", grants=(grant,),
                          resource_policy=None if key_policy is None else PolicySource("key", "default", key_policy))
    return Engine(SERVICE_RULES).evaluate(Request(caller_principal(principal, "111111111111"), "kms:RetireGrant", KEY, {}),
                                          inputs)


@pytest.mark.parametrize("grant, principal, allowed", [
    (Grant(USER, ("DescribeKey",), KEY, retiring_principal=USER), USER, True),             # retiring principal
    (Grant(USER, ("DescribeKey", "RetireGrant"), KEY), USER, True),                         # grantee with RetireGrant
    (Grant(USER, ("DescribeKey",), KEY), USER, False),                                      # grantee without it
    (Grant(USER, ("DescribeKey",), KEY), "arn:aws:iam::111111111111:root", True),          # the account
    (Grant("arn:aws:iam::111111111111:role/r", ("Decrypt",), KEY,
           retiring_principal="arn:aws:iam::111111111111:role/r"),
     "arn:aws:sts::111111111111:assumed-role/r/s", True),                                  # a session of the role
    (Grant(USER, ("DescribeKey",), KEY), "arn:aws:iam::222222222222:root", False),         # another account
])
def test_the_retire_grant_rule(grant: Grant, principal: str, allowed: bool) -> None:
    assert decide(principal, grant).allowed is allowed


def test_a_key_policy_cannot_allow_retire_grant() -> None:
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "kms:*", "Resource": "*"}]})
    decision = decide(USER, Grant(USER, ("DescribeKey",), KEY), key_policy=policy)
    assert not decision.allowed and decision.layer == "grant"


def test_the_gate_finds_the_grant_a_grant_token_names(backend: EmbeddedBackend, tmp_path: Path) -> None:
    """KMS API Reference, "RetireGrant": the grant is named by GrantToken, or by KeyId and GrantId."""
    assert main(["apply", write(tmp_path, []), "--quiet"]) == 0
    kms = backend.client("kms")
    [key_id] = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    holder, delegate = "arn:aws:iam::123456789012:user/holder", "arn:aws:iam::123456789012:user/denied"
    made = kms.create_grant(KeyId=key_id, GranteePrincipal=holder, RetiringPrincipal=holder, Operations=["DescribeKey"])
    by_token = {"GrantToken": made["GrantToken"]}
    assert backend.gate.predict(holder, "kms", "RetireGrant", by_token).allowed
    assert not backend.gate.predict(delegate, "kms", "RetireGrant", by_token).allowed
    assert backend.gate.predict(holder, "kms", "RetireGrant", {"KeyId": key_id, "GrantId": made["GrantId"]}).allowed
