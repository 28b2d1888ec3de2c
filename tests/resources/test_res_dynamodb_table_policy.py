"""A table's resource-based policy (`tables.NAME.policy`) against moto via the embedded backend.

DynamoDB API Reference: PutResourcePolicy, GetResourcePolicy (PolicyNotFoundException for a table
without one), DeleteResourcePolicy; DynamoDB Developer Guide, "Using resource-based policies for
DynamoDB" and "DynamoDB resource-based policy examples".
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from res_support import ACCOUNT, REGION, actions, apply, context, desired, doc, mutating_ops, pending, plan, teardown

from orchestrator.model.patch import merge_patch
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.report.plan_text import render_plan
from orchestrator.report.style import Style

READER = {"Sid": "ReaderGet", "Effect": "Allow", "Principal": {"AWS": "user:reader"},
          "Action": "dynamodb:GetItem", "Resource": "table:orders"}


def scenario(*statements: dict) -> dict:
    table: dict = {"partition_key": {"name": "id"}, "items": [{"id": "o-1"}]}
    if statements:
        table["policy"] = doc(*statements)
    return {"users": {"reader": {}}, "tables": {"orders": table}}


def table_arn(name: str = "orders") -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def live_policy(backend, name: str = "orders") -> dict | None:
    try:
        text = backend.client("dynamodb").get_resource_policy(ResourceArn=table_arn(name))["Policy"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "PolicyNotFoundException":
            return None
        raise
    return json.loads(text)


def test_create_puts_the_resolved_policy_after_the_table(backend):
    """CreateTable, then PutResourcePolicy with user:NAME and table:NAME resolved to ARNs."""
    apply(backend, scenario(READER))

    calls = mutating_ops(backend)
    assert calls.index("CreateTable") < calls.index("PutResourcePolicy") < calls.index("PutItem")
    statement = live_policy(backend)["Statement"][0]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/reader"]}
    assert statement["Resource"] == [table_arn()]
    assert statement["Action"] == ["dynamodb:GetItem"]


def test_run_id_prefixes_the_table_and_user_arns(backend):
    apply(backend, scenario(READER), run_id="r7")

    statement = live_policy(backend, "r7-orders")["Statement"][0]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/r7-reader"]}
    assert statement["Resource"] == [table_arn("r7-orders")]


def test_second_apply_makes_no_mutating_call(backend):
    apply(backend, scenario(READER))
    backend.log.clear()

    result = apply(backend, scenario(READER))

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_plan_shows_the_policy_normalised(backend):
    """The plan's policy is the document sent: Statement a list, references as ARNs."""
    planned = plan(backend, scenario(READER))

    change = next(c for c in planned.changes if c.address == "dynamodb_table.orders")
    policy = change.after["policy"]
    assert policy["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/reader"]}
    text = render_plan(planned, Style(False))
    lines = [line.strip() for line in text.splitlines()]
    assert lines[lines.index("+ policy = {"):][:5] == ["+ policy = {", '+ "Statement": [', "+ {", '+ "Action": [', '+ "dynamodb:GetItem"']


def test_a_state_patch_by_sid_changes_only_the_policy(backend):
    """A Sid-keyed merge patch (orchestrator/model/patch.py) adds a statement: one PutResourcePolicy."""
    first = scenario(READER)
    apply(backend, first)
    patched = merge_patch(first, {"tables": {"orders": {"policy": {"Statement": {
        "ReaderQuery": {"Effect": "Allow", "Principal": {"AWS": "user:reader"}, "Action": "dynamodb:Query",
                        "Resource": "table:orders"}}}}}})
    planned = plan(backend, patched)
    assert pending(planned) == {"dynamodb_table.orders": ["policy"]}
    text = render_plan(planned, Style(False))
    added = [line.strip() for line in text.splitlines() if line.strip().startswith("+ ")]
    assert '+ "dynamodb:Query"' in added and '+ "Sid": "ReaderQuery"' in added
    assert "ReaderGet" not in text and "# (1 unchanged element hidden)" in text  # the statement unchanged
    backend.log.clear()

    apply(backend, patched)

    assert mutating_ops(backend) == ["PutResourcePolicy"]
    assert {s["Sid"] for s in live_policy(backend)["Statement"]} == {"ReaderGet", "ReaderQuery"}
    assert pending(plan(backend, patched)) == {}


def test_removing_the_policy_deletes_it(backend):
    apply(backend, scenario(READER))
    backend.log.clear()

    apply(backend, scenario())

    assert mutating_ops(backend) == ["DeleteResourcePolicy"]
    assert live_policy(backend) is None
    assert pending(plan(backend, scenario())) == {}


def drift_of(backend, document: dict) -> list:
    return [d for pair in observe_all(context(backend), desired(document)) for d in differences(pair)]


def put_out_of_band(backend, *statements: dict) -> None:
    policy = context(backend).resolve_policy(doc(*statements))
    backend.client("dynamodb").put_resource_policy(ResourceArn=table_arn(), Policy=json.dumps(policy))


NO_SCAN = {"Sid": "NoScan", "Effect": "Deny", "Principal": {"AWS": "user:reader"}, "Action": "dynamodb:Scan",
           "Resource": "*"}
EVERYONE = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "table:orders"}


def test_an_allow_added_out_of_band_is_drift_that_widens(backend):
    document = scenario(READER, NO_SCAN)
    apply(backend, document)
    put_out_of_band(backend, READER, NO_SCAN, EVERYONE)

    found = drift_of(backend, document)

    assert [(d.path, d.kind, d.actual["Sid"], d.widens_access) for d in found] == [
        ("policy.Statement[0]", "ADD", "Everyone", True)]


def test_a_deny_lost_out_of_band_widens_and_a_lost_allow_does_not(backend):
    document = scenario(READER, NO_SCAN)
    apply(backend, document)
    put_out_of_band(backend, READER)
    assert [(d.kind, d.expected["Sid"], d.widens_access) for d in drift_of(backend, document)] == [
        ("REMOVE", "NoScan", True)]

    put_out_of_band(backend, NO_SCAN)
    assert [(d.kind, d.expected["Sid"], d.widens_access) for d in drift_of(backend, document)] == [
        ("REMOVE", "ReaderGet", False)]


def test_a_policy_added_out_of_band_widens(backend):
    apply(backend, scenario())
    backend.client("dynamodb").put_resource_policy(
        ResourceArn=table_arn(), Policy=json.dumps(context(backend).resolve_policy(doc(READER))))

    found = [d for pair in observe_all(context(backend), desired(scenario())) for d in differences(pair)]

    assert [(d.path, d.kind, d.widens_access) for d in found] == [("policy", "NOT_EQUAL", True)]


def test_destroy_deletes_the_policy_with_the_table(backend):
    """DeleteResourcePolicy before DeleteTable: moto 5.2 would otherwise hand the old policy to the
    next table of the same name (docs/embedded-departures.md)."""
    apply(backend, scenario(READER))
    backend.log.clear()

    teardown(backend, scenario(READER))

    calls = mutating_ops(backend)
    assert calls.index("DeleteResourcePolicy") < calls.index("DeleteTable")
    apply(backend, scenario())
    assert live_policy(backend) is None


def test_replacement_recreates_the_policy(backend):
    """A key schema change replaces the table; the new table gets the declared policy again."""
    apply(backend, scenario(READER))
    replaced = scenario(READER)
    replaced["tables"]["orders"].update(partition_key={"name": "pk"}, items=[{"pk": "o-1"}])
    backend.log.clear()

    apply(backend, replaced)

    calls = mutating_ops(backend)
    assert calls.index("DeleteResourcePolicy") < calls.index("DeleteTable") < calls.index("CreateTable") < calls.index("PutResourcePolicy")
    assert live_policy(backend)["Statement"][0]["Sid"] == "ReaderGet"
    assert pending(plan(backend, replaced)) == {}


def test_a_failure_at_put_resource_policy_converges_on_the_next_apply(backend):
    """Fault: the table is created, PutResourcePolicy fails; the next apply plans an update of the
    policy alone and converges."""
    def fail(service, operation, params):
        if operation == "PutResourcePolicy":
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)

    remove = backend.observe(fail)
    with pytest.raises(ClientError):
        apply(backend, scenario(READER))
    remove()
    assert live_policy(backend) is None
    assert pending(plan(backend, scenario(READER))) == {"dynamodb_table.orders": ["items", "policy"]}

    apply(backend, scenario(READER))

    assert live_policy(backend)["Statement"][0]["Sid"] == "ReaderGet"
    assert pending(plan(backend, scenario(READER))) == {}
    backend.log.clear()
    apply(backend, scenario(READER))
    assert mutating_ops(backend) == []


def test_an_endpoint_without_table_policies_still_reads_tables(backend) -> None:
    """An emulator that answers GetResourcePolicy with HTTP 501 (not implemented) has no table
    policy to observe: a scenario without one plans no change instead of failing every read."""
    apply(backend, scenario())

    def not_implemented(service, operation, params):
        if operation == "GetResourcePolicy":
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "not yet implemented"},
                               "ResponseMetadata": {"HTTPStatusCode": 501}}, operation)

    remove = backend.observe(not_implemented)
    try:
        assert pending(plan(backend, scenario())) == {}
        assert pending(plan(backend, scenario(READER))) == {"dynamodb_table.orders": ["policy"]}
    finally:
        remove()
