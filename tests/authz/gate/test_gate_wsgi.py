"""The gate in front of moto's *server* over real HTTP: same codes, same words.

AWS General Reference, "Signature Version 4" (credential scope); Smithy "AWS
JSON 1.0/1.1 protocol" error serialization; IAM API Reference "Common Errors";
S3 API Reference "Error responses"; AWS KMS Developer Guide "How Amazon
DynamoDB uses AWS KMS".
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, DDB_FULL, REGION, TABLE, TESTER_ARN, gated_server, key_policy, statement

from orchestrator.authz.gate.wsgi import GatedMotoServer

KEY = {"pk": {"S": "order-1"}}


@pytest.fixture(scope="module")
def server() -> Iterator[GatedMotoServer]:
    with gated_server() as running:
        yield running


class Remote:
    """boto3 clients against the gated server, a fresh moto state per test."""

    def __init__(self, server: GatedMotoServer) -> None:
        self.url = server.endpoint_url
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).read()
        self.orchestrator = self.session("testing", "testing")
        iam = self.client(self.orchestrator, "iam")
        iam.create_user(UserName="tester")
        iam.attach_user_policy(UserName="tester", PolicyArn=DDB_FULL)
        keys = iam.create_access_key(UserName="tester")["AccessKey"]
        self.tester = self.session(keys["AccessKeyId"], keys["SecretAccessKey"])
        kms = self.client(self.orchestrator, "kms")
        self.key = kms.create_key(Policy=key_policy())["KeyMetadata"]
        ddb = self.client(self.orchestrator, "dynamodb")
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         SSESpecification={"Enabled": True, "SSEType": "KMS",
                                           "KMSMasterKeyId": self.key["Arn"]})
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "order-1"}, "total": {"N": "42"}})

    @staticmethod
    def session(key_id: str, secret: str) -> boto3.Session:
        return boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION)

    def client(self, session: boto3.Session, service: str) -> Any:
        return session.client(service, endpoint_url=self.url, region_name=REGION)


@pytest.fixture
def remote(server: GatedMotoServer) -> Remote:
    return Remote(server)


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_dynamodb_kms_denial_over_http(remote: Remote) -> None:
    wire: dict[str, Any] = {}
    tester = remote.client(remote.tester, "dynamodb")
    tester.meta.events.register("after-call", lambda http_response, **_: wire.update(http=http_response))
    with pytest.raises(ClientError) as excinfo:
        tester.get_item(TableName=TABLE, Key=KEY)
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message.startswith("KMS key access denied error: com.amazonaws.services.kms.model.AWSKMSException: ")
    assert wire["http"].headers["x-amzn-ErrorType"] == "AccessDeniedException"
    body = json.loads(wire["http"].content)
    assert body == {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": message}


def test_key_policy_change_seen_on_next_request(remote: Remote) -> None:
    kms = remote.client(remote.orchestrator, "kms")
    kms.put_key_policy(KeyId=remote.key["KeyId"], PolicyName="default",
                       Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    item = remote.client(remote.tester, "dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]
    assert item["total"] == {"N": "42"}


def test_allowed_write_reaches_moto_with_body_intact(remote: Remote) -> None:
    kms = remote.client(remote.orchestrator, "kms")
    kms.put_key_policy(KeyId=remote.key["KeyId"], PolicyName="default",
                       Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    tester = remote.client(remote.tester, "dynamodb")
    tester.put_item(TableName=TABLE, Item={"pk": {"S": "order-2"}, "total": {"N": "7"}})
    assert tester.get_item(TableName=TABLE, Key={"pk": {"S": "order-2"}})["Item"]["total"] == {"N": "7"}


def test_kms_describe_key_denial_over_http(remote: Remote) -> None:
    with pytest.raises(ClientError) as excinfo:
        remote.client(remote.tester, "kms").describe_key(KeyId=remote.key["KeyId"])
    assert _error(excinfo) == (
        "AccessDeniedException",
        f"User: {TESTER_ARN} is not authorized to perform: kms:DescribeKey on resource: {remote.key['Arn']} "
        "because no resource-based policy allows the kms:DescribeKey action",
        400,
    )


def test_disabled_key_over_http_for_the_administrator(remote: Remote) -> None:
    remote.client(remote.orchestrator, "kms").disable_key(KeyId=remote.key["KeyId"])
    with pytest.raises(ClientError) as excinfo:
        remote.client(remote.orchestrator, "dynamodb").get_item(TableName=TABLE, Key=KEY)
    code, message, _ = _error(excinfo)
    assert code == "AccessDeniedException"
    assert f"DisabledException: {remote.key['Arn']} is disabled." in message


def test_iam_query_protocol_denial(remote: Remote) -> None:
    with pytest.raises(ClientError) as excinfo:
        remote.client(remote.tester, "iam").create_user(UserName="mallory")
    assert _error(excinfo) == (
        "AccessDenied",
        f"User: {TESTER_ARN} is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{ACCOUNT}:user/mallory because no identity-based policy allows the iam:CreateUser action",
        403,
    )


def test_s3_sse_kms_denial_over_http(remote: Remote) -> None:
    s3 = remote.client(remote.orchestrator, "s3")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="data.txt", Body=b"numbers", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=remote.key["Arn"])
    remote.client(remote.orchestrator, "iam").attach_user_policy(
        UserName="tester", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    with pytest.raises(ClientError) as excinfo:
        remote.client(remote.tester, "s3").get_object(Bucket="reports", Key="data.txt")
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {TESTER_ARN} is not authorized to perform: kms:Decrypt on the resource")


def test_get_caller_identity_needs_no_permission(remote: Remote) -> None:
    identity = remote.client(remote.tester, "sts").get_caller_identity()
    assert identity["Arn"] == TESTER_ARN


def test_simulators_over_http(remote: Remote) -> None:
    iam = remote.client(remote.orchestrator, "iam")
    results = iam.simulate_principal_policy(PolicySourceArn=TESTER_ARN,
                                            ActionNames=["dynamodb:GetItem", "kms:Decrypt"])["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("dynamodb:GetItem", "allowed"), ("kms:Decrypt", "implicitDeny")]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "AmazonDynamoDBFullAccess"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}}]})
    entry = {"ContextKeyName": "kms:ViaService", "ContextKeyValues": ["dynamodb.us-east-1.amazonaws.com"],
             "ContextKeyType": "string"}
    # A KMS key ARN is decided with its key policy (without one it fails closed): this one delegates to IAM.
    key_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]})
    custom = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["kms:Decrypt"], ResourcePolicy=key_policy,
                                        ResourceArns=[remote.key["Arn"]], ContextEntries=[entry])
    assert custom["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert custom["EvaluationResults"][0]["EvalResourceName"] == remote.key["Arn"]
