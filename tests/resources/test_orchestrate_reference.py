"""The policy reference `orchestrate` (issue 20): in Principal, NotPrincipal and Arn conditions it
stands for every ARN AWS matches for the identity orchestrate runs as, in the policy's account: a
user's ARN (IAM User Guide, "AWS JSON policy elements: Principal", IAM users); for a role session its
session ARN ("Role session principals", as NotPrincipal matches it) and its role's ARN
(aws:PrincipalArn, "AWS global condition context keys"). It names no resource."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.export import export_state
from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.resources.context import RunContext

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios" / "deny-all-but-orchestrate.yaml"


class _Backend:
    """What a RunContext asks of a backend to resolve references."""

    account_id, region = "111122223333", "us-east-1"

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def identity(self) -> dict[str, str]:
        return {"Arn": self.arn, "Account": self.account_id}


def _resolved(arn: str, statement: dict[str, Any]) -> dict[str, Any]:
    ctx = RunContext(_Backend(arn), "s")  # type: ignore[arg-type]
    return ctx.resolve_policy({"Statement": [statement]})["Statement"][0]  # type: ignore[no-any-return]


USER = "arn:aws:iam::111122223333:user/deployer"
SESSION = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-run-7"
ROLE = "arn:aws:iam::111122223333:role/Deployer"


@pytest.mark.parametrize(("caller", "expected"), [
    pytest.param(USER, [USER], id="a user is its ARN"),
    pytest.param(SESSION, [SESSION, ROLE], id="a session is its session ARN and its role's"),
    pytest.param("arn:aws:sts::111122223333:user/moto", ["arn:aws:iam::111122223333:user/moto"],
                 id="moto's answer is read as the IAM user moto, as the gate reads it"),
])
def test_orchestrate_in_principal_and_not_principal(caller: str, expected: list[str]) -> None:
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": ["user:admin", "orchestrate", "account"]},
                 "Action": "kms:*", "Resource": "*"}
    assert _resolved(caller, statement)["NotPrincipal"]["AWS"] == [
        "arn:aws:iam::111122223333:user/admin", *expected, "arn:aws:iam::111122223333:root"]
    single = _resolved(caller, {"Effect": "Allow", "Principal": {"AWS": "orchestrate"}, "Action": "kms:*"})
    assert single["Principal"]["AWS"] == (expected[0] if len(expected) == 1 else expected)


def test_orchestrate_in_an_arn_condition() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["orchestrate", "role:admin"]}}}
    found = _resolved(SESSION, statement)["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert found == [SESSION, ROLE, "arn:aws:iam::111122223333:role/admin"]


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics]


BAD = """\
name: s
keys:
  data:
    policy:
      Statement:
        - {Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: %s}
        - {Effect: Deny, Principal: "*", Action: "kms:*", Resource: "*", Condition: {StringNotEquals: {aws:PrincipalArn: orchestrate}}}
states:
  - name: s
"""


def test_orchestrate_is_no_resource_nor_a_literal_condition_value(tmp_path: Path) -> None:
    found = _errors(tmp_path, BAD % "orchestrate")
    assert any("keys.data.policy.Statement[0].Resource" in d and "names a principal" in d for d in found), found
    found = _errors(tmp_path, BAD % '"*"')
    assert any("Statement[1].Condition.StringNotEquals.aws:PrincipalArn" in d and "only Arn operators" in d
               for d in found), found


def test_exports_name_the_deployer_by_the_key_manager_parameter() -> None:
    loaded = load_scenario(SHIPPED)
    template = yaml.safe_load(export_state(loaded, 0, "cloudformation").text)
    statements = template["Resources"]["KeyData"]["Properties"]["KeyPolicy"]["Statement"]
    deny = next(s for s in statements if s.get("Sid") == "DenyAllButAdministrators")
    assert {"Ref": "KeyManagerArn"} in deny["NotPrincipal"]["AWS"]
    assert "KeyManagerArn" in template["Parameters"]
    terraform = export_state(loaded, 0, "terraform").text
    assert "var.key_manager_arn" in terraform and '"orchestrate"' not in terraform
