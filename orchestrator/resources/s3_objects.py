"""Seed objects of the scenario's buckets (`buckets.NAME.objects`), one entity per bucket
(address `s3_objects.BUCKET`), after the bucket so that they are written under its encryption.

Amazon S3 API Reference: PutObject (with user metadata `x-amz-meta-orchestrate-sha256`, the
SHA-256 of the body), HeadObject, ListObjectsV2, DeleteObject. An object's encryption is the
bucket default at the time it is written (S3 User Guide, "Setting default server-side encryption
behavior for Amazon S3 buckets": the default applies to new objects; existing ones keep theirs),
so each object's desired properties carry the bucket's declared encryption too: when a state
changes the bucket's encryption (or S3 Bucket Key), the seeded objects are put again, and are then
under the declared key. A changed body is put again as well.

The content is compared by the stored hash, never by reading the body back (GetObject of an
SSE-KMS object needs kms:Decrypt; HeadObject does not). Objects orchestrate did not put (no hash
in their metadata), written by expectations or by hand, are not the scenario's: they are neither
drift nor deleted; an undeclared object that orchestrate put is deleted. A bucket whose key is
disabled or pending deletion cannot be written: its objects are then not planned.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, tag_dict
from orchestrator.resources.context import RunContext
from orchestrator.resources.s3_bucket import bucket_owned, desired_encryption, observed_encryption

#: User metadata marking an object as put by orchestrate, with its body's SHA-256.
HASH_METADATA = "orchestrate-sha256"


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def put_seeded(ctx: RunContext, bucket: str, key: str, body: str) -> None:
    """PutObject as orchestrate, under the bucket's default encryption, marked with its hash."""
    ctx.backend.client("s3").put_object(Bucket=ctx.bucket_name(bucket), Key=key, Body=body.encode("utf-8"),
                                        Metadata={HASH_METADATA: body_hash(body)})


def seeded_body(desired: DesiredState, bucket: str, key: str) -> str | None:
    """The body a scenario seeds at bucket/key, or None when it seeds nothing there."""
    found = desired.buckets.get(bucket)
    for item in found.objects if found is not None else []:
        if item.key == key:
            return item.body
    return None


class S3Objects:
    kind: ClassVar[str] = "s3_objects"
    section: ClassVar[str] = "buckets"
    permissions: ClassVar[tuple[str, ...]] = (
        "s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "s3:GetBucketTagging",
        "kms:GenerateDataKey", "kms:DescribeKey",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.buckets)

    @staticmethod
    def vacant(desired: dict[str, Any]) -> bool:
        """No object declared (or none writable now): with none of ours there, nothing to do."""
        return not desired.get("objects")

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        bucket = desired.buckets[name]
        key = bucket.key_name()
        # the bodies are apply's to send, not properties to show or compare (the hash is)
        ctx.cache[("s3_bodies", name)] = {item.key: item.body for item in bucket.objects}
        if key is not None and key in desired.keys and not desired.keys[key].usable:
            return {}
        encryption = desired_encryption(ctx, bucket.encryption)
        bucket_key = bucket.bucket_key and encryption["type"] != "aws-owned"
        return {"objects": {item.key: {"sha256": body_hash(item.body), "encryption": encryption, "bucket_key": bucket_key}
                            for item in bucket.objects}}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        if not self._bucket_owned(ctx, name):
            return None  # no bucket yet (created first), or not ours: the bucket's conflict says so
        s3, bucket = ctx.backend.client("s3"), ctx.bucket_name(name)
        declared = set((desired or {}).get("objects", {}))
        found: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                observed = self._head(ctx, bucket, item["Key"])
                if observed is not None and (item["Key"] in declared or observed["sha256"] is not None):
                    found[item["Key"]] = observed
        if not found:
            return None
        return Observed({"objects": found}, owned=True, physical_id=ctx.arn(f"bucket:{name}"))

    @staticmethod
    def _bucket_owned(ctx: RunContext, name: str) -> bool:
        """The bucket reconciler's finding in this pass, else its tags (destroy reads objects first)."""
        owned = bucket_owned(ctx, name)
        if owned is not None:
            return owned
        try:
            tags = tag_dict(ctx.backend.client("s3").get_bucket_tagging(Bucket=ctx.bucket_name(name)).get("TagSet"))
        except Exception as error:
            if error_code(error) in ("NoSuchBucket", "NoSuchTagSet", "AccessDenied", "403"):
                return ctx.adopt and error_code(error) == "NoSuchTagSet"
            raise
        return ctx.owns(tags) or ctx.adopt

    @staticmethod
    def _head(ctx: RunContext, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            head = ctx.backend.client("s3").head_object(Bucket=bucket, Key=key)
        except Exception as error:
            if error_code(error) in ("404", "NoSuchKey"):
                return None  # deleted since it was listed
            raise
        encryption = observed_encryption(ctx, head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
        return {"sha256": (head.get("Metadata") or {}).get(HASH_METADATA), "encryption": encryption,
                "bucket_key": bool(head.get("BucketKeyEnabled")) and encryption["type"] != "aws-owned"}

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        self.update(ctx, name, {"objects": {}}, after)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Delete the undeclared objects orchestrate put, then put each declared object that is
        missing or not as declared (body, encryption); an unchanged object makes no call."""
        old, new = before.get("objects", {}), after.get("objects", {})
        bodies = ctx.cache.get(("s3_bodies", name), {})
        for key in sorted(set(old) - set(new)):
            if old[key]["sha256"] is not None:
                ctx.backend.client("s3").delete_object(Bucket=ctx.bucket_name(name), Key=key)
        for key in sorted(new):
            if old.get(key) != new[key]:
                put_seeded(ctx, name, key, bodies[key])

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """The objects orchestrate put (the bucket's own delete empties the rest)."""
        for key in sorted(before.get("objects", {})):
            if before["objects"][key]["sha256"] is not None:
                ctx.backend.client("s3").delete_object(Bucket=ctx.bucket_name(name), Key=key)
