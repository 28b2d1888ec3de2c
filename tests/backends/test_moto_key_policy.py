"""Only the gate judges a key policy, on the embedded backend and under `orchestrate serve`.

moto 5.2's KMS refuses DescribeKey when any key-policy statement with `Effect: Deny` lists kms:* on
`Resource: "*"`, whoever it names (``moto.kms.policy_validator``): a Deny whose NotPrincipal spares the
key's administrators and orchestrate refused them too. KMS applies a statement to the principals it
names (AWS KMS Developer Guide, "Key policies in AWS KMS"; IAM User Guide, "NotPrincipal"), as the
gate does (moto_extensions.install_kms_key_policy_check_off)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from orchestrator.authz.gate.caller import principal_arn
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.backends.endpoint import DEFAULT_ADMIN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))
from serve_support import served  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _policy(orchestrate: str) -> str:
    spared = [orchestrate, f"arn:aws:iam::{ACCOUNT}:root"]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Manage", "Effect": "Allow", "Principal": {"AWS": orchestrate}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Tester", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/tester"},
         "Action": "kms:DescribeKey", "Resource": "*"},
        {"Sid": "DenyOthers", "Effect": "Deny", "NotPrincipal": {"AWS": spared}, "Action": "kms:*", "Resource": "*"}]})


@pytest.fixture(scope="module", params=["embedded", "serve"])
def clients(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """(make a client as orchestrate, orchestrate's ARN as the gate reads it)."""
    if request.param == "embedded":
        backend = EmbeddedBackend(REGION)
        try:
            yield (lambda service, **keys: backend.client(service, keys.get("credentials"))), \
                principal_arn(backend.identity()["Arn"])
        finally:
            backend.close()
        return
    with served(tmp_path_factory.mktemp("serve") / "serve.log") as world:
        def make(service: str, **keys: Any) -> Any:
            found = keys.get("credentials")
            return boto3.client(service, endpoint_url=world.url, region_name=REGION,
                                aws_access_key_id=(found or DEFAULT_ADMIN).access_key_id,
                                aws_secret_access_key=(found or DEFAULT_ADMIN).secret_access_key)
        yield make, principal_arn(make("sts").get_caller_identity()["Arn"])


def test_a_deny_with_not_principal_spares_whom_it_names(clients: tuple[Any, Any]) -> None:
    from orchestrator.backends.base import Credentials

    make, orchestrate = clients
    kms, iam = make("kms"), make("iam")
    key = kms.create_key(Policy=_policy(orchestrate))["KeyMetadata"]["KeyId"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key  # spared: moto refused it before
    iam.create_user(UserName="tester")
    access = iam.create_access_key(UserName="tester")["AccessKey"]
    tester = make("kms", credentials=Credentials(access["AccessKeyId"], access["SecretAccessKey"]))
    with pytest.raises(ClientError) as denied:
        tester.describe_key(KeyId=key)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "explicit deny" in denied.value.response["Error"]["Message"]  # the gate's words, not moto's
    iam.delete_access_key(UserName="tester", AccessKeyId=access["AccessKeyId"])
    iam.delete_user(UserName="tester")
