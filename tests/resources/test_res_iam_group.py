"""IAM groups (IamGroup) and their access (IamGroupAccess) against moto via the embedded backend.

IAM API Reference: CreateGroup (Path), GetGroup, UpdateGroup (NewPath), PutGroupPolicy/
GetGroupPolicy/DeleteGroupPolicy, AttachGroupPolicy/DetachGroupPolicy, RemoveUserFromGroup,
DeleteGroup. Groups cannot be tagged: the path /orchestrate/SCENARIO/ marks ownership.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from res_support import (
    ACCOUNT, ACCOUNT_ADMIN, AWS_POLICY, SCENARIO, actions, allow, apply, as_list, doc, live_key,
    mutating_ops, pending, plan, record, teardown,
)

from orchestrator.resources.context import ConflictError

PATH = f"/orchestrate/{SCENARIO}/"
CUSTOM_ARN = f"arn:aws:iam::{ACCOUNT}:policy{PATH}read-orders"


def scenario() -> dict:
    return {
        "policies": {"read-orders": {"document": doc(allow("dynamodb:GetItem", "table:orders"))}},
        "groups": {
            "devs": {
                "managed_policies": ["ReadOnlyAccess", "policy:read-orders"],
                "inline_policies": {"describe-key": doc(allow("kms:DescribeKey", "key:data"))},
            },
        },
        "users": {"tester": {"groups": ["devs"]}},
        "keys": {"data": {"policy": doc(ACCOUNT_ADMIN)}},
    }


def test_create_group_and_access(backend):
    """CreateGroup under the scenario's path; PutGroupPolicy with `key:data` resolved to the key
    ARN; AttachGroupPolicy with both an AWS managed and the scenario's own policy ARN."""
    planned = actions(plan(backend, scenario()))
    assert (planned["iam_group.devs"], planned["iam_group_access.devs"]) == ("create", "create")

    apply(backend, scenario())

    iam = backend.client("iam")
    group = iam.get_group(GroupName="devs")
    assert group["Group"]["Path"] == PATH
    assert group["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group{PATH}devs"
    assert [u["UserName"] for u in group["Users"]] == ["tester"]
    inline = iam.get_group_policy(GroupName="devs", PolicyName="describe-key")["PolicyDocument"]
    assert as_list(inline["Statement"][0]["Resource"]) == [live_key(backend, "data")["Arn"]]
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"])
    assert attached == sorted([AWS_POLICY + "ReadOnlyAccess", CUSTOM_ARN])


def test_second_apply_makes_no_mutating_call(backend):
    """GetGroup/ListGroupPolicies/GetGroupPolicy/ListAttachedGroupPolicies read back the declared state."""
    apply(backend, scenario())
    backend.log.clear()

    result = apply(backend, scenario())

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_group_policies_update_in_place(backend):
    """PutGroupPolicy for a changed document, DetachGroupPolicy, DeleteGroupPolicy; nothing pending after."""
    document = scenario()
    apply(backend, document)
    iam = backend.client("iam")
    devs = document["groups"]["devs"]

    def step(expected_ops):
        backend.log.clear()
        assert actions(apply(backend, document))["iam_group_access.devs"] == "update"
        assert mutating_ops(backend) == expected_ops
        assert pending(plan(backend, document)) == {}

    devs["inline_policies"]["describe-key"] = doc(allow(["kms:DescribeKey", "kms:GetKeyPolicy"], "key:data"))
    step(["PutGroupPolicy"])
    inline = iam.get_group_policy(GroupName="devs", PolicyName="describe-key")["PolicyDocument"]
    assert sorted(as_list(inline["Statement"][0]["Action"])) == ["kms:DescribeKey", "kms:GetKeyPolicy"]

    devs["managed_policies"] = ["policy:read-orders"]
    step(["DetachGroupPolicy"])
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"]] == [CUSTOM_ARN]

    devs["inline_policies"] = {}
    step(["DeleteGroupPolicy"])
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == []


def test_destroy_empties_then_deletes_group(backend):
    """DeleteGroup fails while the group has members or policies (DeleteConflict): members removed,
    inline policies deleted and managed ones detached first."""
    document = scenario()
    apply(backend, document)
    backend.log.clear()

    result = teardown(backend, document)

    assert (actions(result)["iam_group.devs"], actions(result)["iam_group_access.devs"]) == ("delete", "delete")
    calls = mutating_ops(backend)
    deleted = calls.index("DeleteGroup")
    assert max(calls.index("RemoveUserFromGroup"), calls.index("DeleteGroupPolicy"), calls.index("DetachGroupPolicy")) < deleted
    with pytest.raises(ClientError) as raised:
        backend.client("iam").get_group(GroupName="devs")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_foreign_group_conflicts_and_adopt_moves_it_under_the_scenario_path(backend):
    """A same-named group outside /orchestrate/SCENARIO/ is not ours: plan CONFLICT, apply raises
    ConflictError before touching it, destroy leaves it; --adopt moves it (UpdateGroup NewPath)."""
    iam = backend.client("iam")
    iam.create_group(GroupName="devs")
    document = {"groups": {"devs": {"inline_policies": {"p": doc(allow("s3:ListBucket", "arn:aws:s3:::b"))}}}}

    planned = actions(plan(backend, document))
    assert (planned["iam_group.devs"], planned["iam_group_access.devs"]) == ("conflict", "conflict")
    backend.log.clear()
    with pytest.raises(ConflictError, match="iam_group.devs"):
        apply(backend, document)
    assert mutating_ops(backend) == []
    assert actions(teardown(backend, document)) == {"iam_group_access.devs": "conflict", "iam_group.devs": "conflict"}
    assert mutating_ops(backend) == []
    assert iam.get_group(GroupName="devs")["Group"]["Path"] == "/"

    moved = record(backend, "UpdateGroup")
    apply(backend, document, adopt=True)

    assert moved == [{"GroupName": "devs", "NewPath": PATH}]
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == ["p"]
    # On AWS the group now lives under PATH and is owned without --adopt. moto 5.2.5 ignores an
    # UpdateGroup that has NewPath but no NewGroupName, so the path (and ownership) cannot be checked.
