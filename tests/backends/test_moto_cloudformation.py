"""moto's CloudFormation as the embedded backend and `serve` extend it (moto_cloudformation.py):
a stack holds what its template says, for each property moto 5.2 dropped, and delete_stack
removes what it made."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import boto3
import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.backends.endpoint import DEFAULT_ADMIN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))
from serve_support import served  # noqa: E402

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
ROOT_POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow",
               "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, "Action": "kms:*",
               "Resource": "*"}]}
TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "SigningKey": {"Type": "AWS::KMS::Key", "Properties": {
            "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "Enabled": False, "KeyPolicy": ROOT_POLICY,
            "Tags": [{"Key": "team", "Value": "data"}]}},
        "DataKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": ROOT_POLICY}},
        "Readers": {"Type": "AWS::IAM::Group", "Properties": {
            "GroupName": "readers", "Path": "/team/",
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"],
            "Policies": [{"PolicyName": "read-reports", "PolicyDocument": ALLOW_ALL}]}},
        "Boundary": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "ManagedPolicyName": "boundary", "PolicyDocument": ALLOW_ALL}},
        "Tester": {"Type": "AWS::IAM::User", "Properties": {
            "UserName": "tester", "Groups": [{"Ref": "Readers"}], "Tags": [{"Key": "role", "Value": "qa"}],
            "ManagedPolicyArns": [{"Ref": "Boundary"}], "PermissionsBoundary": {"Ref": "Boundary"},
            "Policies": [{"PolicyName": "own", "PolicyDocument": ALLOW_ALL}]}},
        "Runner": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "runner", "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"],
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["Tester", "Arn"]}},
                "Action": "sts:AssumeRole"}]}}},
        "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}},
            "ResourcePolicy": {"PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*"}]}}}},
        "Reports": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": "reports", "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}}}]}}},
        "ReportsPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Reports"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "DenyPlain", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                "Resource": {"Fn::Sub": "${Reports.Arn}/*"}}]}}},
    },
}


def deploy(client: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # moto warns for a resource type it skips
        client("cloudformation").create_stack(StackName="extended", TemplateBody=json.dumps(TEMPLATE))


def assert_world_as_template(client: Any) -> None:
    kms, iam = client("kms"), client("iam")
    keys = {k["KeyId"]: kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]}
    signing = next(m for m in keys.values() if m["KeySpec"] == "ECC_NIST_P256")
    assert (signing["KeyUsage"], signing["KeyState"], signing["Enabled"]) == ("SIGN_VERIFY", "Disabled", False)
    assert kms.list_resource_tags(KeyId=signing["KeyId"])["Tags"] == [{"TagKey": "team", "TagValue": "data"}]
    assert json.loads(kms.get_key_policy(KeyId=signing["KeyId"], PolicyName="default")["Policy"])["Statement"][0]["Sid"] == "Root"

    group = iam.get_group(GroupName="readers")
    assert group["Group"]["Path"] == "/team/" and [u["UserName"] for u in group["Users"]] == ["tester"]
    assert [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName="readers")["AttachedPolicies"]] == \
        ["AmazonDynamoDBReadOnlyAccess"]
    assert iam.list_group_policies(GroupName="readers")["PolicyNames"] == ["read-reports"]
    assert iam.list_user_tags(UserName="tester")["Tags"] == [{"Key": "role", "Value": "qa"}]
    assert [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]] == ["boundary"]
    assert iam.list_user_policies(UserName="tester")["PolicyNames"] == ["own"]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="runner")["AttachedPolicies"]] == \
        ["AmazonDynamoDBReadOnlyAccess"]

    table = client("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["SSEDescription"]["Status"] == "ENABLED" and table["SSEDescription"]["SSEType"] == "KMS"
    policy = json.loads(client("dynamodb").get_resource_policy(ResourceArn=table["TableArn"])["Policy"])
    assert policy["Statement"][0]["Action"] == "dynamodb:DeleteTable"

    s3 = client("s3")
    rule = s3.get_bucket_encryption(Bucket="reports")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BucketKeyEnabled"] is True
    assert json.loads(s3.get_bucket_policy(Bucket="reports")["Policy"])["Statement"][0]["Sid"] == "DenyPlain"


def test_embedded_stack_holds_every_property_and_delete_removes_it() -> None:
    backend = EmbeddedBackend("us-east-1")
    try:
        deploy(backend.client)
        assert_world_as_template(backend.client)
        iam = backend.client("iam")
        assert iam.get_user(UserName="tester")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/boundary")

        backend.client("cloudformation").delete_stack(StackName="extended")
        assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == []
        assert [u["UserName"] for u in iam.list_users()["Users"]] == []
        with pytest.raises(backend.client("s3").exceptions.NoSuchBucket):
            backend.client("s3").get_bucket_policy(Bucket="reports")
    finally:
        backend.close()


def test_served_stack_holds_every_property(tmp_path: Path) -> None:
    with served(tmp_path / "serve.log") as world:
        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=world.url, region_name="us-east-1",
                                aws_access_key_id=DEFAULT_ADMIN.access_key_id,
                                aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)

        deploy(client)
        assert_world_as_template(client)
