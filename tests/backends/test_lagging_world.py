"""The lagging world (orchestrator/authz/propagation.py) with a fake clock, over moto in-process:
a change is invisible to the gate before the delay and visible after, while moto's reads show it
at once; jitter stays in its bounds; changes to one entity keep their order."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.propagation import Propagation, mutates
from orchestrator.backends.lagging_world import LaggingWorld

REGION = "us-east-1"
ACCOUNT = "123456789012"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _policy(effect: str, action: str, principal: Any = None) -> str:
    statement: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": "*"}
    if principal is not None:
        statement["Principal"] = principal
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _root_only() -> str:
    return _policy("Allow", "kms:*", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> LaggingWorld:
    return LaggingWorld(Propagation(delay=5.0), clock, random.Random(1))


def _user(session: Any, name: str) -> str:
    iam = session.client("iam")
    iam.create_user(UserName=name)
    return str(iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"])


def _changed(world: LaggingWorld, service: str, params: dict[str, Any], call: Any) -> Any:
    """``call`` as the middleware runs a mutating call: recorded around moto's run of it."""
    with world.recording(service, params, REGION, ACCOUNT):
        return call()


def _allowed(world: LaggingWorld, access_key: str, service: str, operation: str, params: dict[str, Any]) -> bool:
    return Gate(REGION, world=world).check(service, operation, params, access_key).allowed


def test_a_user_policy_is_enforced_only_after_the_delay_and_read_at_once(aws: Any, world: LaggingWorld,
                                                                       clock: Clock) -> None:
    iam = aws.client("iam")
    key = _changed(world, "iam", {}, lambda: _user(aws, "alice"))
    assert not _allowed(world, key, "iam", "ListUsers", {})
    _changed(world, "iam", {"UserName": "alice"}, lambda: iam.put_user_policy(
        UserName="alice", PolicyName="p", PolicyDocument=_policy("Allow", "iam:ListUsers")))
    assert iam.get_user_policy(UserName="alice", PolicyName="p")["PolicyName"] == "p"  # read at once
    clock.now += 4.9
    assert not _allowed(world, key, "iam", "ListUsers", {})
    clock.now += 0.2
    assert _allowed(world, key, "iam", "ListUsers", {})
    assert world.pending() == 0


def test_a_brand_new_users_first_policies_lag_too(aws: Any, world: LaggingWorld, clock: Clock) -> None:
    """A user made, given a policy and a key in one go: the key is not yet worth the policy."""
    iam = aws.client("iam")
    _changed(world, "iam", {}, lambda: iam.create_user(UserName="bob"))
    _changed(world, "iam", {}, lambda: iam.put_user_policy(UserName="bob", PolicyName="p",
                                                           PolicyDocument=_policy("Allow", "iam:ListUsers")))
    key = _changed(world, "iam", {}, lambda: iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"])
    assert not _allowed(world, key, "iam", "ListUsers", {})
    clock.now += 5
    assert _allowed(world, key, "iam", "ListUsers", {})


def test_group_membership_and_managed_policy_versions_lag(aws: Any, world: LaggingWorld, clock: Clock) -> None:
    iam = aws.client("iam")
    key = _user(aws, "carol")
    arn = iam.create_policy(PolicyName="m", PolicyDocument=_policy("Allow", "iam:ListUsers"))["Policy"]["Arn"]
    iam.create_group(GroupName="g")
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    _changed(world, "iam", {}, lambda: iam.add_user_to_group(GroupName="g", UserName="carol"))
    assert not _allowed(world, key, "iam", "ListUsers", {})
    clock.now += 5
    assert _allowed(world, key, "iam", "ListUsers", {})
    _changed(world, "iam", {}, lambda: iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=_policy("Deny", "iam:ListUsers"), SetAsDefault=True))
    assert _allowed(world, key, "iam", "ListUsers", {})  # the old default still decides
    clock.now += 5
    assert not _allowed(world, key, "iam", "ListUsers", {})


def test_a_key_policy_grant_and_key_state_lag_while_reads_do_not(aws: Any, world: LaggingWorld, clock: Clock) -> None:
    iam, kms = aws.client("iam"), aws.client("kms")
    key = _user(aws, "dave")
    user_arn = iam.get_user(UserName="dave")["User"]["Arn"]
    key_id = kms.create_key(Policy=_root_only())["KeyMetadata"]["KeyId"]
    granting = json.dumps({"Version": "2012-10-17", "Statement": [
        json.loads(_root_only())["Statement"][0],
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:DescribeKey", "Resource": "*"}]})
    _changed(world, "kms", {"KeyId": key_id}, lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default",
                                                                          Policy=granting))
    assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == json.loads(granting)
    assert not _allowed(world, key, "kms", "DescribeKey", {"KeyId": key_id})
    clock.now += 5
    assert _allowed(world, key, "kms", "DescribeKey", {"KeyId": key_id})
    _changed(world, "kms", {"KeyId": key_id}, lambda: kms.disable_key(KeyId=key_id))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is False  # read at once
    assert world.kms_key(key_id, REGION, ACCOUNT).enabled is True  # type: ignore[union-attr]
    clock.now += 5
    assert world.kms_key(key_id, REGION, ACCOUNT).state == "Disabled"  # type: ignore[union-attr]


def test_a_new_grant_lags(aws: Any, world: LaggingWorld, clock: Clock) -> None:
    iam, kms = aws.client("iam"), aws.client("kms")
    key = _user(aws, "erin")
    user_arn = iam.get_user(UserName="erin")["User"]["Arn"]
    key_id = kms.create_key(Policy=_root_only())["KeyMetadata"]["KeyId"]
    _changed(world, "kms", {"KeyId": key_id}, lambda: kms.create_grant(
        KeyId=key_id, GranteePrincipal=user_arn, Operations=["DescribeKey"]))
    assert not _allowed(world, key, "kms", "DescribeKey", {"KeyId": key_id})
    clock.now += 5
    assert _allowed(world, key, "kms", "DescribeKey", {"KeyId": key_id})


def test_a_new_role_cannot_be_assumed_until_it_has_propagated(aws: Any, world: LaggingWorld, clock: Clock) -> None:
    iam = aws.client("iam")
    key = _user(aws, "frank")
    iam.put_user_policy(UserName="frank", PolicyName="p", PolicyDocument=_policy("Allow", "sts:AssumeRole"))
    trust = _policy("Allow", "sts:AssumeRole", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    arn = _changed(world, "iam", {}, lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust))["Role"]["Arn"]
    assert world.role(arn) is None
    assert not _allowed(world, key, "sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "s"})
    clock.now += 5
    assert _allowed(world, key, "sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "s"})


def test_changes_in_a_row_keep_their_order_whatever_the_jitter(clock: Clock) -> None:
    world = LaggingWorld(Propagation(delay=1.0, jitter=10.0), clock, random.Random(7))
    key = ("bucket", "b")
    values = ["v0", "v1", "v2", "v3", "v4", "v5"]
    for old, new in zip(values, values[1:]):
        world.record({key: old}, {key: new})
        clock.now += 0.1
    seen = []
    for _ in range(200):
        seen.append(world._lagged(key, "v5"))
        clock.now += 0.1
    order = [values.index(v) for v in seen]
    assert order == sorted(order) and seen[0] == "v0" and seen[-1] == "v5"


def test_jitter_stays_within_its_bounds(clock: Clock) -> None:
    world = LaggingWorld(Propagation(delay=2.0, jitter=1.0), clock, random.Random(3))
    start = clock.now
    for index in range(50):
        world.record({("bucket", str(index)): "old"}, {("bucket", str(index)): "new"})
    clock.now = start + 2.0 - 1e-9
    assert all(world._lagged(("bucket", str(i)), "new") == "old" for i in range(50))
    clock.now = start + 3.0
    assert all(world._lagged(("bucket", str(i)), "new") == "new" for i in range(50))
    assert world.pending() == 0


def test_the_table_key_cache_lags_a_key_change_for_dynamodb_only(clock: Clock) -> None:
    world = LaggingWorld(Propagation(delay=1.0, table_key_cache=30.0), clock, random.Random(0))
    key = ("key", "arn:aws:kms:us-east-1:123456789012:key/k")
    world.record({key: "allows"}, {key: "denies"})
    clock.now += 2
    assert world._lagged(key, "denies", 1.0) == "denies"  # KMS itself: after the delay
    assert world._lagged(key, "denies", 30.0) == "allows"  # through DynamoDB: the cached table key
    clock.now += 29
    assert world._lagged(key, "denies", 30.0) == "denies"


def test_what_mutates() -> None:
    assert mutates("iam", "PutUserPolicy") and mutates("iam", "AddUserToGroup")
    assert not mutates("iam", "GetUserPolicy") and not mutates("iam", "ListAttachedUserPolicies")
    assert mutates("kms", "PutKeyPolicy") and mutates("kms", "RevokeGrant") and not mutates("kms", "Decrypt")
    assert mutates("s3", "PutBucketPolicy") and not mutates("s3", "GetObject")
    assert not mutates("sts", "AssumeRole")


def test_the_header_announces_the_longest_lag() -> None:
    assert Propagation(2.0, 0.5).header_value() == "2.5"
    assert Propagation(1.0, 0.0, 300.0).header_value() == "300"
    assert not Propagation().enabled and Propagation().header_value() == "0"
