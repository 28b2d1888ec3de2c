"""Fixtures for the gate tests: moto in-process, the gate on every boto3 client."""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

import boto3
import moto.iam.models
import pytest
from gate_scenario import DDB_FULL, REGION, Scenario, encrypted_table, key_policy, user_session
from moto import mock_aws

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler, gated
from orchestrator.backends.moto_extensions import ensure_managed_policy
from orchestrator.backends.moto_world import MotoWorld


def _loading_on_attach(attach: Callable[..., None]) -> Callable[..., None]:
    """moto's attach, after orchestrate's own on-demand loader (moto_extensions.ensure_managed_policy,
    as the embedded backend and serve load them) has put an AWS managed policy it names into the
    IAM backend of the account that attaches it."""
    @functools.wraps(attach)
    def attaching(self: moto.iam.models.IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> None:
        ensure_managed_policy(self.account_id, policy_arn)
        attach(self, policy_arn, *args, **kwargs)

    return attaching


@pytest.fixture(scope="session", autouse=True)
def _managed_policies_when_attached() -> Iterator[None]:
    """Speed only. Every AWS managed policy these tests use is attached before it is read (boundaries
    are read from moto's bundle by MotoWorld). moto with MOTO_IAM_LOAD_MANAGED_POLICIES would make
    ~1,600 policies in the IAM backend of every partition at the first call and again at each reset
    (about 1 s a test); orchestrate loads the few a scenario names when they are attached, and so
    do these tests, in every account and under the gated servers of this process alike."""
    iam = moto.iam.models.IAMBackend
    patch = pytest.MonkeyPatch()
    patch.setattr(iam, "_init_aws_policies", lambda self: [])
    for name in ("attach_user_policy", "attach_group_policy", "attach_role_policy"):
        patch.setattr(iam, name, _loading_on_attach(getattr(iam, name)))
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process; AWS managed policies are loaded when attached (_managed_policies_when_attached)."""
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
