"""Fixtures for the gate tests: moto in-process, the gate on every boto3 client."""
from __future__ import annotations

from typing import Iterator

import boto3
import pytest
from gate_scenario import DDB_FULL, REGION, Scenario, encrypted_table, key_policy, user_session
from moto import mock_aws

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler, gated
from orchestrator.backends.moto_world import MotoWorld

@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with AWS managed policies loaded (as the embedded backend must)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.fixture
def handler(aws: None) -> Iterator[GateHandler]:
    with gated(Gate(REGION, MotoWorld())) as found:
        yield found


@pytest.fixture
def scenario(handler: GateHandler) -> Scenario:
    orchestrator = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name=REGION)
    iam = orchestrator.client("iam")
    admin = user_session(iam, "admin", "arn:aws:iam::aws:policy/AdministratorAccess")
    tester = user_session(iam, "tester", DDB_FULL)
    kms = orchestrator.client("kms")
    key = kms.create_key(Policy=key_policy(), Description="orders CMK")["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=key["KeyId"])
    encrypted_table(orchestrator.client("dynamodb"), key["Arn"])
    return Scenario(orchestrator, admin, tester, key["KeyId"], key["Arn"], handler)
