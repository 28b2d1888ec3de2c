"""Checks on S3 buckets that the schema cannot express, and on expectations naming them.

* Encryption with `key:NAME` names a scenario key, and a symmetric one: "Amazon S3 supports only
  symmetric encryption KMS keys" (S3 User Guide, "Using server-side encryption with AWS KMS keys
  (SSE-KMS)", Requirements).
* `bucket_key: true` only with SSE-KMS: "S3 Bucket Keys are used for SSE-KMS" (S3 User Guide,
  "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"); with SSE-S3 it would be a property
  S3 never reports, drift forever.
* One seed object per key: a bucket holds one object per key, the second would overwrite the first.
* A bucket policy's resources are this bucket or its objects: S3 refuses a policy that names
  another bucket (PutBucketPolicy: MalformedPolicy, "Policy has invalid resource"; S3 User Guide,
  "Bucket policy examples": Resource is the bucket ARN or `arn:aws:s3:::BUCKET/*`). A reference to
  another scenario entity, or an ARN that is not an S3 one, would fail mid-apply; refused here.
* An expectation on `bucket:B` or `object:B/K` names a declared bucket; one that reads an object
  (s3:GetObject, s3:HeadObject) names a seeded one, since an object that is not there is a 404 and
  decides nothing about access. An s3:HeadObject expectation gives no `error`: a HEAD answer has
  no body to carry one (botocore's code is the status, "403").
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator import arns
from orchestrator.authz.engine.public import public_statements
from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.validation import Problem, located_statements
from orchestrator.model.policy import PolicyDocument, Statement, as_list, is_reference
from orchestrator.model.resources import Bucket
from orchestrator.model.scenario import DesiredState, Expectation

Path = tuple[PathElement, ...]
POLICY_PAGE = 'S3 User Guide, "Bucket policy examples"; PutBucketPolicy refuses it: "Policy has invalid resource"'
#: Expectation actions that need the object to exist.
READS = frozenset({"s3:GetObject", "s3:HeadObject"})


def bucket_documents(desired: DesiredState, prefix: Path) -> Iterator[tuple[Path, PolicyDocument, bool]]:
    """Each bucket policy, for the reference checks every policy gets (principals allowed)."""
    for name, bucket in desired.buckets.items():
        if bucket.policy is not None:
            yield prefix + ("buckets", name, "policy"), bucket.policy, True


def check_buckets(desired: DesiredState, prefix: Path) -> list[Problem]:
    problems: list[Problem] = []
    for name, bucket in desired.buckets.items():
        path = prefix + ("buckets", name)
        problems += _check_encryption(desired, bucket, path)
        problems += _duplicate_objects(bucket, path)
        if bucket.policy is not None:
            problems += check_bucket_policy(name, bucket.policy, path + ("policy",))
        problems += _blocked_public_policy(bucket, path)
        problems += _account_blocked_public_policy(desired, name, bucket, prefix)
    return problems


def _account_blocked_public_policy(desired: DesiredState, name: str, bucket: Bucket, prefix: Path) -> list[Problem]:
    """A state whose account-level BlockPublicPolicy is on in the account of a bucket with a public
    policy: S3 applies "the most restrictive combination of the bucket-level and account-level
    settings" (S3 User Guide, "Blocking public access to your Amazon S3 storage"), so
    PutBucketPolicy would fail with AccessDenied whatever the bucket's own setting says."""
    account = desired.account_of("buckets", name) or "home"
    block = desired.account_public_access_block.get(account)
    if block is None or not block.block_public_policy or bucket.policy is None:
        return []
    if bucket.public_access_block is not None and bucket.public_access_block.block_public_policy:
        return []  # the bucket's own setting already reports it
    document = bucket.policy.model_dump(mode="json", by_alias=True, exclude_none=True)
    culprits = public_statements(document)
    if not culprits:
        return []
    named = ", ".join(str(_statement_name(document, index)) for index in culprits)
    return [Problem(prefix + ("account_public_access_block", account, "block_public_policy"), (
        f"the account-level block_public_policy of {account!r} refuses the policy of bucket {name!r}, which is"
        f" public (statement {named} grants to \"*\" without a fixed aws:SourceIp, aws:SourceVpc, aws:SourceVpce,"
        " aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID... condition: S3 User Guide, \"The meaning of"
        " 'public'\"); S3 applies the most restrictive of the account's and the bucket's settings (S3 User Guide,"
        " \"Blocking public access to your Amazon S3 storage\"), so PutBucketPolicy would fail with AccessDenied"))]


def _blocked_public_policy(bucket: Bucket, path: Path) -> list[Problem]:
    """A state that declares both BlockPublicPolicy and a public bucket policy: PutBucketPolicy
    would fail with 403 AccessDenied (S3 API Reference, "PublicAccessBlockConfiguration",
    BlockPublicPolicy; S3 User Guide, "The meaning of 'public'")."""
    block = bucket.public_access_block
    if block is None or not block.block_public_policy or bucket.policy is None:
        return []
    document = bucket.policy.model_dump(mode="json", by_alias=True, exclude_none=True)
    culprits = public_statements(document)
    if not culprits:
        return []
    named = ", ".join(str(_statement_name(document, index)) for index in culprits)
    return [Problem(path + ("public_access_block", "block_public_policy"), (
        f"block_public_policy refuses this bucket's policy, which is public (statement {named} grants to \"*\""
        " without a fixed aws:SourceIp, aws:SourceVpc, aws:SourceVpce, aws:SourceArn, aws:SourceAccount,"
        " aws:PrincipalOrgID... condition: S3 User Guide, \"The meaning of 'public'\"); PutBucketPolicy would"
        " fail with AccessDenied"))]


def _statement_name(document: dict[str, object], index: int) -> str:
    statements = document.get("Statement")
    found = statements[index] if isinstance(statements, list) and index < len(statements) else {}
    sid = found.get("Sid") if isinstance(found, dict) else None
    return repr(sid) if sid else f"#{index + 1}"


def _check_encryption(desired: DesiredState, bucket: Bucket, path: Path) -> list[Problem]:
    key_name = bucket.key_name()
    if bucket.bucket_key and bucket.encryption == "aws-owned":
        return [Problem(path + ("bucket_key",), "bucket_key applies to SSE-KMS only (S3 User Guide, \"Reducing the cost of"
                                                " SSE-KMS with Amazon S3 Bucket Keys\"): use encryption aws-managed or key:NAME")]
    if key_name is None:
        return []
    key = desired.keys.get(key_name)
    if key is None:
        known = f" (known: {', '.join(sorted(desired.keys))})" if desired.keys else " (there are none)"
        return [Problem(path + ("encryption",), f"'key:{key_name}' names no key of this scenario{known}")]
    if key.spec != "SYMMETRIC_DEFAULT":
        return [Problem(path + ("encryption",), f"S3 encrypts only with symmetric keys (SSE-KMS); key {key_name!r} is {key.spec}")]
    return []


def _duplicate_objects(bucket: Bucket, path: Path) -> list[Problem]:
    first_with: dict[str, int] = {}
    problems = []
    for index, item in enumerate(bucket.objects):
        if item.key in first_with:
            problems.append(Problem(path + ("objects", index, "key"), (
                f"objects[{first_with[item.key]}] already has the key {item.key!r}; a bucket holds one object per key")))
        else:
            first_with.setdefault(item.key, index)
    return problems


def check_bucket_policy(name: str, document: PolicyDocument, path: Path) -> list[Problem]:
    """Every statement names resources, and only this bucket's (see the module docstring)."""
    problems: list[Problem] = []
    for spath, statement in located_statements(document, path):
        if statement.resource is None and statement.not_resource is None:
            problems.append(Problem(spath, (
                "each statement of a bucket policy needs Resource or NotResource (IAM User Guide, \"IAM JSON"
                f" policy elements: Resource\"): 'bucket:{name}' or 'object:{name}/*'")))
        problems += _foreign_resources(name, statement, spath)
    return problems


def _foreign_resources(name: str, statement: Statement, path: Path) -> list[Problem]:
    problems = []
    for field, alias in (("resource", "Resource"), ("not_resource", "NotResource")):
        value = getattr(statement, field)
        for index, resource in enumerate(as_list(value) if value is not None else []):
            if _this_bucket(name, resource):
                continue
            where = path + (alias,) + ((index,) if isinstance(value, list) else ())
            problems.append(Problem(where, (
                f"{resource!r} is not bucket {name!r} or its objects: a bucket policy names only its own bucket"
                f" ({POLICY_PAGE}); use 'bucket:{name}' or 'object:{name}/KEY' (wildcards allowed)")))
    return problems


def _this_bucket(name: str, resource: str) -> bool:
    """This bucket or its objects by reference; literal S3 ARNs and `*` are left to S3 (a literal
    cannot be compared here: the physical name carries the run prefix)."""
    if resource == f"bucket:{name}" or resource.startswith(f"object:{name}/"):
        return True
    if is_reference(resource):
        return False
    return resource == "*" or resource.startswith(arns.bucket_arn("")) or not resource.startswith("arn:")


def check_s3_expectation(desired: DesiredState, expectation: Expectation, path: Path) -> list[Problem]:
    """`bucket:B` / `object:B/K` names a declared bucket; a read names a seeded object."""
    kind, _, name = expectation.resource.partition(":")
    bucket_name, _, key = name.partition("/")
    bucket = desired.buckets.get(bucket_name)
    if bucket is None:
        known = f" (known: {', '.join(sorted(desired.buckets))})" if desired.buckets else " (there are none)"
        return [Problem(path + ("resource",), f"{expectation.resource!r} names no bucket of this scenario{known}")]
    if expectation.action == "s3:HeadObject" and expectation.error is not None:
        return [Problem(path + ("error",), (
            "a HEAD answer has no body, so no error code to compare (S3 API Reference, HeadObject: \"it returns a"
            " generic code, such as ... 403 Forbidden\"); expect the outcome and the layer only"))]
    if kind == "object" and expectation.action in READS and key not in {item.key for item in bucket.objects}:
        seeded = ", ".join(sorted(item.key for item in bucket.objects)) or "none"
        return [Problem(path + ("resource",), (
            f"{expectation.action} reads {key!r}, which bucket {bucket_name!r} does not seed (seeded: {seeded});"
            " S3 would answer 404 Not Found, which decides nothing about access"))]
    return []
