"""Customer managed IAM policies (orchestrator/resources/iam_policy.py) against moto.

IAM API Reference: CreatePolicy (Path, Description, Tags), GetPolicy, GetPolicyVersion,
CreatePolicyVersion (SetAsDefault; "a managed policy can have up to five versions"),
DeletePolicyVersion, ListEntitiesForPolicy, DeletePolicy ("you must first detach the policy from
all users, groups, and roles").
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from res_support import (
    ACCOUNT, SCENARIO, actions, allow, apply, as_list, doc, mutating_ops, ownership, pending, plan, teardown,
)

from orchestrator.reconcile.plan import Action

PATH = f"/orchestrate/{SCENARIO}/"
ARN = f"arn:aws:iam::{ACCOUNT}:policy{PATH}read-orders"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"


def scenario(action: str = "dynamodb:GetItem", description: str = "reads orders") -> dict:
    return {
        "policies": {"read-orders": {"description": description, "document": doc(allow(action, "table:orders"))}},
        "groups": {"devs": {"managed_policies": ["policy:read-orders"]}},
        "users": {"tester": {"managed_policies": ["policy:read-orders"]}},
    }


def default_document(iam) -> dict:
    version = iam.get_policy(PolicyArn=ARN)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=ARN, VersionId=version)["PolicyVersion"]["Document"]


def test_create_policy_and_attach_it(backend):
    """CreatePolicy under /orchestrate/SCENARIO/ with description, ownership tags and the document's
    `table:orders` resolved; `policy:read-orders` attaches that ARN to the user and the group."""
    apply(backend, scenario())

    iam = backend.client("iam")
    policy = iam.get_policy(PolicyArn=ARN)["Policy"]
    assert (policy["Path"], policy["Description"], policy["DefaultVersionId"]) == (PATH, "reads orders", "v1")
    tags = {t["Key"]: t["Value"] for t in iam.list_policy_tags(PolicyArn=ARN)["Tags"]}
    assert tags == ownership("read-orders")
    statement = default_document(iam)["Statement"][0]
    assert as_list(statement["Resource"]) == [TABLE_ARN]
    assert as_list(statement["Action"]) == ["dynamodb:GetItem"]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]] == [ARN]
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"]] == [ARN]


def test_second_apply_makes_no_mutating_call(backend):
    """GetPolicy + GetPolicyVersion(default) + ListPolicyTags read back the declared policy."""
    apply(backend, scenario())
    backend.log.clear()

    result = apply(backend, scenario())

    assert set(actions(result).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_document_change_adds_default_version_and_prunes_at_five(backend):
    """CreatePolicyVersion(SetAsDefault=True) for each new document; once five versions exist the
    oldest non-default version is deleted first (DeletePolicyVersion), so v1 and v2 go."""
    apply(backend, scenario())
    iam = backend.client("iam")

    backend.log.clear()
    result = apply(backend, scenario("dynamodb:Query"))
    assert actions(result)["iam_policy.read-orders"] == "update"
    assert mutating_ops(backend) == ["CreatePolicyVersion"]
    versions = {v["VersionId"]: v["IsDefaultVersion"] for v in iam.list_policy_versions(PolicyArn=ARN)["Versions"]}
    assert versions == {"v1": False, "v2": True}
    assert as_list(default_document(iam)["Statement"][0]["Action"]) == ["dynamodb:Query"]
    assert pending(plan(backend, scenario("dynamodb:Query"))) == {}

    for action in ("dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem"):
        apply(backend, scenario(action))
    assert len(iam.list_policy_versions(PolicyArn=ARN)["Versions"]) == 5
    for action in ("dynamodb:DeleteItem", "dynamodb:BatchGetItem"):
        backend.log.clear()
        apply(backend, scenario(action))
        assert mutating_ops(backend) == ["DeletePolicyVersion", "CreatePolicyVersion"]

    versions = {v["VersionId"]: v["IsDefaultVersion"] for v in iam.list_policy_versions(PolicyArn=ARN)["Versions"]}
    assert versions == {"v3": False, "v4": False, "v5": False, "v6": False, "v7": True}
    assert as_list(default_document(iam)["Statement"][0]["Action"]) == ["dynamodb:BatchGetItem"]
    assert pending(plan(backend, scenario("dynamodb:BatchGetItem"))) == {}


def test_description_change_replaces_policy_and_reattaches_it(backend):
    """A policy's description cannot change after CreatePolicy: plan REPLACE; apply detaches,
    deletes and recreates it, and the user and group get it attached again."""
    apply(backend, scenario())
    changed = scenario(description="reads orders, v2")

    planned = plan(backend, changed)
    assert actions(planned)["iam_policy.read-orders"] == Action.REPLACE.value
    assert pending(planned)["iam_policy.read-orders"] == ["description"]

    backend.log.clear()
    apply(backend, changed)

    calls = mutating_ops(backend)
    assert calls.index("DetachUserPolicy") < calls.index("DeletePolicy") < calls.index("CreatePolicy")
    assert calls.index("CreatePolicy") < min(calls.index("AttachGroupPolicy"), calls.index("AttachUserPolicy"))
    iam = backend.client("iam")
    assert iam.get_policy(PolicyArn=ARN)["Policy"]["Description"] == "reads orders, v2"
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]] == [ARN]
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"]] == [ARN]
    assert pending(plan(backend, changed)) == {}


def test_destroy_detaches_then_deletes_policy(backend):
    """ListEntitiesForPolicy, Detach{User,Group}Policy, DeletePolicyVersion (non-default), DeletePolicy."""
    apply(backend, scenario())
    apply(backend, scenario("dynamodb:Query"))
    backend.log.clear()

    result = teardown(backend, scenario("dynamodb:Query"))

    assert actions(result)["iam_policy.read-orders"] == "delete"
    calls = mutating_ops(backend)
    emptied = max(calls.index("DetachUserPolicy"), calls.index("DetachGroupPolicy"), calls.index("DeletePolicyVersion"))
    assert emptied < calls.index("DeletePolicy")
    with pytest.raises(ClientError) as raised:
        backend.client("iam").get_policy(PolicyArn=ARN)
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_destroy_detaches_policy_from_roles_too(backend):
    """DeletePolicy: "Before you can delete a managed policy, you must first detach the policy from all
    users, groups, and roles that it is attached to"."""
    document = {"policies": {"read-orders": {"document": doc(allow("dynamodb:GetItem", "table:orders"))}}}
    apply(backend, document)
    iam = backend.client("iam")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="worker", PolicyArn=ARN)

    teardown(backend, document)

    assert iam.list_attached_role_policies(RoleName="worker")["AttachedPolicies"] == []


def test_same_named_policy_elsewhere_is_a_conflict(backend):
    """Ownership: a same-named customer managed policy that is not the scenario's."""
    document = {"policies": {"read-orders": {"document": doc(allow("dynamodb:GetItem", "table:orders"))}}}
    backend.client("iam").create_policy(PolicyName="read-orders", PolicyDocument=json.dumps(doc(allow("s3:ListBucket"))))

    assert actions(plan(backend, document))["iam_policy.read-orders"] == "conflict"
