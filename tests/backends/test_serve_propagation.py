"""`orchestrate serve --propagation-delay` with real boto3 clients: a key policy that grants a user
is shown by GetKeyPolicy at once, but the user is denied until the delay has passed; every
response announces the delay (PROPAGATION_HEADER)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from orchestrator.authz.gate.propagation import PROPAGATION_HEADER

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))
from serve_support import served  # noqa: E402

ACCOUNT = "123456789012"
DELAY = 2.0


def _policy(*extra: dict[str, Any]) -> str:
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *extra]})


def _as_user(url: str, key: dict[str, str]) -> Any:
    return boto3.client("kms", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"])


def _denied(kms: Any, key_id: str) -> bool:
    try:
        kms.describe_key(KeyId=key_id)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException", error.response
        return True
    return False


def test_a_key_policy_grant_is_enforced_after_the_delay_and_read_at_once(tmp_path: Path) -> None:
    with served(tmp_path / "serve.log", ("--propagation-delay", f"{DELAY:g}")) as world:
        world.iam.create_user(UserName="late")
        user_arn = world.iam.get_user(UserName="late")["User"]["Arn"]
        user = _as_user(world.url, world.iam.create_access_key(UserName="late")["AccessKey"])
        created = world.kms.create_key(Policy=_policy())
        key_id = created["KeyMetadata"]["KeyId"]
        assert created["ResponseMetadata"]["HTTPHeaders"][PROPAGATION_HEADER] == f"{DELAY:g}"
        assert _denied(user, key_id)

        granting = _policy({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:DescribeKey",
                            "Resource": "*"})
        world.kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=granting)
        changed = time.monotonic()
        shown = world.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        assert json.loads(shown) == json.loads(granting)  # the read shows the new document at once
        assert _denied(user, key_id)  # ... while the gate still decides with the old one

        while _denied(user, key_id):
            assert time.monotonic() - changed < DELAY + 3, "still denied long after the delay"
            time.sleep(0.1)
        took = time.monotonic() - changed
        assert DELAY - 0.3 <= took <= DELAY + 1.5, took
        assert not _denied(user, key_id)  # and it stays allowed


@pytest.mark.parametrize("value", ["-1", "x", "4000"])
def test_a_bad_delay_is_a_usage_error(value: str) -> None:
    from orchestrator.cli import main

    assert main(["serve", "--propagation-delay", value]) == 2
