"""The S3 call of each s3 expectation action, and what undoes an allowed write.

Amazon S3 API Reference: GetObject, HeadObject (authorized as s3:GetObject: "To use HEAD, you
must have the s3:GetObject permission"), PutObject, DeleteObject, and ListObjectsV2 for
s3:ListBucket (S3 User Guide, "Required permissions for Amazon S3 API operations"). `object:B/K`
names the key K of the scenario bucket B, `bucket:B` the bucket.

An allowed PutObject or DeleteObject changes the seeded world that later expectations are judged
in; orchestrate undoes it at once (`restore`): a deleted or overwritten seed object is put again as
orchestrate seeds it, a new object is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.model.scenario import DesiredState
from orchestrator.resources.context import RunContext
from orchestrator.resources.s3_objects import put_seeded, seeded_body

#: The API operation of each s3 expectation action, where its name is not the action's.
OPERATIONS = {"ListBucket": "ListObjectsV2"}
#: What PutObject expectations write (a new object, or over a seeded one until it is restored).
PROBE_BODY = b"orchestrate-probe"
#: Operations whose denial botocore reads from a body-less answer: code "403", message "Forbidden".
HEAD_OPERATIONS = frozenset({"HeadObject", "HeadBucket"})


def s3_operation(action: str) -> str:
    """`s3:ListBucket` -> ListObjectsV2; the other s3 actions are their operations."""
    name = action.partition(":")[2]
    return OPERATIONS.get(name, name)


def s3_params(ctx: RunContext, operation: str, resource: str) -> dict[str, Any]:
    """Bucket (the physical name) and, for an object, Key; PutObject carries a small body."""
    kind, _, name = resource.partition(":")
    bucket, _, key = name.partition("/")
    params: dict[str, Any] = {"Bucket": ctx.bucket_name(bucket)}
    if kind == "object":
        params["Key"] = key
    if operation == "PutObject":
        params["Body"] = PROBE_BODY
    return params


def restore(ctx: RunContext, desired: DesiredState, operation: str, resource: str) -> Callable[[dict[str, Any]], None] | None:
    """What undoes an allowed PutObject / DeleteObject on `object:B/K` (None: nothing to undo)."""
    if operation not in ("PutObject", "DeleteObject") or not resource.startswith("object:"):
        return None
    bucket, _, key = resource.partition(":")[2].partition("/")
    body = seeded_body(desired, bucket, key)
    if body is None and operation == "DeleteObject":
        return None  # nothing was there to delete

    def undo(_answer: dict[str, Any]) -> None:
        if body is None:
            ctx.for_entity("buckets", bucket).backend.client("s3").delete_object(Bucket=ctx.bucket_name(bucket), Key=key)
        else:
            put_seeded(ctx.for_entity("buckets", bucket), bucket, key, body)
    return undo
