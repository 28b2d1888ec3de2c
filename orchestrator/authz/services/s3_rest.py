"""Map an S3 REST request (method, bucket, key, sub-resource) to its API operation.

Follows the Amazon S3 API Reference (each operation's "Request Syntax": the
HTTP method, the path, and the sub-resource query parameter such as
``?policy``, ``?encryption``, ``?list-type=2``, ``?uploads``) and the
"Specifying server-side encryption with AWS KMS (SSE-KMS)" request headers.
The result uses the same parameter names botocore uses (``Bucket``, ``Key``,
``ServerSideEncryption``, ``SSEKMSKeyId``, ``BucketKeyEnabled``).

Under ``serve`` the gate must name the operation moto's S3 runs (issue 21), so where a request
names several sub-resources the first one in moto's order wins (moto ``s3/responses.py``,
``_bucket_response_get`` and its siblings); sub-resource names are case-sensitive, present with
or without a value (``?policy`` and ``?policy=`` alike), as S3's are. The object key is the
request path percent-decoded exactly once (S3 API Reference, "GetObject": the key is the URI
path after the bucket; S3 User Guide, "Naming Amazon S3 objects"), from the path as it arrived,
not from WSGI's ``PATH_INFO`` (which the server has already decoded once).
"""
from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import unquote

__all__ = ["BUCKET_NAME", "split_bucket_key", "rest_operation", "rest_params"]

#: Characters of a bucket name (S3 User Guide, "Bucket naming rules"; upper case as moto takes it).
BUCKET_NAME = re.compile(r"[A-Za-z0-9._-]+")
#: (sub-resource, operation) in the order moto's S3 tests them, per method, for a bucket.
_BUCKET_GET = (("object-lock", "GetObjectLockConfiguration"), ("uploads", "ListMultipartUploads"),
               ("location", "GetBucketLocation"), ("lifecycle", "GetBucketLifecycleConfiguration"),
               ("versioning", "GetBucketVersioning"), ("policyStatus", "GetBucketPolicyStatus"),
               ("policy", "GetBucketPolicy"), ("website", "GetBucketWebsite"), ("acl", "GetBucketAcl"),
               ("tagging", "GetBucketTagging"), ("logging", "GetBucketLogging"), ("cors", "GetBucketCors"),
               ("notification", "GetBucketNotificationConfiguration"),
               ("accelerate", "GetBucketAccelerateConfiguration"), ("publicAccessBlock", "GetPublicAccessBlock"),
               ("inventory", "GetBucketInventoryConfiguration"), ("versions", "ListObjectVersions"),
               ("encryption", "GetBucketEncryption"))
_BUCKET_GET_LATE = (("replication", "GetBucketReplication"), ("ownershipControls", "GetBucketOwnershipControls"))
_BUCKET_PUT = (("object-lock", "PutObjectLockConfiguration"), ("versioning", "PutBucketVersioning"),
               ("lifecycle", "PutBucketLifecycleConfiguration"), ("policy", "PutBucketPolicy"),
               ("acl", "PutBucketAcl"), ("tagging", "PutBucketTagging"), ("website", "PutBucketWebsite"),
               ("cors", "PutBucketCors"), ("logging", "PutBucketLogging"),
               ("notification", "PutBucketNotificationConfiguration"),
               ("accelerate", "PutBucketAccelerateConfiguration"), ("publicAccessBlock", "PutPublicAccessBlock"),
               ("encryption", "PutBucketEncryption"), ("replication", "PutBucketReplication"),
               ("ownershipControls", "PutBucketOwnershipControls"),
               ("inventory", "PutBucketInventoryConfiguration"))
_BUCKET_DELETE = (("policy", "DeleteBucketPolicy"), ("tagging", "DeleteBucketTagging"),
                  ("website", "DeleteBucketWebsite"), ("cors", "DeleteBucketCors"),
                  ("lifecycle", "DeleteBucketLifecycle"), ("publicAccessBlock", "DeletePublicAccessBlock"),
                  ("encryption", "DeleteBucketEncryption"), ("replication", "DeleteBucketReplication"),
                  ("ownershipControls", "DeleteBucketOwnershipControls"))
_OBJECT_GET = (("uploadId", "ListParts"), ("acl", "GetObjectAcl"), ("tagging", "GetObjectTagging"),
               ("legal-hold", "GetObjectLegalHold"), ("attributes", "GetObjectAttributes"))
_OBJECT_PUT = (("retention", "PutObjectRetention"), ("legal-hold", "PutObjectLegalHold"),
               ("acl", "PutObjectAcl"), ("tagging", "PutObjectTagging"))
_OBJECT_DELETE = (("uploadId", "AbortMultipartUpload"), ("tagging", "DeleteObjectTagging"))
_OBJECT_POST = (("uploadId", "CompleteMultipartUpload"), ("restore", "RestoreObject"),
                ("select", "SelectObjectContent"))
_BUCKET_METHODS = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket", "GET": "ListObjects"}
_OBJECT_METHODS = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
_HEADERS = {
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-server-side-encryption-bucket-key-enabled": "BucketKeyEnabled",
    "x-amz-acl": "ACL",
}


def split_bucket_key(raw_path: str, virtual_bucket: str | None = None) -> tuple[str, str]:
    """(bucket, key) of a path-style request (``/bucket/key``), or of a virtual-hosted one whose
    bucket the ``Host`` names; ``raw_path`` is the path as sent, still percent-encoded. The key
    is decoded once, the bucket not at all (a bucket name has no ``%``): moto reads them so
    (``S3Response.parse_key_name``, ``bucketpath_parse_key_name``)."""
    if virtual_bucket is not None:
        decoded = unquote(raw_path)
        return virtual_bucket, decoded[1:] if decoded.startswith("/") else decoded
    bucket = raw_path.lstrip("/").split("/")[0]
    return bucket, "/".join(unquote(raw_path).split("/")[2:])


def _first(query: Mapping[str, str], table: tuple[tuple[str, str], ...]) -> str | None:
    return next((operation for name, operation in table if name in query), None)


def _has_body(headers: Mapping[str, str]) -> bool:
    length = headers.get("content-length", "")
    return "chunked" in headers.get("transfer-encoding", "").lower() or (length.isdigit() and int(length) > 0)


def _object_operation(method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    copy = "x-amz-copy-source" in headers
    if method == "GET":
        return _first(query, _OBJECT_GET) or "GetObject"
    if method == "PUT" and "uploadId" in query and "partNumber" in query:
        return "UploadPartCopy" if copy else "UploadPart"
    if method == "PUT":
        return _first(query, _OBJECT_PUT) or ("CopyObject" if copy else "PutObject")
    if method == "DELETE":
        return _first(query, _OBJECT_DELETE) or "DeleteObject"
    if method == "POST" and "uploads" in query and not _has_body(headers):
        return "CreateMultipartUpload"
    if method == "POST":
        return _first(query, _OBJECT_POST) or "PostObject"
    return _OBJECT_METHODS.get(method, f"{method.title()}Object")


def _bucket_get(query: Mapping[str, str]) -> str:
    found = _first(query, _BUCKET_GET)
    if found == "GetBucketInventoryConfiguration" and "id" not in query:
        return "ListBucketInventoryConfigurations"
    if found is None and query.get("list-type") == "2":
        return "ListObjectsV2"
    return found or _first(query, _BUCKET_GET_LATE) or "ListObjects"


def rest_operation(method: str, bucket: str, key: str, query: Mapping[str, str],
                   headers: Mapping[str, str]) -> str:
    """The S3 API operation of a REST request (headers with lower-case names; ``query`` by name,
    first value): an object's when the key is not empty, else the bucket's. A bucket POST that is
    not ``?delete`` is a browser form upload (S3 API Reference, "PostObject")."""
    if not bucket:
        return "ListBuckets"
    if key:
        return _object_operation(method, query, headers)
    if method == "GET":
        return _bucket_get(query)
    if method == "POST":
        return "DeleteObjects" if "delete" in query else "PostObject"
    table = {"PUT": _BUCKET_PUT, "DELETE": _BUCKET_DELETE}.get(method, ())
    return _first(query, table) or _BUCKET_METHODS.get(method, f"{method.title()}Bucket")


def rest_params(bucket: str, key: str, headers: Mapping[str, str]) -> dict[str, object]:
    """API parameters of an S3 REST request, named as botocore names them."""
    params: dict[str, object] = {}
    if bucket:
        params["Bucket"] = bucket
    if key:
        params["Key"] = key
    for header, name in _HEADERS.items():
        if header in headers:
            value = headers[header]
            params[name] = value.lower() == "true" if name == "BucketKeyEnabled" else value
    return params
