"""Scenario helpers for the gate tests (imported by conftest and the test modules).

The seed exercise: an IAM user ``tester`` with AmazonDynamoDBFullAccess and
no KMS permission, a customer managed key whose key policy names only the IAM
user ``admin``, and a table ``orders`` encrypted with that key.

The gate decides the orchestrator's own calls too (moto's default credentials:
``arn:aws:iam::ACCOUNT:user/moto``, an administrator still bound by key
policies), so every key policy here also names it, as orchestrate's lockout
guard does.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import boto3
from botocore.exceptions import ClientError
from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler
from orchestrator.authz.gate.wsgi import GatedMotoServer
from orchestrator.backends.moto_world import MotoWorld

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = "orders"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"
TESTER_ARN = f"arn:aws:iam::{ACCOUNT}:user/tester"
ORCHESTRATOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/moto"
DDB_FULL = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
ADMIN_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AdminOnly", "Effect": "Allow", "Principal": {"AWS": ADMIN_ARN},
                   "Action": "kms:*", "Resource": "*"}],
}


def statement(sid: str, principal: str, actions: list[str], condition: dict | None = None) -> dict:
    found: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal},
                             "Action": actions, "Resource": "*"}
    if condition:
        found["Condition"] = condition
    return found


ORCHESTRATOR_STATEMENT = {"Sid": "Orchestrator", "Effect": "Allow", "Principal": {"AWS": ORCHESTRATOR_ARN},
                          "Action": "kms:*", "Resource": "*"}


def key_policy(*extra: dict) -> str:
    statements = ADMIN_ONLY_POLICY["Statement"] + [ORCHESTRATOR_STATEMENT] + list(extra)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass
class Scenario:
    """Sessions for the orchestrator (moto's default credentials), admin and tester."""

    orchestrator: boto3.Session
    admin: boto3.Session
    tester: boto3.Session
    key_id: str
    key_arn: str
    handler: GateHandler

    def client(self, who: str, service: str) -> Any:
        return getattr(self, who).client(service, region_name=REGION)


def user_session(iam: Any, name: str, *policies: str) -> boto3.Session:
    iam.create_user(UserName=name)
    for arn in policies:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)


def encrypted_table(ddb: Any, key_id: str, name: str = TABLE) -> None:
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_id},
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "order-1"}, "total": {"N": "42"}})


@contextlib.contextmanager
def gated_server(**environment: str) -> Iterator[GatedMotoServer]:
    """The gate in front of moto's server on a free loopback port, with NO_PROXY set for it (and
    ``environment``) while it runs; stopped, and the environment put back, after."""
    names = ("NO_PROXY", "no_proxy", *environment)
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **environment})
    running = GatedMotoServer("127.0.0.1", 0, Gate(REGION, MotoWorld())).start()
    try:
        yield running
    finally:
        running.stop()
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def code_of(call: Callable[[], Any]) -> str:
    """The AWS error code ``call`` answers, or "allowed"."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "allowed"
