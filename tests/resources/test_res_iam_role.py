"""IAM roles (orchestrator/resources/iam_role.py) against moto through the embedded backend.

IAM API Reference: CreateRole (Path, AssumeRolePolicyDocument, MaxSessionDuration, Tags),
UpdateAssumeRolePolicy, UpdateRole, Put/DeleteRolePolicy, Attach/DetachRolePolicy,
Put/DeleteRolePermissionsBoundary, DeleteRole.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from res_support import ACCOUNT, actions, allow, apply, declared, doc, mutating_ops, ops, pending, plan, teardown

from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.reconcile.preflight import PreflightConflicts, refuse_conflicts

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/data/reader"
NAMED = f"arn:aws:iam::{ACCOUNT}:user/named"


def trust(*principals: str) -> dict[str, Any]:
    return doc(*({"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"} for p in principals))


def scenario(**overrides: Any) -> dict[str, Any]:
    role: dict[str, Any] = {
        "path": "/data/", "trust_policy": trust("user:named"), "max_session_seconds": 7200,
        "tags": {"team": "data"}, "inline_policies": {"describe": doc(allow("kms:DescribeKey"))},
        "managed_policies": ["policy:reading"], "permissions_boundary": "policy:bound",
    }
    role.update(overrides)
    return {"users": {"named": {}}, "roles": {"reader": role},
            "policies": {"reading": {"document": doc(allow("dynamodb:GetItem"))},
                         "bound": {"document": doc(allow(["kms:*", "dynamodb:*"]))}}}


def get_role(backend: Any) -> dict[str, Any]:
    return backend.client("iam").get_role(RoleName="reader")["Role"]


def test_create_makes_the_role_as_declared(backend):
    assert actions(plan(backend, scenario()))["iam_role.reader"] == "create"

    apply(backend, scenario())

    role = get_role(backend)
    assert (role["Arn"], role["Path"], role["MaxSessionDuration"]) == (ROLE_ARN, "/data/", 7200)
    document = role["AssumeRolePolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Principal"] == {"AWS": [NAMED]}
    tags = {t["Key"]: t["Value"] for t in backend.client("iam").list_role_tags(RoleName="reader")["Tags"]}
    assert tags["team"] == "data" and tags["orchestrate:name"] == "reader"
    iam = backend.client("iam")
    assert iam.list_role_policies(RoleName="reader")["PolicyNames"] == ["describe"]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="reader")["AttachedPolicies"]] == ["reading"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith("/bound")


def test_reapply_makes_no_mutating_call(backend):
    apply(backend, scenario())
    backend.log.calls.clear()

    result = apply(backend, scenario())

    assert {actions(result)[a] for a in ("iam_role.reader", "iam_role_access.reader")} == {"no-op"}
    assert mutating_ops(backend) == []


def test_a_changed_trust_policy_and_session_length_are_updated_in_place(backend):
    apply(backend, scenario())
    backend.log.calls.clear()

    apply(backend, scenario(trust_policy=trust("user:named", "account"), max_session_seconds=3600))

    assert sorted(mutating_ops(backend)) == ["UpdateAssumeRolePolicy", "UpdateRole"]
    assert get_role(backend)["MaxSessionDuration"] == 3600


def test_a_changed_path_replaces_the_role(backend):
    apply(backend, scenario())
    backend.log.calls.clear()

    apply(backend, scenario(path="/other/"))

    calls = mutating_ops(backend)
    assert calls.index("DeleteRole") < calls.index("CreateRole")
    assert get_role(backend)["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/other/reader"


def drift(backend: Any, document: dict[str, Any]) -> list[Any]:
    ctx = declared(backend, document)
    return [d for pair in observe_all(ctx, DesiredState.model_validate(document))
            if pair.reconciler.kind.startswith("iam_role") for d in differences(pair)]


def test_drift_reports_a_widened_trust_policy_and_an_attached_policy(backend):
    apply(backend, scenario())
    iam = backend.client("iam")
    iam.update_assume_role_policy(RoleName="reader", PolicyDocument=json.dumps(trust(NAMED, f"arn:aws:iam::{ACCOUNT}:root")))
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    found = {(d.path.split("[")[0], d.widens_access) for d in drift(backend, scenario())}

    assert ("trust_policy.Statement", True) in found or any(p.startswith("trust_policy") and w for p, w in found)
    assert ("managed_policies", True) in found
    apply(backend, scenario())
    assert drift(backend, scenario()) == []


def test_destroy_detaches_everything_and_deletes_the_role(backend):
    apply(backend, scenario())
    backend.log.calls.clear()

    teardown(backend, scenario())

    calls = mutating_ops(backend)
    assert {"DeleteRolePolicy", "DetachRolePolicy", "DeleteRolePermissionsBoundary"} <= set(calls)
    assert calls.index("DetachRolePolicy") < calls.index("DeleteRole")
    with pytest.raises(ClientError):
        get_role(backend)


def test_a_same_named_role_the_scenario_does_not_own_is_a_preflight_conflict(backend):
    backend.client("iam").create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust(NAMED)))
    backend.log.calls.clear()

    with pytest.raises(PreflightConflicts) as refused:
        refuse_conflicts(declared(backend, scenario()), [("base", DesiredState.model_validate(scenario()))])

    assert "iam_role.reader" in str(refused.value)
    assert mutating_ops(backend) == []


FAULT_AT = ["CreateRole", "PutRolePolicy", "AttachRolePolicy", "PutRolePermissionsBoundary", "UpdateAssumeRolePolicy",
            "TagRole", "DeleteRolePolicy"]


@pytest.mark.parametrize("operation", FAULT_AT)
def test_a_fault_at_a_role_call_converges_on_the_next_apply(backend, operation):
    first = scenario(inline_policies={"old": doc(allow("s3:GetObject"))}, tags={}, permissions_boundary=None, managed_policies=[],
                     trust_policy=trust("account"))
    if operation == "CreateRole":
        first = {"users": {"named": {}}}
    apply(backend, first)

    def observer(service: str, name: str, params: dict[str, Any]) -> None:
        if name == operation:
            raise ClientError({"Error": {"Code": "ServiceFailure", "Message": "injected"}}, name)

    undo = backend.observe(observer)
    with pytest.raises(ClientError):
        apply(backend, scenario())
    undo()
    assert pending(plan(backend, scenario())) != {}

    apply(backend, scenario())

    assert pending(plan(backend, scenario())) == {}
    assert get_role(backend)["MaxSessionDuration"] == 7200


def test_a_role_without_policies_plans_no_access_calls(backend):
    bare = scenario(inline_policies={}, managed_policies=[], permissions_boundary=None)
    apply(backend, bare)
    backend.log.calls.clear()

    apply(backend, bare)

    assert mutating_ops(backend) == [] and "ListRolePolicies" in ops(backend)
