"""S3 behind the gate: bucket policies and SSE-KMS on the caller's behalf.

Amazon S3 User Guide: "Troubleshoot access denied (403 Forbidden) errors in
Amazon S3" (message format, quoted resource) and "Using server-side encryption
with AWS KMS keys (SSE-KMS)" (kms:GenerateDataKey on upload, kms:Decrypt on
download, kms:ViaService s3.<region>.amazonaws.com).
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, TESTER_ARN, Scenario, key_policy, statement

BUCKET = "reports"
OBJECT = f"arn:aws:s3:::{BUCKET}/data.txt"
S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def bucket(scenario: Scenario) -> Scenario:
    s3 = scenario.client("orchestrator", "s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": scenario.key_arn}}]})
    s3.put_object(Bucket=BUCKET, Key="data.txt", Body=b"quarterly numbers")
    s3.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"public", ServerSideEncryption="AES256")
    return scenario


def _allow_s3(scenario: Scenario) -> None:
    scenario.client("orchestrator", "iam").attach_user_policy(UserName="tester", PolicyArn=S3_FULL)


def test_get_denied_without_s3_permission(bucket: Scenario) -> None:
    with pytest.raises(ClientError) as excinfo:
        bucket.client("tester", "s3").get_object(Bucket=BUCKET, Key="data.txt")
    assert _error(excinfo) == (
        "AccessDenied",
        f'User: {TESTER_ARN} is not authorized to perform: s3:GetObject on resource: "{OBJECT}" '
        "because no identity-based policy allows the s3:GetObject action",
        403,
    )


def test_sse_kms_get_denied_without_kms_decrypt(bucket: Scenario) -> None:
    _allow_s3(bucket)
    tester = bucket.client("tester", "s3")
    assert tester.get_object(Bucket=BUCKET, Key="plain.txt")["Body"].read() == b"public"
    with pytest.raises(ClientError) as excinfo:
        tester.get_object(Bucket=BUCKET, Key="data.txt")
    assert _error(excinfo) == (
        "AccessDenied",
        f"User: {TESTER_ARN} is not authorized to perform: kms:Decrypt on the resource associated with "
        "this ciphertext because the resource does not exist in this Region, no resource-based policies "
        "allow access, or a resource-based policy explicitly denies access",
        403,
    )


def test_sse_kms_get_allowed_via_s3_only(bucket: Scenario) -> None:
    _allow_s3(bucket)
    via = statement("TesterViaS3", TESTER_ARN, ["kms:Decrypt", "kms:GenerateDataKey"],
                    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com",
                                      "kms:EncryptionContext:aws:s3:arn": OBJECT}})
    bucket.client("orchestrator", "kms").put_key_policy(KeyId=bucket.key_id, PolicyName="default",
                                                        Policy=key_policy(via))
    body = bucket.client("tester", "s3").get_object(Bucket=BUCKET, Key="data.txt")["Body"].read()
    assert body == b"quarterly numbers"


def test_sse_kms_put_denied_without_generate_data_key(bucket: Scenario) -> None:
    _allow_s3(bucket)
    with pytest.raises(ClientError) as excinfo:
        bucket.client("tester", "s3").put_object(Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert _error(excinfo) == (
        "AccessDenied",
        f"User: {TESTER_ARN} is not authorized to perform: kms:GenerateDataKey on resource: "
        f"{bucket.key_arn} because no resource-based policy allows the kms:GenerateDataKey action",
        403,
    )
    assert "Contents" not in bucket.client("orchestrator", "s3").list_objects_v2(Bucket=BUCKET, Prefix="new")


def test_bucket_policy_allows_and_denies(bucket: Scenario) -> None:
    """Same account: the bucket policy alone can allow; its explicit deny wins over IAM."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": TESTER_ARN}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/plain.txt"},
        {"Effect": "Deny", "Principal": {"AWS": TESTER_ARN}, "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{BUCKET}"}]}
    bucket.client("orchestrator", "s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    tester = bucket.client("tester", "s3")
    assert tester.get_object(Bucket=BUCKET, Key="plain.txt")["Body"].read() == b"public"
    _allow_s3(bucket)
    with pytest.raises(ClientError) as excinfo:
        tester.list_objects_v2(Bucket=BUCKET)
    assert _error(excinfo) == (
        "AccessDenied",
        f'User: {TESTER_ARN} is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::{BUCKET}" '
        "with an explicit deny in a resource-based policy",
        403,
    )


def test_disabled_key_refuses_sse_kms_read(bucket: Scenario) -> None:
    bucket.client("orchestrator", "kms").disable_key(KeyId=bucket.key_id)
    with pytest.raises(ClientError) as excinfo:
        bucket.client("orchestrator", "s3").get_object(Bucket=BUCKET, Key="data.txt")
    assert _error(excinfo) == ("KMS.DisabledException", f"{bucket.key_arn} is disabled.", 400)
    assert ACCOUNT in bucket.key_arn
