"""Table-driven gate cases for S3 and SSE-KMS, decided from a desired state (orchestrator/prove/
desired_world.py, the world the gate reads on an endpoint or real AWS) by orchestrator/authz/
services/s3.py. Each case names the AWS documentation section it follows:

* SSE-KMS: S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)" (upload needs
  kms:GenerateDataKey, download kms:Decrypt, "Amazon S3 ... on your behalf": kms:ViaService), and
  "Encryption context" (aws:s3:arn is the object ARN).
* S3 Bucket Key: S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys",
  "Changes to note before enabling an S3 Bucket Key" (the encryption context is the bucket ARN).
* HEAD: S3 API Reference, HeadObject, Permissions ("To use HEAD, you must have the s3:GetObject
  permission"; it returns metadata and decrypts nothing).
* AWS managed key: KMS Developer Guide, "AWS managed keys" (aws/s3's key policy allows every
  principal of the account to use it through S3).
* Key states: KMS Developer Guide, "Key states of AWS KMS keys" (a disabled key cannot be used).
* Same-account evaluation: IAM User Guide, "Policy evaluation logic" (an identity-based or a
  resource-based policy naming the principal suffices; naming the account delegates to IAM; an
  explicit deny wins); KMS Developer Guide, "Default key policy" (account root delegation).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from orchestrator.authz.gate.core import Gate
from orchestrator.model.scenario import DesiredState
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.resources.context import RunContext

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
READER = f"arn:aws:iam::{ACCOUNT}:user/reader"
OBJECT = "arn:aws:s3:::reports/q1.csv"
BUCKET = "arn:aws:s3:::reports"
VIA_S3 = {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
S3_READ_WRITE = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                 "Resource": ["bucket:reports", "object:reports/*"]}
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "user:admin"}, "Action": "kms:*", "Resource": "*"}


class _Backend:
    account_id, region = ACCOUNT, REGION

    def identity(self) -> dict[str, str]:
        return {"Arn": f"arn:aws:iam::{ACCOUNT}:user/admin"}


def key_statement(actions: list[str], condition: dict[str, Any] | None = None, principal: str = "user:reader") -> dict[str, Any]:
    found: dict[str, Any] = {"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, "Resource": "*"}
    if condition:
        found["Condition"] = condition
    return found


@dataclass(frozen=True)
class Case:
    name: str
    operation: str
    expected: str  # "allowed" or the deciding layer
    encryption: str = "key:data"
    bucket_key: bool = False
    key_statements: tuple[dict[str, Any], ...] = ()
    identity: tuple[dict[str, Any], ...] = (S3_READ_WRITE,)
    bucket_policy: tuple[dict[str, Any], ...] = ()
    enabled: bool = True
    key: str = "q1.csv"


CASES = [
    Case("sse-kms get needs kms:Decrypt in the key policy", "GetObject", "key-policy"),
    Case("sse-kms get allowed by kms:Decrypt via s3", "GetObject", "allowed", key_statements=(key_statement(["kms:Decrypt"], VIA_S3),)),
    Case("kms:ViaService of another service does not apply", "GetObject", "key-policy",
         key_statements=(key_statement(["kms:Decrypt"], {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}}),)),
    Case("the encryption context is the object ARN", "GetObject", "allowed",
         key_statements=(key_statement(["kms:Decrypt"], {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": OBJECT}}),)),
    Case("with a bucket key the context is the bucket ARN, not the object's", "GetObject", "key-policy", bucket_key=True,
         key_statements=(key_statement(["kms:Decrypt"], {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": OBJECT}}),)),
    Case("with a bucket key a condition on the bucket ARN applies", "GetObject", "allowed", bucket_key=True,
         key_statements=(key_statement(["kms:Decrypt"], {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": BUCKET}}),)),
    Case("sse-kms put needs kms:GenerateDataKey, not kms:Decrypt", "PutObject", "key-policy", key="new.csv",
         key_statements=(key_statement(["kms:Decrypt"], VIA_S3),)),
    Case("sse-kms put allowed by kms:GenerateDataKey", "PutObject", "allowed", key="new.csv",
         key_statements=(key_statement(["kms:GenerateDataKey"], VIA_S3),)),
    Case("HEAD decrypts nothing: s3:GetObject alone", "HeadObject", "allowed"),
    Case("HEAD is authorized as s3:GetObject", "HeadObject", "identity-policy", identity=()),
    Case("ListBucket uses no key", "ListObjectsV2", "allowed"),
    Case("aws/s3 (aws-managed) needs no key policy statement", "GetObject", "allowed", encryption="aws-managed"),
    Case("sse-s3 needs no kms permission", "PutObject", "allowed", encryption="aws-owned", key="new.csv"),
    Case("a disabled key cannot decrypt", "GetObject", "key-state", enabled=False,
         key_statements=(key_statement(["kms:Decrypt"], VIA_S3),)),
    Case("a key policy naming the account delegates: IAM must allow kms:Decrypt", "GetObject", "identity-policy",
         key_statements=(key_statement(["kms:*"], principal="account"),)),
    Case("delegated key policy and an IAM allow of kms:Decrypt", "GetObject", "allowed",
         key_statements=(key_statement(["kms:*"], principal="account"),),
         identity=(S3_READ_WRITE, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "key:data"})),
    Case("a bucket policy naming the reader allows alone", "GetObject", "allowed", encryption="aws-owned", identity=(),
         bucket_policy=({"Effect": "Allow", "Principal": {"AWS": "user:reader"}, "Action": "s3:GetObject", "Resource": "object:reports/*"},)),
    Case("a bucket policy naming the account does not allow alone", "GetObject", "identity-policy", encryption="aws-owned", identity=(),
         bucket_policy=({"Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "s3:GetObject", "Resource": "object:reports/*"},)),
    Case("an explicit deny in the bucket policy wins", "GetObject", "explicit-deny",
         key_statements=(key_statement(["kms:Decrypt"], VIA_S3),),
         bucket_policy=({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "object:reports/*"},)),
]


def world(case: Case) -> DesiredWorld:
    bucket: dict[str, Any] = {"encryption": case.encryption, "bucket_key": case.bucket_key,
                              "objects": [{"key": "q1.csv", "body": "eu,100"}]}
    if case.bucket_policy:
        bucket["policy"] = {"Version": "2012-10-17", "Statement": [copy.deepcopy(s) for s in case.bucket_policy]}
    users: dict[str, Any] = {"admin": {}, "reader": {}}
    if case.identity:
        users["reader"]["inline_policies"] = {"s3": {"Version": "2012-10-17", "Statement": [copy.deepcopy(s) for s in case.identity]}}
    desired = DesiredState.model_validate({
        "users": users,
        "keys": {"data": {"lockout": "allow", "enabled": case.enabled,
                          "policy": {"Version": "2012-10-17", "Statement": [ADMIN, *case.key_statements]}}},
        "buckets": {"reports": bucket},
    })
    ctx = RunContext(_Backend(), "cases", known={"key:data": KEY_ARN})  # type: ignore[arg-type]
    return DesiredWorld(ctx, desired, {})


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_s3_sse_kms_case(case: Case) -> None:
    params: dict[str, Any] = {"Bucket": "reports"}
    if case.operation != "ListObjectsV2":
        params["Key"] = case.key
    verdict = Gate(REGION, world=world(case)).predict(READER, "s3", case.operation, params)
    assert ("allowed" if verdict.allowed else verdict.layer) == case.expected, verdict.steps[-1][1].reason


def test_the_kms_step_is_requested_through_s3_with_the_object_context() -> None:
    case = Case("context", "GetObject", "allowed", key_statements=(key_statement(["kms:Decrypt"], VIA_S3),))
    verdict = Gate(REGION, world=world(case)).predict(READER, "s3", "GetObject", {"Bucket": "reports", "Key": "q1.csv"})
    (s3_step, _), (kms_step, _) = verdict.steps
    assert (s3_step.action, s3_step.resource) == ("s3:GetObject", OBJECT)
    assert (kms_step.action, kms_step.resource) == ("kms:Decrypt", KEY_ARN)
    assert kms_step.context["kms:ViaService"] == (f"s3.{REGION}.amazonaws.com",)
    assert kms_step.context["kms:EncryptionContext:aws:s3:arn"] == (OBJECT,)


def test_an_object_that_is_not_seeded_has_no_encryption_to_decrypt() -> None:
    """GetObject of a key the scenario does not seed: the s3 step only (S3 answers 404 once allowed)."""
    case = Case("missing", "GetObject", "allowed")
    verdict = Gate(REGION, world=world(case)).predict(READER, "s3", "GetObject", {"Bucket": "reports", "Key": "absent"})
    assert [step.action for step, _ in verdict.steps] == ["s3:GetObject"]


@pytest.mark.parametrize("headers, bucket_key, steps, context", [
    # no headers: the bucket default (its key, its S3 Bucket Key setting)
    ({}, True, ["s3:PutObject", "kms:GenerateDataKey"], BUCKET),
    ({}, False, ["s3:PutObject", "kms:GenerateDataKey"], "arn:aws:s3:::reports/new.csv"),
    # PutObject, x-amz-server-side-encryption-aws-kms-key-id: aws:kms without a key id is aws/s3
    ({"ServerSideEncryption": "aws:kms"}, False, ["s3:PutObject"], None),
    # the request's key; the bucket's S3 Bucket Key setting unless the request says otherwise
    ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN}, True, ["s3:PutObject", "kms:GenerateDataKey"], BUCKET),
    ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN, "BucketKeyEnabled": False}, True,
     ["s3:PutObject", "kms:GenerateDataKey"], "arn:aws:s3:::reports/new.csv"),
    ({"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KEY_ARN}, False, ["s3:PutObject", "kms:GenerateDataKey"],
     "arn:aws:s3:::reports/new.csv"),
    # SSE-S3 asked for: no key
    ({"ServerSideEncryption": "AES256"}, True, ["s3:PutObject"], None),
])
def test_the_write_key_follows_the_request_headers_then_the_bucket_default(
        headers: dict[str, Any], bucket_key: bool, steps: list[str], context: str | None) -> None:
    """S3 API Reference, PutObject (x-amz-server-side-encryption, -aws-kms-key-id, -bucket-key-enabled);
    S3 User Guide, "Configuring an S3 Bucket Key at the object level"."""
    case = Case("headers", "PutObject", "allowed", bucket_key=bucket_key, key="new.csv",
                key_statements=(key_statement(["kms:GenerateDataKey"], VIA_S3),))
    verdict = Gate(REGION, world=world(case)).predict(READER, "s3", "PutObject", {"Bucket": "reports", "Key": "new.csv", **headers})
    assert verdict.allowed
    assert [step.action for step, _ in verdict.steps] == steps
    if context is not None:
        assert verdict.steps[-1][0].context["kms:EncryptionContext:aws:s3:arn"] == (context,)


@pytest.mark.parametrize("method, operation, action", [
    ("GET", "GetBucketTagging", "s3:GetBucketTagging"), ("PUT", "PutBucketTagging", "s3:PutBucketTagging"),
    ("DELETE", "DeleteBucketTagging", "s3:PutBucketTagging"),
])
def test_bucket_tagging_over_rest_is_its_own_operation(method: str, operation: str, action: str) -> None:
    """S3 API Reference, PutBucketTagging / GetBucketTagging / DeleteBucketTagging (`?tagging` on the
    bucket), authorized as s3:PutBucketTagging / s3:GetBucketTagging (Service Authorization Reference)."""
    from orchestrator.authz.services.s3 import S3_ACTIONS
    from orchestrator.authz.services.s3_rest import rest_operation

    assert rest_operation(method, "reports", "", {"tagging": ""}, {}) == operation
    assert S3_ACTIONS[operation] == (action, "bucket")


@pytest.mark.parametrize("method, query, operation, action", [
    ("GET", {"acl": ""}, "GetObjectAcl", "s3:GetObjectAcl"),
    ("PUT", {"acl": ""}, "PutObjectAcl", "s3:PutObjectAcl"),
    ("GET", {"uploadId": "u1"}, "ListParts", "s3:ListMultipartUploadParts"),
    ("DELETE", {"tagging": ""}, "DeleteObjectTagging", "s3:DeleteObjectTagging"),
    ("PUT", {"retention": ""}, "PutObjectRetention", "s3:PutObjectRetention"),
])
def test_an_object_operation_is_decided_on_the_object_arn(method: str, query: dict[str, str], operation: str,
                                                         action: str) -> None:
    """An object's sub-resource operation names its IAM action (Service Authorization Reference,
    "Actions, resources, and condition keys for Amazon S3") on the object's ARN: a statement on the
    bucket's ARN alone must not allow it (it once did: unknown operations fell back to the bucket)."""
    from orchestrator.authz.services import PlanContext
    from orchestrator.authz.services.s3 import plan
    from orchestrator.authz.services.s3_rest import rest_operation

    assert rest_operation(method, "reports", "a.csv", query, {}) == operation
    case = Case("headers", operation, "allowed", key="a.csv")
    step = plan(operation, {"Bucket": "reports", "Key": "a.csv"}, PlanContext(world(case), REGION, ACCOUNT, ACCOUNT)).steps[0]
    assert (step.action, step.resource) == (action, "arn:aws:s3:::reports/a.csv")


@pytest.mark.parametrize("operation, action", [
    ("PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"), ("GetBucketCors", "s3:GetBucketCORS"),
    ("PutBucketReplication", "s3:PutReplicationConfiguration"), ("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
])
def test_bucket_operations_whose_action_has_another_name(operation: str, action: str) -> None:
    from orchestrator.authz.services.s3 import S3_ACTIONS

    assert S3_ACTIONS[operation] == (action, "bucket")
