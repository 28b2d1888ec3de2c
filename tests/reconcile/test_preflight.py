"""Preflight: a same-named resource that the scenario does not own, of any kind and in any state,
makes apply refuse before its first mutating call (exit 3), naming every conflict at once.

Mutating calls are counted with the backend's call observer from the moment the foreign
resources exist; `orchestrate apply` runs on that backend (open_backend is replaced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.base import is_mutating
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main

SCENARIO = """\
name: preflight
region: us-east-1
users:
  admin: {managed_policies: [AdministratorAccess]}
  tester: {groups: [readers]}
groups:
  readers: {managed_policies: ["policy:read-orders"]}
policies:
  read-orders:
    document:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: "dynamodb:GetItem", Resource: "*"}
keys:
  data:
    aliases: [alias/orders-data]
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Admin, Effect: Allow, Principal: {AWS: "user:admin"}, Action: "kms:*", Resource: "*"}
tables:
  orders:
    partition_key: {name: order_id, type: S}
    encryption: key:data
    items: [{order_id: "o-1"}]
states:
  - name: first
    expectations:
      - {as: admin, action: "dynamodb:GetItem", resource: "table:orders", key: {order_id: "o-1"}, expect: allowed}
  - name: second
    patch:
      keys:
        data: {aliases: [alias/orders-data, alias/orders-later]}
    expectations:
      - {as: admin, action: "dynamodb:GetItem", resource: "table:orders", key: {order_id: "o-1"}, expect: allowed}
"""

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})


def make_foreign(backend: EmbeddedBackend, kind: str) -> str:
    """A resource of `kind` made by hand with one of the scenario's names; its address."""
    iam, kms, dynamodb = backend.client("iam"), backend.client("kms"), backend.client("dynamodb")
    if kind == "user":
        iam.create_user(UserName="tester")
        return "iam_user.tester"
    if kind == "group":
        iam.create_group(GroupName="readers")
        return "iam_group.readers"
    if kind == "policy":
        iam.create_policy(PolicyName="read-orders", PolicyDocument=POLICY)
        return "iam_policy.read-orders"
    if kind in ("alias", "later-alias"):
        key_id = kms.create_key(Description="someone else's")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/orders-data" if kind == "alias" else "alias/orders-later", TargetKeyId=key_id)
        return "kms_key.data"
    dynamodb.create_table(TableName="orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return "dynamodb_table.orders"


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    path = tmp_path / "preflight.yaml"
    path.write_text(SCENARIO)
    return str(path)


def count_mutating(backend: EmbeddedBackend) -> list[str]:
    seen: list[str] = []

    def observer(service: str, operation: str, params: dict[str, Any]) -> None:
        if is_mutating(operation):
            seen.append(f"{service}:{operation}")

    backend.observe(observer)
    return seen


def conflict_lines(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.startswith("  ")]


KINDS = ["user", "group", "policy", "alias", "later-alias", "table"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_conflict_of_any_kind_refuses_apply_with_no_mutating_call(kind: str, backend: EmbeddedBackend, scenario: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    address = make_foreign(backend, kind)
    mutating = count_mutating(backend)
    assert main(["apply", scenario]) == 3
    err = capsys.readouterr().err
    assert mutating == []
    assert "refusing to apply preflight: 1 conflict" in err and "nothing was changed" in err
    [line] = conflict_lines(err)
    assert line.startswith(f"{address} (state ")
    assert "Traceback" not in err


def test_the_conflicts_name_the_state_that_declares_them_and_what_is_in_the_way(backend: EmbeddedBackend, scenario: str,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    make_foreign(backend, "later-alias")
    make_foreign(backend, "table")
    assert main(["apply", scenario]) == 3
    lines = conflict_lines(capsys.readouterr().err)
    [alias] = [line for line in lines if line.startswith("kms_key.data")]
    assert alias.startswith("kms_key.data (state second): alias/orders-later exists and points at key ")
    assert alias.endswith(", which this scenario does not own")
    [table] = [line for line in lines if line.startswith("dynamodb_table.orders")]
    assert table == ("dynamodb_table.orders (state first): arn:aws:dynamodb:us-east-1:123456789012:table/orders"
                     " exists and is not owned by this scenario")


def test_several_conflicts_are_named_at_once_and_nothing_is_created(backend: EmbeddedBackend, scenario: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    addresses = {make_foreign(backend, kind) for kind in KINDS}
    mutating = count_mutating(backend)
    assert main(["apply", scenario, "--output", "json"]) == 3
    captured = capsys.readouterr()
    assert mutating == []
    lines = conflict_lines(captured.err)
    assert "refusing to apply preflight: 6 conflicts" in captured.err
    assert {line.partition(" ")[0] for line in lines} == addresses
    assert sum(line.startswith("kms_key.data") for line in lines) == 2  # both aliases
    report = json.loads(captured.out)  # the report is printed all the same: no state ran
    assert (report["passed"], report["states"], report["error"]) == (False, [], captured.err.strip())
    assert backend.client("dynamodb").describe_table(TableName="orders")["Table"].get("SSEDescription") is None
    assert [u["UserName"] for u in backend.client("iam").list_users()["Users"]] == ["tester"]


def test_adopt_takes_over_users_groups_aliases_and_tables(backend: EmbeddedBackend, scenario: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    for kind in ("user", "group", "alias", "later-alias", "table"):
        make_foreign(backend, kind)
    assert main(["apply", scenario, "--adopt", "--output", "json"]) == 0, capsys.readouterr().err
    kms = backend.client("kms")
    aliases = {a["AliasName"]: a["TargetKeyId"] for a in kms.list_aliases()["Aliases"]}
    ours = {k["KeyId"] for k in kms.list_keys()["Keys"]
            if {"TagKey": "orchestrate:name", "TagValue": "data"} in kms.list_resource_tags(KeyId=k["KeyId"])["Tags"]}
    assert len(ours) == 1 and aliases["alias/orders-data"] in ours and aliases["alias/orders-later"] in ours
    # adopted: the next apply owns them without --adopt
    assert main(["apply", scenario]) == 0, capsys.readouterr().err


def test_adopt_cannot_take_over_a_policy_of_the_same_name_on_another_path(backend: EmbeddedBackend, scenario: str,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    make_foreign(backend, "policy")
    mutating = count_mutating(backend)
    assert main(["apply", scenario, "--adopt"]) == 3
    err = capsys.readouterr().err
    assert mutating == []
    [line] = conflict_lines(err)
    assert line == ("iam_policy.read-orders (state first): arn:aws:iam::123456789012:policy/read-orders exists and is"
                    " not owned by this scenario; --adopt cannot take it over")
    assert "(--adopt takes them over)" not in err


def test_resources_the_scenario_owns_are_no_conflict(backend: EmbeddedBackend, scenario: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, "--state", "first"]) == 0, capsys.readouterr().err
    mutating = count_mutating(backend)
    assert main(["apply", scenario, "--state", "first"]) == 0, capsys.readouterr().err
    # nothing reconciled again: only the principal's access key for the run, made and deleted
    assert set(mutating) == {"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:TagUser", "iam:UntagUser"}


def test_plan_shows_an_alias_conflict_as_apply_would_refuse_it(backend: EmbeddedBackend, scenario: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    make_foreign(backend, "alias")
    assert main(["plan", scenario, "--no-color"]) == 2
    # plan shows the walk: the first state from the world, then the second, which declares the alias too
    first, second, _ = capsys.readouterr().out.split("\n\n")
    [line] = [line for line in first.splitlines() if "kms_key.data" in line]
    assert line.strip().startswith("! kms_key.data  (alias/orders-data exists and points at key ")
    assert first.splitlines()[-1] == "Plan: 8 to create, 1 conflict."
    assert second.splitlines()[-1] == "Plan: 1 conflict."
