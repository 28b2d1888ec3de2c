"""Across kinds: dependency order of apply and destroy, ownership (CONFLICT, --adopt) and --run-id.

IAM CreateUser/DeleteUser (DeleteConflict while access keys or policies remain), KMS CreateKey
("the principals in the key policy must exist"), ScheduleKeyDeletion, DynamoDB CreateTable
(SSESpecification.KMSMasterKeyId must exist), DeleteTable; Tag* APIs carry the ownership tags.
"""
from __future__ import annotations

import textwrap

import pytest
from res_support import (
    ACCOUNT, AWS_POLICY, actions, apply, first, last, live_key, mutating_ops, ops, ownership, pending, plan,
    statements_by_sid, key_policy, teardown, user_tags,
)

from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.loader import load_scenario
from orchestrator.resources.context import ConflictError, RunContext

SCENARIO_YAML = textwrap.dedent("""\
    name: res
    users:
      tester:
        managed_policies: [AmazonDynamoDBFullAccess]
        inline_policies:
          use-key:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: kms:Decrypt, Resource: "key:data"}
    keys:
      data:
        aliases: [alias/orders-data]
        deletion_window_days: 7
        policy:
          Version: "2012-10-17"
          Statement:
            - {Sid: Admin, Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
            - {Sid: Tester, Effect: Allow, Principal: {AWS: "user:tester"}, Action: kms:Decrypt, Resource: "*"}
    tables:
      orders:
        partition_key: {name: order_id, type: S}
        encryption: key:data
        items:
          - {order_id: o-1, total: 42}
    states:
      - name: only
""")


@pytest.fixture
def loaded(tmp_path):
    path = tmp_path / "res.yaml"
    path.write_text(SCENARIO_YAML)
    return load_scenario(path)


def test_dependency_order_of_apply_and_destroy(backend, loaded):
    """Apply: CreateUser before CreateKey (the key policy names the user), CreateKey before
    CreateTable (SSE key), CreateTable before PutUserPolicy/AttachUserPolicy. Destroy: the reverse,
    DeleteTable before ScheduleKeyDeletion before DeleteUser, DeleteAccessKey before DeleteUser."""
    state = loaded.desired[0]
    apply_state(RunContext(backend, loaded.scenario.name), state, "only")
    calls = ops(backend)
    assert first(calls, "CreateUser") < first(calls, "CreateKey") < first(calls, "CreateTable")
    assert last(calls, "CreateTable") < min(first(calls, "PutUserPolicy"), first(calls, "AttachUserPolicy"))

    backend.client("iam").create_access_key(UserName="tester")
    backend.log.clear()
    result = destroy(RunContext(backend, loaded.scenario.name), state)

    calls = mutating_ops(backend)
    assert calls.index("DeleteAccessKey") < calls.index("DeleteUserPolicy") < calls.index("DeleteTable")
    assert calls.index("DeleteTable") < calls.index("ScheduleKeyDeletion") < calls.index("DeleteUser")
    assert [c.address for c in result.changes] == [
        "iam_user_access.tester", "dynamodb_table.orders", "kms_key.data", "iam_user.tester"]


def _foreign_table(backend):
    dynamodb = backend.client("dynamodb")
    dynamodb.create_table(TableName="orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="orders", Item={"order_id": {"S": "theirs"}})


def _touching(backend, name: str) -> list[str]:
    """Mutating operations whose parameters name `name` (TableName, UserName, or an ARN ending in it)."""
    touched: list[str] = []

    def observe(service, operation, params):
        values = [str(v) for v in params.values()]
        names_it = any(v == name or v.endswith("/" + name) for v in values)
        if names_it and not operation.startswith(("Get", "List", "Describe", "BatchGet")):
            touched.append(operation)

    backend.observe(observe)
    return touched


TABLE_ONLY = {"tables": {"orders": {"partition_key": {"name": "order_id"}, "items": [{"order_id": "ours", "n": 1}]}}}
USER_ONLY = {"users": {"tester": {"managed_policies": ["ReadOnlyAccess"]}}}


def test_foreign_table_is_a_conflict_left_alone(backend):
    """A same-named table without orchestrate tags: plan CONFLICT, apply raises ConflictError with
    no mutating call on it, destroy reports CONFLICT and leaves it (and its items)."""
    _foreign_table(backend)
    touched = _touching(backend, "orders")

    assert actions(plan(backend, TABLE_ONLY)) == {"dynamodb_table.orders": "conflict"}
    with pytest.raises(ConflictError, match="dynamodb_table.orders"):
        apply(backend, TABLE_ONLY)
    assert actions(teardown(backend, TABLE_ONLY)) == {"dynamodb_table.orders": "conflict"}

    assert touched == []
    dynamodb = backend.client("dynamodb")
    assert dynamodb.get_item(TableName="orders", Key={"order_id": {"S": "theirs"}})["Item"]
    assert "Item" not in dynamodb.get_item(TableName="orders", Key={"order_id": {"S": "ours"}})


def test_adopt_takes_over_a_foreign_table(backend):
    """RunContext(adopt=True): the same-named table is managed (seed items written with PutItem)."""
    _foreign_table(backend)

    result = apply(backend, TABLE_ONLY, adopt=True)

    assert actions(result) == {"dynamodb_table.orders": "update"}
    item = backend.client("dynamodb").get_item(TableName="orders", Key={"order_id": {"S": "ours"}})["Item"]
    assert item["n"] == {"N": "1"}
    assert pending(plan(backend, TABLE_ONLY, adopt=True)) == {}


def test_foreign_user_is_a_conflict_and_adopt_takes_it_over(backend):
    """A same-named user without orchestrate tags: plan CONFLICT for the user and its access, apply
    raises ConflictError untouched, destroy leaves it and its access key; --adopt attaches policies."""
    iam = backend.client("iam")
    iam.create_user(UserName="tester")
    access_key = iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]
    touched = _touching(backend, "tester")

    assert actions(plan(backend, USER_ONLY)) == {"iam_user.tester": "conflict", "iam_user_access.tester": "conflict"}
    with pytest.raises(ConflictError, match="iam_user.tester"):
        apply(backend, USER_ONLY)
    assert set(actions(teardown(backend, USER_ONLY)).values()) == {"conflict"}
    assert touched == []
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="tester")["AccessKeyMetadata"]] == [access_key]

    apply(backend, USER_ONLY, adopt=True)

    assert "AttachUserPolicy" in touched
    attached = iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [AWS_POLICY + "ReadOnlyAccess"]


def test_adopted_resources_are_owned_afterwards(backend):
    """After an --adopt apply, a run without --adopt sees the user and the table as the scenario's."""
    backend.client("iam").create_user(UserName="tester")
    _foreign_table(backend)
    document = {**TABLE_ONLY, **USER_ONLY}
    apply(backend, document, adopt=True)

    assert user_tags(backend, "tester") == ownership("tester")
    assert "conflict" not in actions(plan(backend, document)).values()


def test_run_ids_prefix_names_and_coexist(backend):
    """RunContext(run_id): physical names r1-orders, r1-tester, alias/r1-orders-data; references
    resolve to the prefixed ARNs; two runs coexist; destroying one leaves the other intact."""
    document = {
        "users": {"tester": {}},
        "keys": {"data": {"aliases": ["alias/orders-data"], "policy": {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Tester", "Effect": "Allow", "Principal": {"AWS": "user:tester"},
                           "Action": "kms:*", "Resource": "*"}]}}},
        "tables": {"orders": {"partition_key": {"name": "id"}, "encryption": "key:data"}},
    }
    for run in ("r1", "r2"):
        made = actions(apply(backend, document, run_id=run))
        assert made["iam_user.tester"] == made["kms_key.data"] == made["dynamodb_table.orders"] == "create"

    iam, dynamodb, kms = (backend.client(s) for s in ("iam", "dynamodb", "kms"))
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"r1-tester", "r2-tester"}
    assert sorted(dynamodb.list_tables()["TableNames"]) == ["r1-orders", "r2-orders"]
    r1_key = live_key(backend, "data", run="r1")
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=r1_key["KeyId"])["Aliases"] if not a["AliasName"].startswith("alias/orchestrate/")] == ["alias/r1-orders-data"]
    principal = statements_by_sid(key_policy(backend, r1_key["KeyId"]))["Tester"]["Principal"]["AWS"]
    assert principal in (f"arn:aws:iam::{ACCOUNT}:user/r1-tester", [f"arn:aws:iam::{ACCOUNT}:user/r1-tester"])
    assert user_tags(backend, "r1-tester") == ownership("tester", run="r1")
    assert dynamodb.describe_table(TableName="r1-orders")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == r1_key["Arn"]
    assert pending(plan(backend, document, run_id="r1")) == {} and pending(plan(backend, document, run_id="r2")) == {}
    # The default run does not own either run's resources: it would create its own.
    assert set(actions(plan(backend, document)).values()) == {"create"}

    teardown(backend, document, run_id="r1")

    assert dynamodb.list_tables()["TableNames"] == ["r2-orders"]
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"r2-tester"}
    assert pending(plan(backend, document, run_id="r2")) == {}
