"""Fixtures for the gate tests: moto in-process, the gate on every boto3 client."""
from __future__ import annotations

import functools
import json
from typing import Any, Iterator

import boto3
import moto.iam.models
import pytest
from gate_scenario import DDB_FULL, REGION, Scenario, encrypted_table, key_policy, user_session
from moto import mock_aws

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler, gated
from orchestrator.backends.moto_world import MotoWorld

@functools.cache
def _bundled_managed_policies() -> dict[str, Any]:
    return json.loads(moto.iam.models.aws_managed_policies_data)  # read, never changed, by from_data


def _aws_partition_policies(backend: moto.iam.models.IAMBackend) -> list[moto.iam.models.ManagedPolicy]:
    """IAMBackend._init_aws_policies for the aws partition, from the bundle parsed once; none in the others."""
    if backend.region_name != "aws" or not moto.iam.models.load_iam_aws_managed_policies():
        return []
    return [moto.iam.models.AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
            for name, data in _bundled_managed_policies().items()]


@pytest.fixture(scope="session", autouse=True)
def _managed_policies_in_the_aws_partition() -> Iterator[None]:
    """Speed only. With MOTO_IAM_LOAD_MANAGED_POLICIES moto parses its bundle and makes ~1,500
    policies in the IAM backend of each of its six partitions (aws, aws-cn, aws-us-gov, ...),
    twice a test (at the first call and at the reset): about 2 s a test. These tests live in the
    aws partition (account 123456789012, arn:aws:...), where every managed policy is still loaded."""
    patch = pytest.MonkeyPatch()
    patch.setattr(moto.iam.models.IAMBackend, "_init_aws_policies", _aws_partition_policies)
    try:
        yield
    finally:
        patch.undo()


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
