"""Unsigned (anonymous) requests and S3 Block Public Access, in-process and through serve.

IAM User Guide, "AWS JSON policy elements: Principal", anonymous users: an unsigned request is
allowed only by a resource-based policy statement whose Principal is "*" (or {"AWS": "*"}); no
identity-based policy exists for it. S3 User Guide, "Blocking public access to your Amazon S3
storage": RestrictPublicBuckets limits a public bucket policy to the owner's account; S3 API
Reference, "PublicAccessBlockConfiguration": BlockPublicPolicy makes PutBucketPolicy of a public
policy fail (403 AccessDenied). S3 User Guide, "Controlling ownership of objects and disabling
ACLs": with BucketOwnerEnforced a PutObject carrying an ACL fails with AccessControlListNotSupported.

Every test here can fail the way the issue fears: an unsigned request that the gate took for
orchestrate's administrator identity, or passed to moto undecided, would be allowed.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Iterator

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from gate_scenario import REGION, gated_server

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import gated
from orchestrator.authz.gate.wsgi import GatedMotoServer
from orchestrator.backends.moto_extensions import install_policy_checks_off
from orchestrator.backends.moto_world import MotoWorld

BUCKET = "public-docs"
PUBLIC = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}
VPCE_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "EndpointOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]}


class World:
    """orchestrate's client, a same-account reader with no policy, and an unsigned client."""

    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint
        admin = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        self.s3 = self.client(admin)
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_object(Bucket=BUCKET, Key="readme.txt", Body=b"hello")
        iam = self.client(admin, "iam")
        iam.create_user(UserName="reader")
        keys = iam.create_access_key(UserName="reader")["AccessKey"]
        self.reader = self.client(boto3.Session(aws_access_key_id=keys["AccessKeyId"],
                                                aws_secret_access_key=keys["SecretAccessKey"], region_name=REGION))
        self.anonymous = self.client(boto3.Session(region_name=REGION), config=Config(signature_version=UNSIGNED))
        self.anonymous_kms = self.client(boto3.Session(region_name=REGION), "kms",
                                         config=Config(signature_version=UNSIGNED))

    def client(self, session: boto3.Session, service: str = "s3", config: Config | None = None) -> Any:
        return session.client(service, endpoint_url=self.endpoint, region_name=REGION, config=config)


def code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    error = caught.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    install_policy_checks_off()  # as the embedded backend and `orchestrate serve` do: the gate alone decides
    with mock_aws(), gated(Gate(REGION, MotoWorld())):
        yield World()


@pytest.fixture(scope="module")
def server() -> Iterator[GatedMotoServer]:
    install_policy_checks_off()
    with gated_server() as running:
        yield running


@pytest.fixture
def served(server: GatedMotoServer) -> World:
    urllib.request.urlopen(urllib.request.Request(f"{server.endpoint_url}/moto-api/reset", method="POST"),
                           timeout=30).read()
    return World(server.endpoint_url)


@pytest.fixture(params=["in-process", "serve"])
def world(request: pytest.FixtureRequest) -> World:
    return request.getfixturevalue("in_process" if request.param == "in-process" else "served")


def test_unsigned_get_without_a_public_policy_is_denied(world: World) -> None:
    """Not orchestrate's administrator, not moto's call: no policy grants "*", so AccessDenied."""
    with pytest.raises(ClientError) as caught:
        world.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")
    assert code(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as listed:
        world.anonymous.list_objects_v2(Bucket=BUCKET)
    assert code(listed) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as put:
        world.anonymous.put_object(Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert code(put) == ("AccessDenied", 403)
    with pytest.raises(ClientError):
        world.anonymous.head_object(Bucket=BUCKET, Key="readme.txt")


def test_unsigned_requests_never_change_the_world(world: World) -> None:
    with pytest.raises(ClientError):
        world.anonymous.delete_bucket_policy(Bucket=BUCKET)
    with pytest.raises(ClientError):
        world.anonymous.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    with pytest.raises(ClientError):
        world.s3.get_bucket_policy(Bucket=BUCKET)  # still none


def test_a_public_policy_allows_unsigned_reads_only(world: World) -> None:
    world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    assert world.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")["Body"].read() == b"hello"
    assert world.anonymous.head_object(Bucket=BUCKET, Key="readme.txt")["ContentLength"] == 5
    assert [o["Key"] for o in world.anonymous.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["readme.txt"]
    with pytest.raises(ClientError) as caught:
        world.anonymous.put_object(Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert code(caught) == ("AccessDenied", 403)


def test_a_policy_bounded_to_a_vpc_endpoint_denies_anonymous(world: World) -> None:
    world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(VPCE_ONLY))
    with pytest.raises(ClientError) as caught:
        world.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")
    assert code(caught) == ("AccessDenied", 403)


def test_restrict_public_buckets_denies_anonymous_and_keeps_the_owners_users(world: World) -> None:
    world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    world.s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    with pytest.raises(ClientError) as caught:
        world.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")
    assert code(caught) == ("AccessDenied", 403)
    assert world.reader.get_object(Bucket=BUCKET, Key="readme.txt")["Body"].read() == b"hello"


def test_block_public_policy_refuses_a_public_policy_not_a_bounded_one(world: World) -> None:
    world.s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    with pytest.raises(ClientError) as caught:
        world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    assert code(caught) == ("AccessDenied", 403)
    assert "BlockPublicPolicy" in caught.value.response["Error"]["Message"]
    world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(VPCE_ONLY))
    assert "aws:SourceVpce" in world.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]


def test_bucket_owner_enforced_refuses_an_acl(world: World) -> None:
    world.s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    with pytest.raises(ClientError) as caught:
        world.s3.put_object(Bucket=BUCKET, Key="acl.txt", Body=b"x", ACL="public-read")
    assert code(caught) == ("AccessControlListNotSupported", 400)
    world.s3.put_object(Bucket=BUCKET, Key="owner.txt", Body=b"x", ACL="bucket-owner-full-control")


def test_unsigned_requests_to_other_services_need_authentication(world: World) -> None:
    """Only S3 takes anonymous requests; KMS answers an unsigned one MissingAuthenticationToken."""
    with pytest.raises(ClientError) as caught:
        world.anonymous_kms.list_keys()
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationToken"


# --- The account-level Block Public Access (S3 Control PutPublicAccessBlock with AccountId) ------
# S3 User Guide, "Blocking public access to your Amazon S3 storage": "Amazon S3 applies the most
# restrictive combination of the bucket-level and account-level settings". In-process.

ACCOUNT = "123456789012"


def account_block(world: World, **settings: bool) -> None:
    s3control = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                              region_name=REGION).client("s3control", region_name=REGION)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=settings)


def test_account_restrict_public_buckets_denies_anonymous_where_the_bucket_block_is_off(in_process: World) -> None:
    in_process.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    in_process.s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"RestrictPublicBuckets": False})
    assert in_process.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")["Body"].read() == b"hello"
    account_block(in_process, RestrictPublicBuckets=True)
    with pytest.raises(ClientError) as caught:
        in_process.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")
    assert code(caught) == ("AccessDenied", 403)
    assert in_process.reader.get_object(Bucket=BUCKET, Key="readme.txt")["Body"].read() == b"hello"


def test_account_block_public_policy_refuses_a_public_policy_where_the_bucket_block_is_off(in_process: World) -> None:
    account_block(in_process, BlockPublicPolicy=True)
    with pytest.raises(ClientError) as caught:
        in_process.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    assert code(caught) == ("AccessDenied", 403)
    assert "BlockPublicPolicy" in caught.value.response["Error"]["Message"]
    in_process.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(VPCE_ONLY))


def test_an_account_block_of_another_account_does_not_apply(in_process: World) -> None:
    """The setting is the bucket owner's account's: another account's block changes nothing here."""
    from moto.s3control.models import PublicAccessBlock, s3control_backends

    s3control_backends["210987654321"]["aws"].public_access_block = PublicAccessBlock(True, True, True, True)
    in_process.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC))
    assert in_process.anonymous.get_object(Bucket=BUCKET, Key="readme.txt")["Body"].read() == b"hello"
