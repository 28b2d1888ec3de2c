"""S3 buckets and their seed objects (orchestrator/resources/s3_bucket.py, s3_objects.py).

S3 API Reference: CreateBucket, PutBucketTagging, PutBucketEncryption, PutBucketPolicy,
DeleteBucketPolicy, PutObject, HeadObject, DeleteObjects, DeleteBucket. S3 User Guide, "Setting
default server-side encryption behavior for Amazon S3 buckets" (an object keeps the encryption it
was written with: the seeds are put again when the bucket's changes).
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from res_support import (ACCOUNT, ACCOUNT_ADMIN, actions, apply, context, desired, doc, error_code, mutating_ops,
                         ownership, pending, plan, record, teardown)

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.reconcile.preflight import preflight
from orchestrator.resources.s3_objects import HASH_METADATA, body_hash

READ_DOCS = {"Sid": "ReadDocs", "Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "s3:GetObject",
             "Resource": "object:docs/*"}


def scenario(encryption: str = "aws-owned", bucket_key: bool = False, policy: bool = True,
             objects: list[dict[str, str]] | None = None, tags: dict[str, str] | None = None) -> dict[str, Any]:
    bucket: dict[str, Any] = {"encryption": encryption, "bucket_key": bucket_key, "tags": tags or {},
                              "objects": objects if objects is not None else [{"key": "a.txt", "body": "alpha"},
                                                                              {"key": "dir/b.txt", "body": "beta"}]}
    if policy:
        bucket["policy"] = doc(READ_DOCS)
    return {"keys": {"data": {"policy": doc(ACCOUNT_ADMIN)}}, "buckets": {"docs": bucket}}


def head(backend: EmbeddedBackend, key: str, bucket: str = "docs") -> dict[str, Any]:
    return backend.client("s3").head_object(Bucket=bucket, Key=key)


def bucket_tags(backend: EmbeddedBackend, bucket: str = "docs") -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backend.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]}


def drift(backend: EmbeddedBackend, document: dict[str, Any]) -> list[Any]:
    return [d for pair in observe_all(context(backend), desired(document)) for d in differences(pair)
            if pair.reconciler.section == "buckets"]


def test_create_tags_encrypts_puts_the_policy_and_seeds(backend: EmbeddedBackend) -> None:
    result = apply(backend, scenario("key:data", bucket_key=True, tags={"team": "data"}))
    assert actions(result) == {"kms_key.data": "create", "s3_bucket.docs": "create", "s3_objects.docs": "create"}
    assert bucket_tags(backend) == {"team": "data", **ownership("docs")}
    [rule] = backend.client("s3").get_bucket_encryption(Bucket="docs")["ServerSideEncryptionConfiguration"]["Rules"]
    key_arn = backend.client("kms").list_keys()["Keys"][0]["KeyArn"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    assert rule["BucketKeyEnabled"] is True
    policy = json.loads(backend.client("s3").get_bucket_policy(Bucket="docs")["Policy"])
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::docs/*"]
    assert policy["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}
    seeded = head(backend, "a.txt")
    assert (seeded["ServerSideEncryption"], seeded["SSEKMSKeyId"], seeded["Metadata"]) == (
        "aws:kms", key_arn, {HASH_METADATA: body_hash("alpha")})
    assert backend.client("s3").get_object(Bucket="docs", Key="dir/b.txt")["Body"].read() == b"beta"


def test_the_objects_are_put_after_the_bucket_encryption_and_policy(backend: EmbeddedBackend) -> None:
    calls: list[str] = []
    backend.observe(lambda service, operation, params: calls.append(operation) if service == "s3" else None)
    apply(backend, scenario("aws-managed"))
    writes = [c for c in calls if c.startswith(("Create", "Put"))]
    assert writes == ["CreateBucket", "PutBucketTagging", "PutBucketEncryption", "PutBucketPolicy", "PutObject", "PutObject"]


@pytest.mark.parametrize("encryption, bucket_key", [("aws-owned", False), ("aws-managed", False), ("aws-managed", True),
                                                    ("key:data", False), ("key:data", True)])
def test_a_second_apply_makes_no_mutating_call(backend: EmbeddedBackend, encryption: str, bucket_key: bool) -> None:
    apply(backend, scenario(encryption, bucket_key))
    backend.log.clear()
    again = apply(backend, scenario(encryption, bucket_key))
    assert set(actions(again).values()) == {"no-op"}
    assert mutating_ops(backend) == []
    assert pending(plan(backend, scenario(encryption, bucket_key))) == {}
    assert drift(backend, scenario(encryption, bucket_key)) == []


def test_aws_managed_is_sse_kms_without_a_key_id(backend: EmbeddedBackend) -> None:
    sent = record(backend, "PutBucketEncryption")
    apply(backend, scenario("aws-managed"))
    assert sent[0]["ServerSideEncryptionConfiguration"]["Rules"][0] == {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": False}


def test_an_sse_s3_bucket_sends_no_encryption_on_create(backend: EmbeddedBackend) -> None:
    apply(backend, scenario("aws-owned"))
    assert "PutBucketEncryption" not in mutating_ops(backend)
    assert head(backend, "a.txt").get("ServerSideEncryption") in (None, "AES256")


def test_changing_the_encryption_puts_the_seeds_again_under_the_declared_key(backend: EmbeddedBackend) -> None:
    apply(backend, scenario("aws-owned"))
    backend.log.clear()
    result = apply(backend, scenario("key:data"))
    assert pending(result) == {"s3_bucket.docs": ["encryption"], "s3_objects.docs": ["objects"]}
    assert mutating_ops(backend) == ["PutBucketEncryption", "PutObject", "PutObject"]
    key_arn = backend.client("kms").list_keys()["Keys"][0]["KeyArn"]
    assert {head(backend, k)["SSEKMSKeyId"] for k in ("a.txt", "dir/b.txt")} == {key_arn}
    backend.log.clear()
    apply(backend, scenario("aws-owned"))  # back to SSE-S3: AES256, not "no configuration"
    assert mutating_ops(backend) == ["PutBucketEncryption", "PutObject", "PutObject"]
    assert head(backend, "a.txt")["ServerSideEncryption"] == "AES256"


def test_a_changed_body_is_put_again_and_an_undeclared_seed_deleted(backend: EmbeddedBackend) -> None:
    apply(backend, scenario())
    backend.client("s3").put_object(Bucket="docs", Key="by-hand.txt", Body=b"not ours")
    backend.log.clear()
    apply(backend, scenario(objects=[{"key": "a.txt", "body": "alpha 2"}]))
    assert mutating_ops(backend) == ["DeleteObject", "PutObject"]
    keys = sorted(o["Key"] for o in backend.client("s3").list_objects_v2(Bucket="docs")["Contents"])
    assert keys == ["a.txt", "by-hand.txt"]  # an object orchestrate did not put is not the scenario's
    assert backend.client("s3").get_object(Bucket="docs", Key="a.txt")["Body"].read() == b"alpha 2"


def test_removing_the_policy_deletes_it(backend: EmbeddedBackend) -> None:
    apply(backend, scenario())
    backend.log.clear()
    apply(backend, scenario(policy=False))
    assert mutating_ops(backend) == ["DeleteBucketPolicy"]
    with pytest.raises(Exception) as caught:
        backend.client("s3").get_bucket_policy(Bucket="docs")
    assert error_code(caught.value) == "NoSuchBucketPolicy"


def test_changes_behind_orchestrates_back_are_drift(backend: EmbeddedBackend) -> None:
    document = scenario("key:data")
    apply(backend, document)
    s3 = backend.client("s3")
    widened = doc({**READ_DOCS, "Principal": "*"})
    widened["Statement"][0]["Resource"] = "arn:aws:s3:::docs/*"
    s3.put_bucket_policy(Bucket="docs", Policy=json.dumps(widened))
    s3.put_bucket_encryption(Bucket="docs", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"tampered")
    found = {(d.resource, d.path, d.kind) for d in drift(backend, document)}
    assert ("s3_bucket.docs", "encryption.type", "NOT_EQUAL") in found
    assert ("s3_objects.docs", "objects.a.txt.sha256", "NOT_EQUAL") in found
    assert any(r == "s3_bucket.docs" and p.startswith("policy.Statement") for r, p, _ in found)
    backend.log.clear()
    apply(backend, document)
    assert sorted(mutating_ops(backend)) == ["PutBucketEncryption", "PutBucketPolicy", "PutObject"]
    assert drift(backend, document) == []


def test_a_deleted_seed_is_missing_and_put_back(backend: EmbeddedBackend) -> None:
    apply(backend, scenario())
    backend.client("s3").delete_object(Bucket="docs", Key="a.txt")
    assert [(d.path, d.kind) for d in drift(backend, scenario())] == [("objects.a.txt", "REMOVE")]
    backend.log.clear()
    apply(backend, scenario())
    assert mutating_ops(backend) == ["PutObject"]


def test_destroy_empties_and_deletes_the_bucket(backend: EmbeddedBackend) -> None:
    apply(backend, scenario("key:data"))
    backend.client("s3").put_object(Bucket="docs", Key="by-hand.txt", Body=b"x")
    result = teardown(backend, scenario("key:data"))
    assert actions(result) == {"s3_objects.docs": "delete", "s3_bucket.docs": "delete", "kms_key.data": "delete"}
    assert backend.client("s3").list_buckets()["Buckets"] == []
    assert actions(teardown(backend, scenario("key:data"))) == {}


def test_a_bucket_of_the_same_name_not_owned_is_a_conflict(backend: EmbeddedBackend) -> None:
    backend.client("s3").create_bucket(Bucket="docs")
    [conflict] = [c for c in preflight(context(backend), [("s", desired(scenario()))]) if c.address.startswith("s3")]
    assert conflict.address == "s3_bucket.docs" and "arn:aws:s3:::docs exists and is not owned" in conflict.reason
    assert actions(plan(backend, scenario()))["s3_bucket.docs"] == "conflict"
    # destroy leaves it alone
    assert actions(teardown(backend, scenario()))["s3_bucket.docs"] == "conflict"
    assert [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]] == ["docs"]


def test_adopt_claims_the_bucket_keeping_its_tags(backend: EmbeddedBackend) -> None:
    s3 = backend.client("s3")
    s3.create_bucket(Bucket="docs")
    s3.put_bucket_tagging(Bucket="docs", Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    apply(backend, scenario(tags={"team": "data"}), adopt=True)
    assert bucket_tags(backend) == {"team": "data", **ownership("docs")}
    backend.log.clear()
    apply(backend, scenario(tags={"team": "data"}))
    assert mutating_ops(backend) == []


def test_the_run_id_prefixes_the_lowercased_bucket_name(backend: EmbeddedBackend) -> None:
    apply(backend, scenario(), run_id="Run7")
    assert [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]] == ["run7-docs"]
    policy = json.loads(backend.client("s3").get_bucket_policy(Bucket="run7-docs")["Policy"])
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::run7-docs/*"]


def test_outside_us_east_1_the_bucket_has_a_location_constraint() -> None:
    backend = EmbeddedBackend("eu-west-1", gate=False)
    try:
        sent = record(backend, "CreateBucket")
        apply(backend, scenario())
        assert sent[0]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
        assert backend.client("s3").get_bucket_location(Bucket="docs")["LocationConstraint"] == "eu-west-1"
    finally:
        backend.close()


def test_a_failed_tagging_deletes_the_new_bucket_so_the_next_apply_converges(backend: EmbeddedBackend) -> None:
    class Refused(Exception):
        pass

    def refuse(service: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "PutBucketTagging":
            raise Refused(operation)

    undo = backend.observe(refuse)
    with pytest.raises(Refused):
        apply(backend, scenario())
    undo()
    assert backend.client("s3").list_buckets()["Buckets"] == []
    apply(backend, scenario())
    assert pending(plan(backend, scenario())) == {}


def test_a_key_that_cannot_be_used_leaves_the_seeds_unplanned(backend: EmbeddedBackend) -> None:
    document = scenario("key:data")
    apply(backend, document)
    disabled = copy.deepcopy(document)
    disabled["keys"]["data"]["enabled"] = False
    disabled["buckets"]["docs"]["objects"][0]["body"] = "cannot be written now"
    assert "s3_objects.docs" not in pending(plan(backend, disabled))


def test_buckets_come_after_keys_and_their_objects_after_them() -> None:
    from orchestrator.resources import REGISTRY

    at = {reconciler.kind: index for index, reconciler in enumerate(REGISTRY)}
    assert at["iam_user"] < at["kms_key"] < at["kms_grant"] < at["s3_bucket"] < at["s3_objects"] < at["iam_policy"]


def test_every_call_of_the_lifecycle_is_a_declared_permission(backend: EmbeddedBackend) -> None:
    """S3's IAM actions are not its operation names (S3 User Guide, "Required permissions for Amazon
    S3 API operations"): the gate's table of them maps each call made to the action it needs."""
    from orchestrator.authz.services.s3 import S3_ACTIONS
    from orchestrator.resources.s3_bucket import S3Bucket
    from orchestrator.resources.s3_objects import S3Objects

    apply(backend, scenario("key:data", tags={"a": "1"}))
    apply(backend, scenario("aws-managed", bucket_key=True, policy=False, objects=[{"key": "a.txt", "body": "2"}]))
    backend.client("s3").put_object(Bucket="docs", Key="left.txt", Body=b"x")
    teardown(backend, scenario())
    made = set()
    for service, operation, _ in backend.log.calls:
        if service == "s3":
            made.add(S3_ACTIONS[operation][0])
    declared = set(S3Bucket.permissions) | set(S3Objects.permissions)
    assert {"s3:CreateBucket", "s3:PutEncryptionConfiguration", "s3:DeleteBucketPolicy", "s3:DeleteObject"} <= made
    assert made - declared == set()


def test_leaving_the_customer_managed_key_widens_access(backend: EmbeddedBackend) -> None:
    """KMS Developer Guide, "AWS managed keys": without the scenario key, its key policy no longer
    has a say; drift flags the bucket's and the seeds' encryption as widening."""
    document = scenario("key:data")
    apply(backend, document)
    backend.client("s3").put_bucket_encryption(Bucket="docs", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    backend.client("s3").put_object(Bucket="docs", Key="a.txt", Body=b"alpha",
                                    Metadata={HASH_METADATA: body_hash("alpha")})
    flagged = {(d.path, d.widens_access) for d in drift(backend, document)}
    assert ("encryption.type", True) in flagged and ("encryption.key", True) in flagged
    assert ("objects.a.txt.encryption.type", True) in flagged


def test_a_world_under_the_customer_managed_key_where_sse_s3_is_declared_is_not_wider(backend: EmbeddedBackend) -> None:
    apply(backend, scenario("key:data"))
    found = drift(backend, scenario("aws-owned"))
    assert found and {d.widens_access for d in found} == {False}


# --- Block Public Access and Object Ownership (issue 20, item 5) ------------------------------
# S3 API Reference: PutPublicAccessBlock / GetPublicAccessBlock / DeletePublicAccessBlock
# (PublicAccessBlockConfiguration: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
# RestrictPublicBuckets), PutBucketOwnershipControls / GetBucketOwnershipControls (S3 User Guide,
# "Controlling ownership of objects and disabling ACLs for your bucket").

PUBLIC_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "object:docs/*"}


def public_scenario(block: dict[str, bool] | None = None, ownership: str | None = "BucketOwnerEnforced",
                    public: bool = True) -> dict[str, Any]:
    document = scenario(policy=False)
    bucket = document["buckets"]["docs"]
    bucket["policy"] = doc(PUBLIC_READ if public else READ_DOCS)
    if block is not None:
        bucket["public_access_block"] = block
    if ownership is not None:
        bucket["object_ownership"] = ownership
    return document


def block_of(backend: EmbeddedBackend) -> dict[str, bool]:
    return dict(backend.client("s3").get_public_access_block(Bucket="docs")["PublicAccessBlockConfiguration"])


def test_create_puts_ownership_and_block_before_the_policy(backend: EmbeddedBackend) -> None:
    calls: list[str] = []
    backend.observe(lambda service, operation, params: calls.append(operation) if service == "s3" else None)
    apply(backend, public_scenario({"restrict_public_buckets": True}))
    assert calls.index("PutBucketOwnershipControls") < calls.index("PutPublicAccessBlock") < calls.index("PutBucketPolicy")
    assert block_of(backend) == {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                                 "RestrictPublicBuckets": True}
    rules = backend.client("s3").get_bucket_ownership_controls(Bucket="docs")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("block", [None, {"restrict_public_buckets": True}, {"block_public_acls": True,
                                   "ignore_public_acls": True, "block_public_policy": False}])
def test_a_second_apply_of_the_settings_makes_no_mutating_call(backend: EmbeddedBackend,
                                                               block: dict[str, bool] | None) -> None:
    apply(backend, public_scenario(block))
    backend.log.clear()
    assert set(actions(apply(backend, public_scenario(block))).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_changing_and_removing_the_block_puts_and_deletes_it(backend: EmbeddedBackend) -> None:
    apply(backend, public_scenario({"restrict_public_buckets": True}))
    backend.log.clear()
    apply(backend, public_scenario({"restrict_public_buckets": True, "block_public_acls": True}))
    assert mutating_ops(backend) == ["PutPublicAccessBlock"]
    assert block_of(backend)["BlockPublicAcls"] is True
    backend.log.clear()
    apply(backend, public_scenario(None))
    assert mutating_ops(backend) == ["DeletePublicAccessBlock"]
    with pytest.raises(Exception) as caught:
        block_of(backend)
    assert error_code(caught.value) == "NoSuchPublicAccessBlockConfiguration"


def test_changing_the_ownership_puts_it(backend: EmbeddedBackend) -> None:
    apply(backend, public_scenario(ownership="ObjectWriter"))
    backend.log.clear()
    apply(backend, public_scenario(ownership="BucketOwnerPreferred"))
    assert mutating_ops(backend) == ["PutBucketOwnershipControls"]


def test_a_changed_setting_is_drift_and_put_back(backend: EmbeddedBackend) -> None:
    document = public_scenario({"restrict_public_buckets": True})
    apply(backend, document)
    s3 = backend.client("s3")
    s3.put_public_access_block(Bucket="docs", PublicAccessBlockConfiguration={"RestrictPublicBuckets": False})
    s3.put_bucket_ownership_controls(Bucket="docs", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    found = {(d.resource, d.path, d.kind) for d in drift(backend, document)}
    assert ("s3_bucket.docs", "public_access_block.RestrictPublicBuckets", "NOT_EQUAL") in found
    assert ("s3_bucket.docs", "object_ownership", "NOT_EQUAL") in found
    backend.log.clear()
    apply(backend, document)
    assert sorted(mutating_ops(backend)) == ["PutBucketOwnershipControls", "PutPublicAccessBlock"]
    assert drift(backend, document) == []


def test_destroy_removes_the_bucket_with_its_settings(backend: EmbeddedBackend) -> None:
    apply(backend, public_scenario({"block_public_policy": True}, public=False))
    result = teardown(backend, public_scenario({"block_public_policy": True}, public=False))
    assert actions(result)["s3_bucket.docs"] == "delete"
    assert backend.client("s3").list_buckets()["Buckets"] == []

