"""DynamoDB tables (orchestrator/resources/dynamodb_table.py) against moto via the embedded backend.

DynamoDB API Reference: CreateTable (KeySchema, AttributeDefinitions, BillingMode,
SSESpecification, Tags), DescribeTable, UpdateTable, TagResource/UntagResource, PutItem,
BatchGetItem, DeleteTable.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from res_support import (
    ACCOUNT_ADMIN, actions, apply, doc, live_key, mutating_ops, ownership, pending, plan, record, teardown,
)

from orchestrator.reconcile.plan import Action


def scenario() -> dict:
    return {
        "keys": {"data": {"description": "table key", "policy": doc(ACCOUNT_ADMIN)}},
        "tables": {
            "orders": {
                "partition_key": {"name": "order_id", "type": "S"},
                "encryption": "key:data",
                "tags": {"team": "orders"},
                "items": [
                    {"order_id": "o-1", "customer": "alice", "total": 42},
                    {"order_id": "o-2", "total": 17.5, "paid": True, "lines": [1, 2]},
                ],
            },
            "ledger": {
                "partition_key": {"name": "account", "type": "S"},
                "sort_key": {"name": "line", "type": "N"},
                "billing_mode": "PROVISIONED", "read_capacity": 2, "write_capacity": 3,
                "items": [{"account": "a-1", "line": 1, "amount": 10}],
            },
        },
    }


def test_create_table_has_declared_properties(backend):
    """CreateTable with KeySchema/AttributeDefinitions, BillingMode (and ProvisionedThroughput),
    SSESpecification naming the scenario key's ARN, Tags; PutItem of each seed item, numbers as N."""
    result = apply(backend, scenario())

    assert actions(result)["dynamodb_table.orders"] == "create"
    dynamodb = backend.client("dynamodb")
    orders = dynamodb.describe_table(TableName="orders")["Table"]
    assert orders["KeySchema"] == [{"AttributeName": "order_id", "KeyType": "HASH"}]
    assert orders["AttributeDefinitions"] == [{"AttributeName": "order_id", "AttributeType": "S"}]
    assert orders["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert orders["SSEDescription"]["SSEType"] == "KMS"
    assert orders["SSEDescription"]["KMSMasterKeyArn"] == live_key(backend, "data")["Arn"]
    tags = {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=orders["TableArn"])["Tags"]}
    assert tags == {"team": "orders", **ownership("orders")}

    first = dynamodb.get_item(TableName="orders", Key={"order_id": {"S": "o-1"}})["Item"]
    assert first == {"order_id": {"S": "o-1"}, "customer": {"S": "alice"}, "total": {"N": "42"}}
    second = dynamodb.get_item(TableName="orders", Key={"order_id": {"S": "o-2"}})["Item"]
    assert second["total"] == {"N": "17.5"}
    assert second["paid"] == {"BOOL": True}
    assert second["lines"] == {"L": [{"N": "1"}, {"N": "2"}]}

    ledger = dynamodb.describe_table(TableName="ledger")["Table"]
    assert ledger["KeySchema"] == [{"AttributeName": "account", "KeyType": "HASH"}, {"AttributeName": "line", "KeyType": "RANGE"}]
    assert {a["AttributeName"]: a["AttributeType"] for a in ledger["AttributeDefinitions"]} == {"account": "S", "line": "N"}
    assert ledger["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert (ledger["ProvisionedThroughput"]["ReadCapacityUnits"], ledger["ProvisionedThroughput"]["WriteCapacityUnits"]) == (2, 3)
    assert "SSEDescription" not in ledger  # aws-owned: no SSESpecification sent
    item = dynamodb.get_item(TableName="ledger", Key={"account": {"S": "a-1"}, "line": {"N": "1"}})["Item"]
    assert item["amount"] == {"N": "10"}


def test_second_apply_makes_no_mutating_call(backend):
    """DescribeTable/ListTagsOfResource/BatchGetItem read back what was declared (items compared
    with numbers normalised), so nothing is written again."""
    apply(backend, scenario())
    backend.log.clear()

    result = apply(backend, scenario())

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_tags_billing_and_items_update_in_place(backend):
    """TagResource/UntagResource, UpdateTable(BillingMode, ProvisionedThroughput) and PutItem for
    a changed seed item only; the table is not recreated (same CreationDateTime)."""
    document = scenario()
    apply(backend, document)
    dynamodb = backend.client("dynamodb")
    created = dynamodb.describe_table(TableName="orders")["Table"]["CreationDateTime"]
    orders = document["tables"]["orders"]

    def step(expected_ops):
        backend.log.clear()
        assert actions(apply(backend, document))["dynamodb_table.orders"] == "update"
        assert mutating_ops(backend) == expected_ops
        assert pending(plan(backend, document)) == {}

    orders["tags"] = {"team": "billing", "env": "lab"}
    step(["TagResource"])
    orders["tags"] = {"env": "lab"}
    step(["UntagResource"])
    arn = dynamodb.describe_table(TableName="orders")["Table"]["TableArn"]
    tags = {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"env": "lab", **ownership("orders")}

    orders.update(billing_mode="PROVISIONED", read_capacity=1, write_capacity=1)
    step(["UpdateTable"])
    table = dynamodb.describe_table(TableName="orders")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 1

    puts = record(backend, "PutItem")
    orders["items"][0]["total"] = 43
    step(["PutItem"])
    assert [p["Item"]["order_id"] for p in puts] == [{"S": "o-1"}]
    assert dynamodb.get_item(TableName="orders", Key={"order_id": {"S": "o-1"}})["Item"]["total"] == {"N": "43"}
    assert dynamodb.describe_table(TableName="orders")["Table"]["CreationDateTime"] == created


def test_key_schema_change_replaces_table(backend):
    """The key schema is fixed at CreateTable: plan shows REPLACE; apply deletes and recreates the
    table with the new schema and the seed items under it."""
    document = scenario()
    apply(backend, document)
    orders = document["tables"]["orders"]
    orders["partition_key"] = {"name": "id", "type": "S"}
    orders["items"] = [{"id": "o-1", "total": 42}]

    planned = plan(backend, document)
    assert actions(planned)["dynamodb_table.orders"] == Action.REPLACE.value
    assert "key_schema" in pending(planned)["dynamodb_table.orders"]

    backend.log.clear()
    apply(backend, document)

    calls = mutating_ops(backend)
    assert calls.index("DeleteTable") < calls.index("CreateTable") < calls.index("PutItem")
    dynamodb = backend.client("dynamodb")
    assert dynamodb.describe_table(TableName="orders")["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert dynamodb.get_item(TableName="orders", Key={"id": {"S": "o-1"}})["Item"]["total"] == {"N": "42"}
    assert pending(plan(backend, document)) == {}


def test_replace_waits_until_old_table_is_gone(backend):
    """DeleteTable: "the table is in the DELETING state until DynamoDB completes the deletion";
    CreateTable of that name meanwhile: ResourceInUseException. Emulated here: after DeleteTable the
    name counts as deleting until a DescribeTable (the waiter's poll) has looked at it."""
    document = scenario()
    apply(backend, document)
    deleting: set[str] = set()

    def emulate(service, operation, params):
        if operation == "DeleteTable":
            deleting.add(params["TableName"])
        elif operation == "DescribeTable":
            deleting.discard(params["TableName"])
        elif operation == "CreateTable" and params["TableName"] in deleting:
            raise ClientError({"Error": {"Code": "ResourceInUseException", "Message": "Table is being deleted"}}, "CreateTable")

    backend.observe(emulate)
    document["tables"]["orders"]["partition_key"] = {"name": "id", "type": "S"}
    document["tables"]["orders"]["items"] = []

    apply(backend, document)

    assert backend.client("dynamodb").describe_table(TableName="orders")["Table"]["KeySchema"][0]["AttributeName"] == "id"


def test_destroy_deletes_table(backend):
    """DeleteTable; afterwards DescribeTable says ResourceNotFoundException and plan wants CREATE."""
    document = scenario()
    apply(backend, document)
    backend.log.clear()

    result = teardown(backend, document)

    assert actions(result)["dynamodb_table.orders"] == "delete"
    assert mutating_ops(backend).count("DeleteTable") == 2
    with pytest.raises(ClientError) as raised:
        backend.client("dynamodb").describe_table(TableName="orders")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert actions(plan(backend, document))["dynamodb_table.orders"] == "create"


def test_aws_managed_encryption_converges(backend):
    """CreateTable SSESpecification {Enabled, SSEType KMS} without a key id = the AWS managed key."""
    document = {"tables": {"events": {"partition_key": {"name": "id"}, "encryption": "aws-managed"}}}
    apply(backend, document)

    assert pending(plan(backend, document)) == {}
