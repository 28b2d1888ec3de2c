"""The world reader: moto's state as IAM, KMS, DynamoDB and S3 authorization see it.

IAM User Guide, "Policy evaluation logic" (inline, managed and group policies,
permissions boundaries); AWS KMS Developer Guide "Key states", "Grants";
DynamoDB Developer Guide "DynamoDB encryption at rest".
"""
from __future__ import annotations

import json

import boto3
import pytest
from gate_scenario import ACCOUNT, DDB_FULL, REGION, TABLE, TESTER_ARN, Scenario

from orchestrator.backends.moto_world import BundledPolicies, MotoWorld

READ_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def test_access_key_owner_and_principal(scenario: Scenario) -> None:
    key_id = scenario.tester.get_credentials().access_key
    identity = MotoWorld().identity_for_access_key(key_id)
    assert identity is not None
    principal = identity.principal
    assert (principal.arn, principal.account, principal.type, principal.username) == (
        TESTER_ARN, ACCOUNT, "User", "tester")
    assert principal.userid
    assert MotoWorld().identity_for_access_key("testing") is None
    assert MotoWorld().identity_for_access_key(None) is None


def test_identity_policies_include_groups_and_inline(scenario: Scenario) -> None:
    iam = scenario.client("orchestrator", "iam")
    iam.put_user_policy(UserName="tester", PolicyName="inline", PolicyDocument=READ_ONLY)
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="tester")
    iam.put_group_policy(GroupName="readers", PolicyName="group-inline", PolicyDocument=READ_ONLY)
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    world = MotoWorld()
    names = [doc.name for doc in world.identity_policies(world.identity_for_arn(TESTER_ARN))]  # type: ignore[arg-type]
    assert names == ["user inline inline", DDB_FULL, "group readers inline group-inline",
                     "arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_managed_policy_document_falls_back_to_bundled_data() -> None:
    document = json.loads(BundledPolicies().document(DDB_FULL) or "{}")
    actions = document["Statement"][0]["Action"]
    assert "dynamodb:*" in actions and "kms:DescribeKey" in actions and "kms:Decrypt" not in actions
    assert BundledPolicies().document("arn:aws:iam::123456789012:policy/mine") is None


def test_role_session_identity_and_boundary(scenario: Scenario) -> None:
    iam = scenario.client("orchestrator", "iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust,
                           PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")["Role"]
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=READ_ONLY)
    creds = scenario.client("orchestrator", "sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    world = MotoWorld()
    identity = world.identity_for_access_key(creds["AccessKeyId"])
    assert identity is not None and identity.principal.type == "AssumedRole"
    assert identity.principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    assert [d.name for d in world.identity_policies(identity)] == ["role inline read"]
    boundary = world.permissions_boundary(identity)
    assert boundary is not None and boundary.kind == "boundary"


def test_kms_key_lookup_by_every_reference(scenario: Scenario) -> None:
    world = MotoWorld()
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders"
    for ref in (scenario.key_id, scenario.key_arn, "alias/orders", alias_arn):
        key = world.kms_key(ref, REGION, ACCOUNT)
        assert key is not None and key.arn == scenario.key_arn, ref
    key = world.kms_key(scenario.key_id, REGION, ACCOUNT)
    assert key is not None and (key.state, key.enabled, key.aws_managed) == ("Enabled", True, False)
    assert key.aliases == ("alias/orders",)
    assert world.kms_key("alias/missing", REGION, ACCOUNT) is None


def test_key_from_ciphertext_and_state_changes_are_seen(scenario: Scenario) -> None:
    kms = scenario.client("orchestrator", "kms")
    blob = kms.encrypt(KeyId=scenario.key_id, Plaintext=b"x")["CiphertextBlob"]
    world = MotoWorld()
    assert world.kms_key_from_ciphertext(blob, REGION, ACCOUNT).arn == scenario.key_arn  # type: ignore[union-attr]
    kms.disable_key(KeyId=scenario.key_id)
    assert world.kms_key(scenario.key_id, REGION, ACCOUNT).state == "Disabled"  # type: ignore[union-attr]
    assert world.kms_key_from_ciphertext(b"short", REGION, ACCOUNT) is None


def test_table_sse_and_resource_policy(scenario: Scenario) -> None:
    ddb = scenario.client("orchestrator", "dynamodb")
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": TESTER_ARN}, "Action": "dynamodb:GetItem", "Resource": table_arn}]})
    ddb.put_resource_policy(ResourceArn=table_arn, Policy=policy)
    table = MotoWorld().table(TABLE, REGION, ACCOUNT)
    assert table is not None
    assert (table.arn, table.hash_key, table.kms_key_ref) == (table_arn, "pk", scenario.key_arn)
    assert json.loads(table.resource_policy or "{}")["Statement"][0]["Principal"]["AWS"] == TESTER_ARN
    assert MotoWorld().table(table_arn, REGION, ACCOUNT) == table
    assert MotoWorld().table("missing", REGION, ACCOUNT) is None


def test_bucket_policy_default_encryption_and_object(scenario: Scenario) -> None:
    s3 = scenario.client("orchestrator", "s3")
    s3.create_bucket(Bucket="bucket-one")
    s3.put_bucket_encryption(Bucket="bucket-one", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": scenario.key_id},
         "BucketKeyEnabled": True}]})
    s3.put_object(Bucket="bucket-one", Key="k", Body=b"v")
    bucket = MotoWorld().bucket("bucket-one")
    assert bucket is not None
    assert (bucket.account, bucket.sse_algorithm, bucket.kms_key_id, bucket.bucket_key_enabled) == (
        ACCOUNT, "aws:kms", scenario.key_id, True)
    found = MotoWorld().s3_object("bucket-one", "k")
    assert found is not None and (found.sse_algorithm, found.kms_key_id) == ("aws:kms", scenario.key_id)
    assert MotoWorld().bucket("nope") is None and MotoWorld().s3_object("bucket-one", "nope") is None


@pytest.mark.usefixtures("aws")
def test_account_for_unknown_key_is_moto_default() -> None:
    boto3.client("sts", region_name=REGION).get_caller_identity()
    assert MotoWorld().account_for_access_key("AKIAUNKNOWN") == ACCOUNT


def test_user_boundary_set_on_the_moto_user_is_enforced(scenario: Scenario) -> None:
    """moto has no PutUserPermissionsBoundary; a reconciler may set the attribute itself."""
    from botocore.exceptions import ClientError
    from moto.backends import get_backend

    boundary_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    user = get_backend("iam")[ACCOUNT]["global"].users["tester"]
    user.permissions_boundary_arn = boundary_arn
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "dynamodb").describe_table(TableName=TABLE)
    assert excinfo.value.response["Error"]["Message"] == (
        f"User: {TESTER_ARN} is not authorized to perform: dynamodb:DescribeTable on resource: "
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE} because no permissions boundary allows "
        "the dynamodb:DescribeTable action")
