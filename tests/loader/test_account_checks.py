"""Validation of `accounts:` and `account: NAME` (model/scenario.py, loader/references.py
check_accounts): located errors, exit 2, nothing applied.

IAM API Reference, AttachUserPolicy / AttachRolePolicy / AddUserToGroup (a principal takes
policies and groups of its own account only); DynamoDB Developer Guide, "Encryption at rest:
How it works" (a table's customer managed key is in the table's account and Region).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.resources.context import RunContext

BASE = """\
name: accounts
accounts:
  partner: "210987654321"
policies:
  reading:
    document:
      Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: "*"}]
groups:
  readers: {}
users:
  analyst:
    account: partner
keys:
  data:
    policy:
      Statement:
        - {Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
        - {Effect: Allow, Principal: {AWS: account:partner}, Action: kms:Decrypt, Resource: "*"}
tables:
  orders:
    partition_key: {name: id}
    encryption: key:data
states:
  - name: s
    expectations:
      - {as: analyst, action: kms:DescribeKey, resource: key:data, expect: denied}
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return load_scenario(path)


def diagnostics(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return [str(d).removeprefix(str(tmp_path / "scenario.yaml") + ":") for d in caught.value.diagnostics]


def test_the_base_scenario_loads_and_resolves_each_entity_in_its_account(tmp_path: Path) -> None:
    loaded = load(tmp_path, BASE)
    from orchestrator.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend("us-east-1")
    try:
        ctx = RunContext(backend, "accounts")
        ctx.declare(loaded.desired)
        assert ctx.arn("user:analyst") == "arn:aws:iam::210987654321:user/analyst"
        assert ctx.arn("account:partner") == "arn:aws:iam::210987654321:root"
        assert ctx.arn("account:home") == ctx.arn("account") == "arn:aws:iam::123456789012:root"
        assert ctx.arn("table:orders") == "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
        partner = ctx.for_entity("users", "analyst")
        assert (partner.account, partner.arn("account")) == ("210987654321", "arn:aws:iam::210987654321:root")
        assert partner.arn("table:orders") == ctx.arn("table:orders")  # references keep their entity's account
        assert ctx.for_entity("tables", "orders") is ctx
    finally:
        backend.close()


CASES = [
    ("an unknown account", ("    account: partner\n", "    account: elsewhere\n"),
     "users.analyst.account", "'elsewhere' names no account of this scenario (known: home, partner)"),
    ("home declared", ('  partner: "210987654321"\n', '  partner: "210987654321"\n  home: "111122223333"\n'),
     "accounts.home", "'home' is the scenario's own account"),
    ("one id twice", ('  partner: "210987654321"\n', '  partner: "210987654321"\n  again: "210987654321"\n'),
     "accounts.again", "210987654321 is already the account 'partner'"),
    ("an id that is not 12 digits", ('  partner: "210987654321"\n', '  partner: "2109"\n'),
     "accounts.partner", "should match pattern"),
    ("a reference to an unknown account", ("AWS: account:partner}", "AWS: account:ghost}"),
     "keys.data.policy.Statement[1].Principal.AWS", "'account:ghost' names no account"),
    ("a home policy attached in another account", ("    account: partner\n", "    account: partner\n    managed_policies: [policy:reading]\n"),
     "users.analyst.managed_policies[0]", "'policy:reading' lives in home"),
    ("a home group joined from another account", ("    account: partner\n", "    account: partner\n    groups: [readers]\n"),
     "users.analyst.groups[0]", "group 'readers' lives in home"),
    ("a table under another account's key", ("    policy:\n      Statement:\n        - {Effect: Allow, Principal: {AWS: account}",
                                              "    account: partner\n    policy:\n      Statement:\n        - {Effect: Allow, Principal: {AWS: account}"),
     "tables.orders.encryption", "DynamoDB encrypts a table only with a key of its own account"),
    ("a state moving an entity", ("    expectations:\n", "    patch: {users: {analyst: {account: home}}}\n    expectations:\n"),
     "states[0].patch.users.analyst.account", "cannot move users.analyst to another account"),
]


@pytest.mark.parametrize(("change", "where", "message"), [pytest.param(c[1], c[2], c[3], id=c[0]) for c in CASES])
def test_a_bad_account_is_a_located_error(tmp_path: Path, change: tuple[str, str], where: str, message: str) -> None:
    old, new = change
    assert old in BASE
    found = diagnostics(tmp_path, BASE.replace(old, new, 1))
    assert any(message in d and f"(at {where}" in d and d.split(":")[0].isdigit() for d in found), found


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("    account: partner\n", "    account: elsewhere\n"))
    assert main(["apply", str(path)]) == 2
    err = capsys.readouterr().err
    assert "elsewhere" in err and "Traceback" not in err
