"""Map an S3 REST request (method, bucket, key, sub-resource) to its API operation.

Follows the Amazon S3 API Reference (each operation's "Request Syntax": the
HTTP method, the path, and the sub-resource query parameter such as
``?policy``, ``?encryption``, ``?list-type=2``, ``?uploads``) and the
"Specifying server-side encryption with AWS KMS (SSE-KMS)" request headers.
The result uses the same parameter names botocore uses (``Bucket``, ``Key``,
``ServerSideEncryption``, ``SSEKMSKeyId``, ``BucketKeyEnabled``).
"""
from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import unquote

__all__ = ["split_bucket_key", "rest_operation", "rest_params"]

_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")
_BUCKET_SUBRESOURCES = {
    "policy": {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"},
    "encryption": {"GET": "GetBucketEncryption", "PUT": "PutBucketEncryption",
                   "DELETE": "DeleteBucketEncryption"},
    "location": {"GET": "GetBucketLocation"},
    "tagging": {"GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"},
    "versions": {"GET": "ListObjectVersions"},
    "delete": {"POST": "DeleteObjects"},
    "publicAccessBlock": {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock",
                          "DELETE": "DeletePublicAccessBlock"},
    "ownershipControls": {"GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls",
                          "DELETE": "DeleteBucketOwnershipControls"},
}
_BUCKET_METHODS = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket", "GET": "ListObjects"}
_OBJECT_METHODS = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
_HEADERS = {
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-server-side-encryption-bucket-key-enabled": "BucketKeyEnabled",
    "x-amz-acl": "ACL",
}


def split_bucket_key(host: str, path: str) -> tuple[str, str]:
    """(bucket, key) from a virtual-hosted or path-style request."""
    match = _VIRTUAL_HOST.match(host.split(":", 1)[0])
    if match:
        return match["bucket"], unquote(path.lstrip("/"))
    bucket, _, key = path.lstrip("/").partition("/")
    return unquote(bucket), unquote(key)


def _object_operation(method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    if "tagging" in query:
        return "GetObjectTagging" if method == "GET" else "PutObjectTagging"
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
    if method == "PUT" and "uploadId" in query:
        return "UploadPart"
    if method == "PUT" and "x-amz-copy-source" in headers:
        return "CopyObject"
    return _OBJECT_METHODS.get(method, f"{method.title()}Object")


def rest_operation(method: str, bucket: str, key: str, query: Mapping[str, str],
                   headers: Mapping[str, str]) -> str:
    """The S3 API operation of a REST request (headers with lower-case names)."""
    if not bucket:
        return "ListBuckets"
    if key:
        return _object_operation(method, query, headers)
    for name, methods in _BUCKET_SUBRESOURCES.items():
        if name in query and method in methods:
            return methods[method]
    if method == "GET" and query.get("list-type") == "2":
        return "ListObjectsV2"
    return _BUCKET_METHODS.get(method, f"{method.title()}Bucket")


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
