"""The floor for the seed overhead benchmark: the seed exercise's steps written by hand with
boto3 on moto, with no checking at all (plain moto lets the first read through; that is the point
of orchestrate, but the floor measures only the cost of the calls)."""
from __future__ import annotations

import json

import boto3
from moto import mock_aws

ACCOUNT = "123456789012"


def policy(*principals: str) -> str:
    statements = [{"Sid": f"S{i}", "Effect": "Allow", "Principal": {"AWS": p}, "Action": "kms:*", "Resource": "*"}
                  for i, p in enumerate(principals)]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def main() -> None:
    with mock_aws():
        session = boto3.session.Session(aws_access_key_id="AKIAHANDWRITTEN00000", aws_secret_access_key="x", region_name="us-east-1")
        iam, kms, ddb = session.client("iam"), session.client("kms"), session.client("dynamodb")
        for user in ("admin", "tester"):
            iam.create_user(UserName=user)
        iam.put_user_policy(UserName="tester", PolicyName="ddb", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
        key = kms.create_key(Policy=policy(f"arn:aws:iam::{ACCOUNT}:user/admin"), Description="orders")["KeyMetadata"]
        kms.create_alias(AliasName="alias/orders-data", TargetKeyId=key["KeyId"])
        ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                         SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]})
        for order_id, total in (("o-1001", "42"), ("o-1002", "17.5"), ("o-1003", "99")):
            ddb.put_item(TableName="orders", Item={"order_id": {"S": order_id}, "total": {"N": total}})
        access = iam.create_access_key(UserName="tester")["AccessKey"]
        tester = boto3.session.Session(aws_access_key_id=access["AccessKeyId"], aws_secret_access_key=access["SecretAccessKey"],
                                       region_name="us-east-1").client("dynamodb")
        tester.get_item(TableName="orders", Key={"order_id": {"S": "o-1001"}})
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                           Policy=policy(f"arn:aws:iam::{ACCOUNT}:user/admin", f"arn:aws:iam::{ACCOUNT}:user/tester"))
        tester.get_item(TableName="orders", Key={"order_id": {"S": "o-1001"}})


if __name__ == "__main__":
    main()
