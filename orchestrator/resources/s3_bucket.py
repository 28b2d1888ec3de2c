"""S3 buckets: default encryption, S3 Bucket Key, tags and the bucket policy (seed objects are
`s3_objects.py`, applied after the bucket so that they are written under its encryption).

Amazon S3 API Reference: CreateBucket (LocationConstraint outside us-east-1), PutBucketTagging /
GetBucketTagging, PutBucketEncryption / GetBucketEncryption, PutBucketPolicy / GetBucketPolicy /
DeleteBucketPolicy, DeleteObjects, DeleteBucket. S3 User Guide, "Setting default server-side
encryption behavior for Amazon S3 buckets": every bucket encrypts new objects, with SSE-S3
(AES256) unless told otherwise, so a bucket without an encryption configuration (moto's) reads as
`aws-owned`; "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys" (BucketKeyEnabled).

Ownership is the bucket's tags (`ctx.ownership_tags`). CreateBucket cannot tag the bucket in moto
5.2, so the tags follow at once with PutBucketTagging; if that call fails the new, empty bucket is
deleted again, so a failed create never leaves an untagged bucket that the next run would have to
refuse as someone else's (a process killed between the two calls does leave one: `--adopt`).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from orchestrator.authz.engine.public import is_public
from orchestrator.constants import US_EAST_1
from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, tag_dict, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.propagation import until_propagated

#: GetBucketEncryption's answer for a bucket without a configuration (moto; AWS always has one).
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
#: GetPublicAccessBlock / GetBucketOwnershipControls for a bucket without that configuration.
NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"
NO_OWNERSHIP_CONTROLS = "OwnershipControlsNotFoundError"
#: The scenario's names of the Block Public Access settings -> S3's (PublicAccessBlockConfiguration).
BLOCK_SETTINGS = {"block_public_acls": "BlockPublicAcls", "ignore_public_acls": "IgnorePublicAcls",
                  "block_public_policy": "BlockPublicPolicy", "restrict_public_buckets": "RestrictPublicBuckets"}
#: The alias AWS reserves for the AWS managed key of S3 (SSE-KMS without a key id uses it).
AWS_S3_ALIAS = "alias/aws/s3"


def desired_encryption(ctx: RunContext, encryption: str) -> dict[str, str | None]:
    """`aws-owned` (SSE-S3), `aws-managed` (SSE-KMS with aws/s3), `key:NAME` (its ARN)."""
    if encryption in ("aws-owned", "aws-managed"):
        return {"type": encryption, "key": None}
    return {"type": "customer-managed", "key": ctx.arn(encryption)}


def observed_encryption(ctx: RunContext, algorithm: str | None, key_id: str | None) -> dict[str, str | None]:
    """An SSE algorithm and KMS key id (a bucket rule's or an object's) in desired_encryption's
    terms: SSE-KMS without a key id, or with the aws/s3 key, is `aws-managed`."""
    if algorithm in (None, "AES256"):
        return {"type": "aws-owned", "key": None}
    if algorithm != "aws:kms":
        return {"type": str(algorithm), "key": key_id}
    if not key_id or key_id.endswith(AWS_S3_ALIAS):
        return {"type": "aws-managed", "key": None}
    if key_id in ctx.known.values() or not _aws_managed_key(ctx, key_id):
        return {"type": "customer-managed", "key": key_id}
    return {"type": "aws-managed", "key": None}


def _aws_managed_key(ctx: RunContext, key_id: str) -> bool:
    """A key that is not the scenario's: AWS managed (aws/s3's ARN, as AWS reports it) or not."""
    try:
        return ctx.backend.client("kms").describe_key(KeyId=key_id)["KeyMetadata"].get("KeyManager") == "AWS"
    except Exception as error:
        if error_code(error) in ("NotFoundException", "AccessDeniedException"):
            return False
        raise


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def bucket_owned(ctx: RunContext, name: str) -> bool | None:
    """Whether the last read found the bucket ours (None: not read, or not there)."""
    return ctx.cache.get(("s3_bucket", name))


class S3Bucket:
    kind: ClassVar[str] = "s3_bucket"
    section: ClassVar[str] = "buckets"
    permissions: ClassVar[tuple[str, ...]] = (
        "s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucketTagging", "s3:PutBucketTagging",
        "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:GetBucketPolicy",
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:ListBucket", "s3:DeleteObject", "kms:DescribeKey",
        "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.buckets)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        bucket = desired.buckets[name]
        encryption = desired_encryption(ctx, bucket.encryption)
        return {
            "encryption": encryption,
            # S3 answers BucketKeyEnabled false for SSE-S3; the loader refuses `true` there
            "bucket_key": bucket.bucket_key and encryption["type"] != "aws-owned",
            "policy": self._policy(ctx, bucket.policy),
            "tags": dict(bucket.tags),
            "public_access_block": _block_settings(bucket.public_access_block),
            "object_ownership": bucket.object_ownership,
        }

    @staticmethod
    def _policy(ctx: RunContext, policy: Any) -> dict[str, Any] | None:
        if policy is None:
            return None
        return normalise_policy(ctx.resolve_policy(policy.model_dump(mode="json", by_alias=True, exclude_none=True)))

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        s3, bucket = ctx.backend.client("s3"), ctx.bucket_name(name)
        ctx.cache.pop(("s3_bucket", name), None)
        try:
            tags = tag_dict(s3.get_bucket_tagging(Bucket=bucket).get("TagSet"))
        except Exception as error:
            code = error_code(error)
            if code == "NoSuchBucket":
                return None
            if code in ("AccessDenied", "403"):  # another account's bucket: names are global
                return Observed({}, owned=False, physical_id=ctx.arn(f"bucket:{name}"))
            if code != "NoSuchTagSet":
                raise
            tags = {}
        owned = ctx.owns(tags) or ctx.adopt
        ctx.cache[("s3_bucket", name)] = owned
        encryption, bucket_key = self._observed_encryption(ctx, bucket)
        properties = {"encryption": encryption, "bucket_key": bucket_key,
                      "policy": self._observed_policy(ctx, bucket), "tags": user_tags(tags),
                      "public_access_block": observed_block(ctx, bucket),
                      "object_ownership": self._observed_ownership(ctx, bucket, desired)}
        return Observed(properties, owned=owned, physical_id=ctx.arn(f"bucket:{name}"),
                        adopted=owned and not ctx.owns(tags))

    @staticmethod
    def _observed_encryption(ctx: RunContext, bucket: str) -> tuple[dict[str, str | None], bool]:
        try:
            rules = ctx.backend.client("s3").get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except Exception as error:
            if error_code(error) != NO_ENCRYPTION:
                raise
            rules = []
        rule = rules[0] if rules else {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        encryption = observed_encryption(ctx, default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"))
        return encryption, _truthy(rule.get("BucketKeyEnabled")) and encryption["type"] != "aws-owned"

    @staticmethod
    def _observed_policy(ctx: RunContext, bucket: str) -> dict[str, Any] | None:
        try:
            return normalise_policy(ctx.backend.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
        except Exception as error:
            if error_code(error) == "NoSuchBucketPolicy":
                return None
            raise

    @staticmethod
    def _observed_ownership(ctx: RunContext, bucket: str, desired: dict[str, Any] | None) -> str | None:
        """Object Ownership; None where the scenario does not manage it (AWS gives every new bucket
        BucketOwnerEnforced: reporting it would be drift the scenario never asked about)."""
        if desired is not None and desired.get("object_ownership") is None:
            return None
        try:
            rules = ctx.backend.client("s3").get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except Exception as error:
            if error_code(error) != NO_OWNERSHIP_CONTROLS:
                raise
            return None
        return str(rules[0]["ObjectOwnership"]) if rules else None

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        """CreateBucket, its tags at once (see the module docstring), then Object Ownership, Block
        Public Access (before the policy: a policy it allows may be public), encryption and policy."""
        s3, bucket = ctx.backend.client("s3"), ctx.bucket_name(name)
        arguments: dict[str, Any] = {"Bucket": bucket}
        if ctx.region != US_EAST_1:
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        s3.create_bucket(**arguments)
        try:
            self._put_tags(ctx, name, after["tags"])
        except BaseException:
            with contextlib.suppress(Exception):
                s3.delete_bucket(Bucket=bucket)
            raise
        if after.get("object_ownership") is not None:
            put_ownership(ctx, bucket, after["object_ownership"])
        if after.get("public_access_block") is not None or (after["policy"] is not None and is_public(after["policy"])):
            # AWS blocks public policies on a new bucket by default: declared, or none, it is set now
            put_block(ctx, bucket, after.get("public_access_block"))
        if after["encryption"]["type"] != "aws-owned" or after["bucket_key"]:
            self._put_encryption(ctx, name, after)
        self._put_policy(ctx, name, None, after["policy"])

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        if before.get("tags") != after["tags"]:
            self._put_tags(ctx, name, after["tags"])
        bucket = ctx.bucket_name(name)
        if after.get("object_ownership") is not None and before.get("object_ownership") != after["object_ownership"]:
            put_ownership(ctx, bucket, after["object_ownership"])
        if before.get("public_access_block") != after.get("public_access_block"):
            put_block(ctx, bucket, after.get("public_access_block"))  # before the policy, which it may now allow
        if (before.get("encryption"), before.get("bucket_key")) != (after["encryption"], after["bucket_key"]):
            self._put_encryption(ctx, name, after)
        self._put_policy(ctx, name, before.get("policy"), after["policy"])

    @staticmethod
    def _put_tags(ctx: RunContext, name: str, tags: dict[str, str]) -> None:
        """PutBucketTagging replaces the whole tag set: the scenario's tags and the ownership marks."""
        tag_set = tag_list({**tags, **ctx.ownership_tags(name)})
        ctx.backend.client("s3").put_bucket_tagging(Bucket=ctx.bucket_name(name), Tagging={"TagSet": tag_set})

    @staticmethod
    def _put_encryption(ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        """PutBucketEncryption: AES256, or aws:kms with the key's ARN (none: aws/s3)."""
        encryption = after["encryption"]
        default: dict[str, str] = {"SSEAlgorithm": "AES256" if encryption["type"] == "aws-owned" else "aws:kms"}
        if encryption["type"] == "customer-managed":
            default["KMSMasterKeyID"] = str(encryption["key"])
        rule = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": after["bucket_key"]}
        ctx.backend.client("s3").put_bucket_encryption(
            Bucket=ctx.bucket_name(name), ServerSideEncryptionConfiguration={"Rules": [rule]})

    @staticmethod
    def _put_policy(ctx: RunContext, name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """PutBucketPolicy when the policy changed, DeleteBucketPolicy when it is no longer declared;
        on real AWS a MalformedPolicy is retried while a just-created principal propagates."""
        if before == after:
            return
        s3 = ctx.backend.client("s3")
        if after is None:
            s3.delete_bucket_policy(Bucket=ctx.bucket_name(name))
        else:
            # S3 refuses a principal IAM has only just created ("Invalid principal in policy")
            until_propagated(ctx, lambda: s3.put_bucket_policy(Bucket=ctx.bucket_name(name), Policy=policy_json(after)),
                             codes=frozenset({"MalformedPolicy"}))

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """The bucket policy first (it may deny orchestrate the emptying), every object (DeleteBucket
        refuses a bucket that is not empty: BucketNotEmpty), then the bucket."""
        s3, bucket = ctx.backend.client("s3"), ctx.bucket_name(name)
        if before.get("policy") is not None:
            self._put_policy(ctx, name, before["policy"], None)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)

    def claim(self, ctx: RunContext, name: str) -> None:
        """--adopt: add the ownership marks to the bucket's tags, so later runs own it without --adopt."""
        s3, bucket = ctx.backend.client("s3"), ctx.bucket_name(name)
        try:
            tags = tag_dict(s3.get_bucket_tagging(Bucket=bucket).get("TagSet"))
        except Exception as error:
            if error_code(error) != "NoSuchTagSet":
                raise
            tags = {}
        self._put_tags(ctx, name, user_tags(tags))


def _block_settings(block: Any) -> dict[str, bool] | None:
    """The declared Block Public Access settings in S3's names; None: none declared."""
    if block is None:
        return None
    return {s3_name: bool(getattr(block, name)) for name, s3_name in BLOCK_SETTINGS.items()}


def observed_block(ctx: RunContext, bucket: str) -> dict[str, bool] | None:
    """GetPublicAccessBlock: the four settings, or None without a configuration."""
    try:
        found = ctx.backend.client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except Exception as error:
        if error_code(error) != NO_PUBLIC_ACCESS_BLOCK:
            raise
        return None
    return {s3_name: _truthy(found.get(s3_name, False)) for s3_name in BLOCK_SETTINGS.values()}


def put_block(ctx: RunContext, bucket: str, settings: dict[str, bool] | None) -> None:
    """PutPublicAccessBlock with the declared settings, or DeletePublicAccessBlock when none are."""
    s3 = ctx.backend.client("s3")
    if settings is None:
        s3.delete_public_access_block(Bucket=bucket)
    else:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict(settings))


def put_ownership(ctx: RunContext, bucket: str, ownership: str) -> None:
    """PutBucketOwnershipControls with the one rule S3 takes."""
    ctx.backend.client("s3").put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
