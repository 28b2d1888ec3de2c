"""IAM users (IamUser) and their access (IamUserAccess) against moto via the embedded backend.

IAM API Reference: CreateUser (Tags), TagUser/UntagUser, PutUserPolicy/GetUserPolicy/
DeleteUserPolicy, AttachUserPolicy/DetachUserPolicy, AddUserToGroup/RemoveUserFromGroup,
PutUserPermissionsBoundary, CreateAccessKey/DeleteAccessKey, DeleteUser.
"""
from __future__ import annotations

import contextlib

import pytest
from botocore.exceptions import ClientError
from res_support import (
    ACCOUNT, ACCOUNT_ADMIN, AWS_POLICY, actions, allow, apply, as_list, doc, live_key, mutating_ops, ops,
    ownership, pending, plan, record, teardown, user_tags,
)

TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"


def scenario() -> dict:
    return {
        "groups": {"devs": {}},
        "users": {
            "tester": {
                "tags": {"team": "qa"},
                "groups": ["devs"],
                "managed_policies": ["AmazonDynamoDBFullAccess"],
                "inline_policies": {
                    "use-key": doc(allow("kms:Decrypt", "key:data")),
                    "read-orders": doc(allow(["dynamodb:GetItem", "dynamodb:Query"], "table:orders")),
                },
            },
        },
        "keys": {"data": {"policy": doc(ACCOUNT_ADMIN)}},
        "tables": {"orders": {"partition_key": {"name": "id"}, "encryption": "key:data"}},
    }


def test_create_user_and_access(backend):
    """CreateUser with tags (ownership tags added); PutUserPolicy with references resolved to the
    key's and the table's ARNs; AttachUserPolicy with the AWS managed policy ARN; AddUserToGroup."""
    planned = plan(backend, scenario())
    assert (actions(planned)["iam_user.tester"], actions(planned)["iam_user_access.tester"]) == ("create", "create")

    apply(backend, scenario())

    iam = backend.client("iam")
    assert user_tags(backend, "tester") == {"team": "qa", **ownership("tester")}
    key_arn = live_key(backend, "data")["Arn"]
    use_key = iam.get_user_policy(UserName="tester", PolicyName="use-key")["PolicyDocument"]
    assert as_list(use_key["Statement"][0]["Resource"]) == [key_arn]
    read = iam.get_user_policy(UserName="tester", PolicyName="read-orders")["PolicyDocument"]
    assert as_list(read["Statement"][0]["Resource"]) == [TABLE_ARN]
    assert sorted(as_list(read["Statement"][0]["Action"])) == ["dynamodb:GetItem", "dynamodb:Query"]
    attached = iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [AWS_POLICY + "AmazonDynamoDBFullAccess"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="tester")["Groups"]] == ["devs"]


def test_permissions_boundary_is_sent_as_a_policy_arn(backend):
    """PutUserPermissionsBoundary(UserName, PermissionsBoundary=ARN) after CreateUser. moto 5.2.5
    does not implement the operation (NotImplementedError), so only the request is checked here."""
    sent = record(backend, "PutUserPermissionsBoundary")
    document = {"users": {"tester": {"permissions_boundary": "PowerUserAccess"}}}

    with contextlib.suppress(NotImplementedError):
        apply(backend, document)

    assert sent == [{"UserName": "tester", "PermissionsBoundary": AWS_POLICY + "PowerUserAccess"}]
    assert ops(backend).index("CreateUser") < ops(backend).index("PutUserPermissionsBoundary")


def test_permissions_boundary_round_trip(backend):
    """GetUser returns User.PermissionsBoundary.PermissionsBoundaryArn once it is set."""
    document = {"users": {"tester": {"permissions_boundary": "PowerUserAccess"}}}
    apply(backend, document)

    user = backend.client("iam").get_user(UserName="tester")["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == AWS_POLICY + "PowerUserAccess"
    assert pending(plan(backend, document)) == {}


def test_second_apply_makes_no_mutating_call(backend):
    """ListUserTags/ListUserPolicies/GetUserPolicy/ListAttachedUserPolicies/ListGroupsForUser
    read back exactly what was declared."""
    apply(backend, scenario())
    backend.log.clear()

    result = apply(backend, scenario())

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_access_and_tags_update_in_place(backend):
    """One change at a time: TagUser, UntagUser, PutUserPolicy (changed document),
    DeleteUserPolicy (removed), DetachUserPolicy, RemoveUserFromGroup; then nothing is pending."""
    document = scenario()
    apply(backend, document)
    iam = backend.client("iam")
    tester = document["users"]["tester"]

    def step(address, expected_ops):
        backend.log.clear()
        assert actions(apply(backend, document))[address] == "update"
        assert mutating_ops(backend) == expected_ops
        assert pending(plan(backend, document)) == {}

    tester["tags"] = {"team": "red", "env": "lab"}
    step("iam_user.tester", ["TagUser"])
    tester["tags"] = {"env": "lab"}
    step("iam_user.tester", ["UntagUser"])
    assert user_tags(backend, "tester") == {"env": "lab", **ownership("tester")}

    tester["inline_policies"]["read-orders"] = doc(allow("dynamodb:Scan", "table:orders"))
    step("iam_user_access.tester", ["PutUserPolicy"])
    read = iam.get_user_policy(UserName="tester", PolicyName="read-orders")["PolicyDocument"]
    assert as_list(read["Statement"][0]["Action"]) == ["dynamodb:Scan"]

    del tester["inline_policies"]["use-key"]
    step("iam_user_access.tester", ["DeleteUserPolicy"])
    assert iam.list_user_policies(UserName="tester")["PolicyNames"] == ["read-orders"]

    tester["managed_policies"] = []
    step("iam_user_access.tester", ["DetachUserPolicy"])
    assert iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"] == []

    tester["groups"] = []
    step("iam_user_access.tester", ["RemoveUserFromGroup"])
    assert iam.list_groups_for_user(UserName="tester")["Groups"] == []


def test_destroy_deletes_access_keys_first_then_user(backend):
    """DeleteUser fails while access keys or policies remain (DeleteConflict): destroy deletes the
    access key made for the test principal, the inline and attached policies, then the user."""
    document = scenario()
    apply(backend, document)
    iam = backend.client("iam")
    key_id = iam.create_access_key(UserName="tester")["AccessKey"]["AccessKeyId"]
    backend.log.clear()

    result = teardown(backend, document)

    assert actions(result)["iam_user.tester"] == "delete"
    assert actions(result)["iam_user_access.tester"] == "delete"
    calls = mutating_ops(backend)
    deleted_user = calls.index("DeleteUser")
    assert calls.index("DeleteAccessKey") < deleted_user
    assert calls.index("DeleteUserPolicy") < deleted_user and calls.index("DetachUserPolicy") < deleted_user
    assert calls.index("DeleteTable") < calls.index("ScheduleKeyDeletion") < deleted_user
    with pytest.raises(ClientError) as raised:
        iam.get_user(UserName="tester")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError):
        iam.list_access_keys(UserName="tester")
    assert all(k["AccessKeyId"] != key_id for u in iam.list_users()["Users"]
               for k in iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"])


def test_plan_reads_the_users_access_keys_and_apply_does_not(backend):
    """The user's unmarked access keys are an observed-only property: plan (and drift) read them,
    apply never does (it never deletes a key it did not make), so it never calls ListAccessKeys."""
    apply(backend, scenario())
    before = len(ops(backend))
    plan(backend, scenario())
    assert "ListAccessKeys" in ops(backend)[before:]
    before = len(ops(backend))
    apply(backend, scenario())
    assert "ListAccessKeys" not in ops(backend)[before:]
