"""Amazon S3: the s3 action on the bucket or object, then SSE-KMS on the caller's behalf.

Follows the Amazon S3 User Guide, "Required permissions for Amazon S3 API
operations" (action and resource per operation) and "Using server-side
encryption with AWS KMS keys (SSE-KMS)": uploading with SSE-KMS needs
``kms:GenerateDataKey`` and reading needs ``kms:Decrypt`` on the object's key,
requested by S3 for the caller with ``kms:ViaService`` = ``s3.<region>.amazonaws.com``
and encryption context ``aws:s3:arn`` (the object ARN, or the bucket ARN with an
S3 Bucket Key).  The bucket policy is the resource-based policy of the s3 step.
Requests that use the AWS managed key ``aws/s3`` (no key id) are allowed for
account principals by that key's fixed policy and get no KMS step.
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator import arns

from ..engine.public import is_public
from ..world import BucketInfo, KeyInfo, PolicyDoc, PublicAccessBlockInfo, World
from . import CRYPTO_STATES, Authorization, CallPlan, Denial, PlanContext, caller_context
from .kms import kms_step

__all__ = ["plan", "S3_ACTIONS", "setting_refusal", "Refusal", "effective_block"]

#: (code, message, HTTP status) of a request S3 refuses for a bucket setting, once authorized.
Refusal = tuple[str, str, int]
#: S3 User Guide, "Controlling ownership of objects and disabling ACLs": with BucketOwnerEnforced
#: only the bucket-owner-full-control canned ACL is accepted on PutObject.
_OWNER_ACL = "bucket-owner-full-control"

# operation -> (action, resource level: "object" | "bucket" | "*")
S3_ACTIONS: dict[str, tuple[str, str]] = {
    "GetObject": ("s3:GetObject", "object"),
    "HeadObject": ("s3:GetObject", "object"),
    "PutObject": ("s3:PutObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "object"),
    "PutObjectTagging": ("s3:PutObjectTagging", "object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "DeleteObjects": ("s3:DeleteObject", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "ListObjectVersions": ("s3:ListBucketVersions", "bucket"),
    "CreateBucket": ("s3:CreateBucket", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "bucket"),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", "bucket"),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", "bucket"),
    "PutBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "ListBuckets": ("s3:ListAllMyBuckets", "*"),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", "bucket"),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", "bucket"),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    # The rest of the REST API's operations (services/s3_rest.py reads them as moto's server does).
    # An object's operation is decided on the object's ARN, never the bucket's: a statement on the
    # bucket ARN must not allow it. S3 User Guide, "Required permissions for Amazon S3 API
    # operations"; Service Authorization Reference, "Actions, resources, and condition keys for
    # Amazon S3" (the action names that differ from the operation's).
    "GetObjectAcl": ("s3:GetObjectAcl", "object"),
    "PutObjectAcl": ("s3:PutObjectAcl", "object"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", "object"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", "object"),
    "GetObjectRetention": ("s3:GetObjectRetention", "object"),
    "PutObjectRetention": ("s3:PutObjectRetention", "object"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "object"),
    "RestoreObject": ("s3:RestoreObject", "object"),
    "SelectObjectContent": ("s3:GetObject", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
    "UploadPartCopy": ("s3:PutObject", "object"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "GetBucketAcl": ("s3:GetBucketAcl", "bucket"),
    "PutBucketAcl": ("s3:PutBucketAcl", "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", "bucket"),
    "GetBucketCors": ("s3:GetBucketCORS", "bucket"),
    "PutBucketCors": ("s3:PutBucketCORS", "bucket"),
    "DeleteBucketCors": ("s3:PutBucketCORS", "bucket"),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", "bucket"),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", "bucket"),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration", "bucket"),
    "PutBucketAccelerateConfiguration": ("s3:PutAccelerateConfiguration", "bucket"),
    "GetBucketInventoryConfiguration": ("s3:GetInventoryConfiguration", "bucket"),
    "ListBucketInventoryConfigurations": ("s3:GetInventoryConfiguration", "bucket"),
    "PutBucketInventoryConfiguration": ("s3:PutInventoryConfiguration", "bucket"),
    "GetBucketReplication": ("s3:GetReplicationConfiguration", "bucket"),
    "PutBucketReplication": ("s3:PutReplicationConfiguration", "bucket"),
    "DeleteBucketReplication": ("s3:PutReplicationConfiguration", "bucket"),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", "bucket"),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", "bucket"),
}
_READS = frozenset({"GetObject"})
_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})


def _resource(level: str, bucket: str, key: str) -> str:
    if level == "object":
        return arns.object_arn(bucket, key)
    return "*" if level == "*" else arns.bucket_arn(bucket)


def effective_block(world: World, bucket: BucketInfo) -> PublicAccessBlockInfo:
    """The Block Public Access in force for a bucket: each setting on where the bucket's or its
    owner account's is (S3 User Guide, "Blocking public access to your Amazon S3 storage": "Amazon
    S3 applies the most restrictive combination of the bucket-level and account-level settings")."""
    account = world.account_public_access_block(bucket.account) or PublicAccessBlockInfo()
    return PublicAccessBlockInfo(
        block_public_acls=account.block_public_acls, ignore_public_acls=account.ignore_public_acls,
        block_public_policy=bucket.block_public_policy or account.block_public_policy,
        restrict_public_buckets=bucket.restrict_public_buckets or account.restrict_public_buckets)


def _s3_step(operation: str, params: Mapping[str, Any], ctx: PlanContext,
             bucket: BucketInfo | None) -> Authorization:
    action, level = S3_ACTIONS.get(operation, (f"s3:{operation}", "bucket"))
    resource = _resource(level, str(params.get("Bucket", "")), str(params.get("Key", "")))
    policy = None
    if bucket is not None and bucket.policy and level != "*":
        policy = PolicyDoc("resource", f"bucket policy {bucket.name}", bucket.policy)
    owner = bucket.account if bucket is not None else ctx.account
    restrict = bucket is not None and effective_block(ctx.world, bucket).restrict_public_buckets
    return Authorization(action=action, resource=resource, resource_policy=policy,
                         resource_account=owner, denial=Denial.S3, restrict_public=restrict)


def _write_key(params: Mapping[str, Any], bucket: BucketInfo | None) -> tuple[str | None, bool]:
    """(KMS key id, bucket key) a write will use: request headers first, then bucket default.

    S3 API Reference, PutObject, x-amz-server-side-encryption-aws-kms-key-id: with `aws:kms` (or
    `aws:kms:dsse`) but no key id, S3 uses the AWS managed key aws/s3 (None here), not the bucket
    default's key. S3 User Guide, "Configuring an S3 Bucket Key at the object level": without the
    bucket-key-enabled header the object takes the bucket's S3 Bucket Key setting."""
    requested = params.get("ServerSideEncryption")
    bucket_key = bucket is not None and bucket.bucket_key_enabled
    if "BucketKeyEnabled" in params:
        bucket_key = bool(params["BucketKeyEnabled"])
    if requested:
        return (params.get("SSEKMSKeyId"), bucket_key) if str(requested).startswith("aws:kms") else (None, False)
    if bucket is None or not str(bucket.sse_algorithm or "").startswith("aws:kms"):
        return None, False
    return bucket.kms_key_id, bucket_key


def _kms_step(action: str, key: KeyInfo, ctx: PlanContext, context_arn: str) -> Authorization:
    pairs = {"aws:s3:arn": context_arn}
    context = caller_context(ctx)
    context["kms:ViaService"] = (f"s3.{ctx.region}.amazonaws.com",)
    context["kms:EncryptionContext:aws:s3:arn"] = (context_arn,)
    context["kms:EncryptionContextKeys"] = ("aws:s3:arn",)
    return kms_step(action, key, context, pairs, Denial.S3_KMS, CRYPTO_STATES)


def _kms_steps(operation: str, params: Mapping[str, Any], ctx: PlanContext,
               bucket: BucketInfo | None) -> list[Authorization]:
    name, key_name = str(params.get("Bucket", "")), str(params.get("Key", ""))
    if operation in _WRITES:
        key_id, bucket_key = _write_key(params, bucket)
        action = "kms:GenerateDataKey"
    elif operation in _READS:
        found = ctx.world.s3_object(name, key_name)
        if found is None or not str(found.sse_algorithm or "").startswith("aws:kms"):
            return []
        key_id, bucket_key, action = found.kms_key_id, found.bucket_key_enabled, "kms:Decrypt"
    else:
        return []
    key = ctx.world.kms_key(key_id, ctx.region, ctx.account) if key_id else None
    if key is None or key.aws_managed:
        return []
    context_arn = arns.bucket_arn(name) if bucket_key else arns.object_arn(name, key_name)
    return [_kms_step(action, key, ctx, context_arn)]


def plan(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """The S3 authorizations of one call, s3 action first."""
    bucket = ctx.world.bucket(params.get("Bucket"))
    steps = [_s3_step(operation, params, ctx, bucket)]
    steps.extend(_kms_steps(operation, params, ctx, bucket))
    return CallPlan("s3", operation, tuple(steps))


def setting_refusal(operation: str, params: Mapping[str, Any], world: World, caller_arn: str) -> Refusal | None:
    """What S3 answers, after authorization, to a request a bucket setting forbids:

    * PutBucketPolicy of a public policy (engine/public.py) under BlockPublicPolicy, the bucket's
      or its owner account's (effective_block): S3 API
      Reference, "PublicAccessBlockConfiguration": "Setting this element to TRUE causes Amazon S3 to
      reject calls to PUT Bucket policy if the specified bucket policy allows public access" (403
      AccessDenied);
    * PutObject / CopyObject with an ACL other than bucket-owner-full-control under Object Ownership
      BucketOwnerEnforced: S3 User Guide, "Controlling ownership of objects and disabling ACLs for
      your bucket" (400 AccessControlListNotSupported, "The bucket does not allow ACLs")."""
    bucket = world.bucket(params.get("Bucket")) if operation in _SETTING_OPERATIONS else None
    if bucket is None:
        return None
    if (operation == "PutBucketPolicy" and effective_block(world, bucket).block_public_policy
            and is_public(str(params.get("Policy") or ""))):
        return ("AccessDenied", f"User: {caller_arn} is not authorized to perform: s3:PutBucketPolicy on resource:"
                f' "{bucket.arn}" because public policies are blocked by the BlockPublicPolicy block public access'
                " setting.", 403)
    acl = params.get("ACL")
    if bucket.object_ownership == "BucketOwnerEnforced" and acl and acl != _OWNER_ACL:
        return ("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    return None


_SETTING_OPERATIONS = frozenset({"PutBucketPolicy", "PutObject", "CopyObject"})
