"""``aws:ResourceAccount`` on every request for an owned resource (issue 20).

IAM User Guide, "AWS global condition context keys", aws:ResourceAccount: "the resource owner's AWS
account ID"; "This key is always included in the request context for most service actions". The
commonest resource-perimeter statement compares it; absent, such a statement denied everything
("actual absent"). aws:ResourceOrgID and aws:ResourceOrgPaths stay absent while no organization is
declared.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, TESTER_ARN, Scenario, key_policy, statement

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.services import Authorization
from orchestrator.authz.engine.request import Principal
from orchestrator.backends.moto_world import MotoWorld

OTHER = "999988887777"


@pytest.mark.parametrize(("owner", "allowed"), [(ACCOUNT, True), (OTHER, False)])
def test_a_key_policy_conditioned_on_the_resource_account(scenario: Scenario, owner: str, allowed: bool) -> None:
    kms = scenario.client("orchestrator", "kms")
    condition = {"StringEquals": {"aws:ResourceAccount": owner}}
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default",
                       Policy=key_policy(statement("TesterEncrypt", TESTER_ARN, ["kms:Encrypt"], condition)))
    tester = scenario.client("tester", "kms")
    try:
        tester.encrypt(KeyId=scenario.key_arn, Plaintext=b"x")
    except ClientError as error:
        assert not allowed and error.response["Error"]["Code"] == "AccessDeniedException"
        return
    assert allowed


def test_the_request_context_names_the_owner_and_no_organization() -> None:
    gate = Gate("us-east-1", MotoWorld())
    principal = Principal(arn=TESTER_ARN, account=ACCOUNT)
    owned = gate.request_context(principal, Authorization("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k",
                                                          resource_account="111122223333"), "us-east-1")
    assert owned["aws:ResourceAccount"] == ("111122223333",)
    assert not {"aws:ResourceOrgID", "aws:ResourceOrgPaths"} & set(owned)
    unowned = gate.request_context(principal, Authorization("kms:ListKeys", "*"), "us-east-1")
    assert "aws:ResourceAccount" not in unowned
