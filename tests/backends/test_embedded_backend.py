"""The embedded backend: its identity shortcut matches moto's own answer; it restores what it changed."""

from __future__ import annotations

import os

from orchestrator.backends.embedded import EmbeddedBackend


def test_identity_without_a_call_is_what_moto_answers() -> None:
    backend = EmbeddedBackend("us-east-1")
    try:
        answer = backend.client("sts").get_caller_identity()
        assert backend.identity() == {key: answer[key] for key in ("Account", "Arn", "UserId")}
    finally:
        backend.close()


def test_scenario_account_is_used_and_environment_restored() -> None:
    before = os.environ.get("MOTO_ACCOUNT_ID")
    backend = EmbeddedBackend("eu-west-1", account="111122223333")
    try:
        assert backend.client("sts").get_caller_identity()["Account"] == "111122223333"
        assert backend.identity()["Account"] == "111122223333"
    finally:
        backend.close()
    assert os.environ.get("MOTO_ACCOUNT_ID") == before


def test_aws_managed_policies_load_on_attach_only() -> None:
    backend = EmbeddedBackend("us-east-1")
    try:
        iam = backend.client("iam")
        iam.create_user(UserName="u")
        iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
        attached = iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["AmazonDynamoDBFullAccess"]
        aws_policies = iam.list_policies(Scope="AWS")["Policies"]
        assert [p["PolicyName"] for p in aws_policies] == ["AmazonDynamoDBFullAccess"]
    finally:
        backend.close()
