"""Only the gate judges a bucket policy, on the embedded backend and under `orchestrate serve`.

moto 5.2 runs its own bucket-policy check after the gate has allowed a request (``FakeBucket.
get_permission``, called by its object operations and DeleteObjects), one that ignores Principal
and Condition: any matching Deny denied everyone. S3 evaluates a statement for the principals it
names and when its conditions hold (S3 User Guide, "Bucket policies", "How Amazon S3 authorizes a
request"); so does the gate, and what it decides is what happens (moto_extensions.
install_s3_bucket_policy_off)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.authz.gate.transport import Transport
from orchestrator.backends.base import Credentials
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.backends.endpoint import EndpointBackend
from orchestrator.prove.assertions import carrying

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))
from serve_support import served  # noqa: E402

ACCOUNT = "123456789012"
BUCKET = "deny-one"
REGION = "us-east-1"
OUTSIDE_TEN = "127.0.0.1"  # the gate's aws:SourceIp when a call names none
INSIDE_TEN = "10.1.2.3"


@dataclass
class World:
    """One backend's clients: IAM and S3 as orchestrate's own identity, S3 as a user's keys;
    `gate` is the in-process gate (None under serve, where it runs in the server process)."""

    iam: Any
    s3: Any
    as_user: Callable[[Credentials], Any]
    gate: Any = None


@pytest.fixture(scope="module", params=["embedded", "serve"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "embedded":
        backend = EmbeddedBackend(REGION)
        try:
            yield World(backend.client("iam"), backend.client("s3"), lambda keys: backend.client("s3", keys), backend.gate)
        finally:
            backend.close()
        return
    with served(tmp_path_factory.mktemp("serve") / "serve.log") as served_world:
        # orchestrate's endpoint clients: serve honours a call's source IP only with their proof
        backend = EndpointBackend(REGION, served_world.url)
        try:
            yield World(served_world.iam, backend.client("s3"), lambda keys: backend.client("s3", keys))
        finally:
            backend.close()


def _user(world: World, name: str) -> Any:
    try:
        world.iam.create_user(UserName=name)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "EntityAlreadyExists"
    key = world.iam.create_access_key(UserName=name)["AccessKey"]
    return world.as_user(Credentials(key["AccessKeyId"], key["SecretAccessKey"]))


def _bucket(world: World, name: str, *statements: dict[str, Any]) -> None:
    world.s3.create_bucket(Bucket=name)
    world.s3.put_object(Bucket=name, Key="a.txt", Body=b"alpha")
    world.s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def _user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def _gate_denies(error: ClientError) -> None:
    """The gate's S3 AccessDenied (moto's own bucket-policy 403 has no body: code "403")."""
    assert error.response["Error"]["Code"] == "AccessDenied", error.response
    assert "with an explicit deny in a resource-based policy" in error.response["Error"]["Message"]


def test_a_deny_naming_one_principal_denies_that_principal_only(world: World) -> None:
    bucket = f"{BUCKET}-principal"
    objects = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    _bucket(world, bucket,
            {"Sid": "BothRead", "Effect": "Allow", "Principal": {"AWS": [_user_arn("reader"), _user_arn("intern")]},
             "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": objects},
            {"Sid": "NotIntern", "Effect": "Deny", "Principal": {"AWS": _user_arn("intern")},
             "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": objects})
    reader, intern = _user(world, "reader"), _user(world, "intern")

    assert reader.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"alpha"
    with pytest.raises(ClientError) as denied:
        intern.get_object(Bucket=bucket, Key="a.txt")
    _gate_denies(denied.value)
    assert world.s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"alpha"  # orchestrate's own

    with pytest.raises(ClientError) as denied:
        intern.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a.txt"}]})
    _gate_denies(denied.value)
    deleted = reader.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a.txt"}]})
    assert deleted.get("Errors", []) == [] and [d["Key"] for d in deleted["Deleted"]] == ["a.txt"]


def _check(world: World, bucket: str, key: str, transport: Transport | None = None) -> bool | None:
    """Whether the in-process gate allows orchestrate's own PutObject (None under serve)."""
    if world.gate is None:
        return None
    gate = world.gate if transport is None else world.gate.for_call(transport)
    verdict = gate.check("s3", "PutObject", {"Bucket": bucket, "Key": key}, "AKIAORCHESTRATEADMIN0", REGION, ACCOUNT)
    return verdict.error is None


def _put(world: World, bucket: str, key: str, transport: Transport | None = None) -> bool:
    """Whether orchestrate's own PutObject succeeds; a refusal must be the gate's."""
    try:
        with carrying(world.s3, transport):
            world.s3.put_object(Bucket=bucket, Key=key, Body=b"seed")
    except ClientError as error:
        _gate_denies(error)
        return False
    return True


def test_a_deny_outside_an_address_range_is_decided_by_the_gate_for_orchestrates_own_put(world: World) -> None:
    bucket = f"{BUCKET}-source-ip"
    world.s3.create_bucket(Bucket=bucket)
    world.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyFromTen", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))

    assert _check(world, bucket, "outside.txt") in (False, None)  # 127.0.0.1 is outside 10.0.0.0/8
    assert _put(world, bucket, "outside.txt") is False
    inside = Transport(source_ip=INSIDE_TEN)
    assert _check(world, bucket, "inside.txt", inside) in (True, None)
    assert _put(world, bucket, "inside.txt", inside) is True
    assert world.s3.get_object(Bucket=bucket, Key="inside.txt")["Body"].read() == b"seed"


def test_a_deny_whose_condition_does_not_hold_does_not_deny(world: World) -> None:
    bucket = f"{BUCKET}-insecure"
    world.s3.create_bucket(Bucket=bucket)
    world.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))

    assert _check(world, bucket, "seed.txt") in (True, None)  # the gate's aws:SecureTransport is true
    assert _put(world, bucket, "seed.txt") is True
    assert _put(world, bucket, "plain.txt", Transport(secure_transport=False)) is False
