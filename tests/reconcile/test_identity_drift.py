"""Drift that sees identity: out-of-band changes to users, groups and customer managed policies,
each made with the IAM API on a world apply built, read back by drift as `orchestrate drift` does.
What can grant more (a new Allow anywhere, an attachment, a group membership, an access key,
a lost boundary) widens access; what can only grant less (a removed Allow, a new Deny) does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.drift import Difference, differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources.context import RunContext

READ_ORDERS = {"Sid": "ReadOrders", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "table:orders"}
QUERY_ORDERS = {"Sid": "QueryOrders", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": "table:orders"}
S3_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
NO_S3 = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
SCENARIO = {
    "users": {"tester": {"groups": ["devs"], "inline_policies": {"read": {"Statement": [READ_ORDERS, QUERY_ORDERS]}},
                         "permissions_boundary": "PowerUserAccess"}},
    "groups": {"devs": {"inline_policies": {"team": {"Statement": [READ_ORDERS]}}}},
    "policies": {"shared": {"description": "shared", "document": {"Statement": [READ_ORDERS]}}},
    "tables": {"orders": {"partition_key": {"name": "id", "type": "S"}}},
}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def world() -> Iterator[Any]:
    """A backend where the scenario is applied; yields its IAM client for out-of-band changes."""
    backend = EmbeddedBackend("us-east-1", gate=False)
    try:
        apply_state(RunContext(backend, "identity"), _desired(), "only")
        assert drift(backend) == [], "in sync right after apply"
        world_iam = backend.client("iam")
        world_iam.backend = backend
        yield world_iam
    finally:
        backend.close()


def _desired() -> DesiredState:
    return DesiredState.model_validate(json.loads(json.dumps(SCENARIO)))


def drift(backend: EmbeddedBackend) -> list[Difference]:
    ctx = RunContext(backend, "identity")
    return [d for pair in observe_all(ctx, _desired(), observed_only=True) for d in differences(pair)]


def found(iam: Any) -> dict[tuple[str, str, str], bool]:
    """(resource, path, kind) -> widens access, for every difference."""
    return {(d.resource, d.path, d.kind): d.widens_access for d in drift(iam.backend)}


def test_an_inline_s3_star_policy_on_a_user_widens(world: Any) -> None:
    world.put_user_policy(UserName="tester", PolicyName="oob", PolicyDocument=document(S3_ALL))
    assert found(world) == {("iam_user_access.tester", "inline_policies.oob", "ADD"): True}


def test_an_attached_administrator_access_widens(world: Any) -> None:
    world.attach_user_policy(UserName="tester", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert found(world) == {("iam_user_access.tester", "managed_policies[0]", "ADD"): True}


def test_being_added_to_a_group_widens(world: Any) -> None:
    world.create_group(GroupName="admins")
    world.add_user_to_group(UserName="tester", GroupName="admins")
    assert found(world) == {("iam_user_access.tester", "groups[0]", "ADD"): True}  # admins, devs


def test_an_out_of_band_access_key_is_reported_and_widens(world: Any) -> None:
    world.create_access_key(UserName="tester")
    assert found(world) == {("iam_user.tester", "access_keys[0]", "ADD"): True}


def test_a_new_allow_in_a_group_policy_widens(world: Any) -> None:
    world.put_group_policy(GroupName="devs", PolicyName="team", PolicyDocument=document({**READ_ORDERS, "Resource": "*"}, S3_ALL))
    assert set(found(world).values()) == {True}


def test_a_new_allow_in_a_customer_managed_policy_widens(world: Any) -> None:
    [arn] = [p["Arn"] for p in world.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "shared"]
    current = world.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    current["Statement"].append(S3_ALL)
    world.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(current), SetAsDefault=True)
    assert found(world) == {("iam_policy.shared", "document.Statement[0]", "ADD"): True}  # no Sid sorts first


def test_a_removed_allow_does_not_widen(world: Any) -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    world.put_user_policy(UserName="tester", PolicyName="read", PolicyDocument=document({**READ_ORDERS, "Resource": arn}))
    assert found(world) == {("iam_user_access.tester", "inline_policies.read.Statement[0]", "REMOVE"): False}


def test_a_new_deny_does_not_widen(world: Any) -> None:
    world.put_user_policy(UserName="tester", PolicyName="fence", PolicyDocument=document(NO_S3))
    assert found(world) == {("iam_user_access.tester", "inline_policies.fence", "ADD"): False}


def test_leaving_a_group_does_not_widen_and_losing_the_boundary_does(world: Any) -> None:
    world.remove_user_from_group(UserName="tester", GroupName="devs")
    world.delete_user_permissions_boundary(UserName="tester")
    assert found(world) == {("iam_user_access.tester", "groups[0]", "REMOVE"): False,
                            ("iam_user_access.tester", "permissions_boundary", "NOT_EQUAL"): True}
