"""sts:AssumeRole and role sessions behind the gate (issue 11, item 1).

IAM User Guide, "How AWS enforcement code logic evaluates requests to allow or deny access"
(the role trust policy must allow, even in the same account); "AWS global condition context
keys" (for a role session aws:PrincipalArn is the role's ARN, aws:PrincipalType is
AssumedRole, aws:userid is ROLE-ID:SESSION-NAME, aws:PrincipalTag/* are the role's tags);
"AWS JSON policy elements: Principal", IAM role principals (a statement naming the role ARN
applies to its sessions). STS's AssumeRole denial names no policy type (see errors.py).
"""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, REGION, TESTER_ARN, Scenario, key_policy, statement

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/data/reader"


def _role(scenario: Scenario, *trusted: str, tags: dict[str, str] | None = None) -> None:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sts:AssumeRole"} for who in trusted]}
    scenario.client("orchestrator", "iam").create_role(
        RoleName="reader", Path="/data/", AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])


def _session(scenario: Scenario, who: str = "tester") -> boto3.Session:
    granted = scenario.client(who, "sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="probe")["Credentials"]
    return boto3.Session(aws_access_key_id=granted["AccessKeyId"], aws_secret_access_key=granted["SecretAccessKey"],
                         aws_session_token=granted["SessionToken"], region_name=REGION)


def _assume_error(scenario: Scenario, role_arn: str = ROLE_ARN) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "sts").assume_role(RoleArn=role_arn, RoleSessionName="probe")
    error = excinfo.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_a_trust_policy_naming_the_user_allows_without_an_identity_allow(scenario: Scenario) -> None:
    _role(scenario, TESTER_ARN)  # tester has AmazonDynamoDBFullAccess only: no sts:AssumeRole
    who = _session(scenario).client("sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/probe"


def test_a_trust_policy_naming_the_account_needs_the_identity_allow(scenario: Scenario) -> None:
    _role(scenario, f"arn:aws:iam::{ACCOUNT}:root")
    assert _assume_error(scenario) == (
        "AccessDenied", f"User: {TESTER_ARN} is not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}", 403)
    scenario.client("orchestrator", "iam").put_user_policy(UserName="tester", PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_ARN}]}))
    assert _session(scenario).client("sts").get_caller_identity()["Arn"].endswith(":assumed-role/reader/probe")


def test_an_identity_allow_without_the_trust_policy_is_denied(scenario: Scenario) -> None:
    _role(scenario, f"arn:aws:iam::{ACCOUNT}:user/admin")
    scenario.client("orchestrator", "iam").put_user_policy(UserName="tester", PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    assert _assume_error(scenario)[0] == "AccessDenied"


def test_a_role_that_does_not_exist_is_access_denied(scenario: Scenario) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    assert _assume_error(scenario, missing) == (
        "AccessDenied", f"User: {TESTER_ARN} is not authorized to perform: sts:AssumeRole on resource: {missing}", 403)


def _decrypt_as_session(scenario: Scenario, *extra: dict[str, Any]) -> bool:
    scenario.client("orchestrator", "kms").put_key_policy(KeyId=scenario.key_id, PolicyName="default",
                                                          Policy=key_policy(*extra))
    blob = scenario.client("orchestrator", "kms").encrypt(KeyId=scenario.key_id, Plaintext=b"x")["CiphertextBlob"]
    try:
        _session(scenario).client("kms").decrypt(CiphertextBlob=blob)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        return False
    return True


# (id, key-policy statement for the session; the role has no identity policy, so only statements
# that name the role itself allow on their own)
SESSION_CASES = [
    ("PRN-ROLE the key policy names the role ARN", statement("Role", ROLE_ARN, ["kms:Decrypt"]), True),
    ("aws:PrincipalArn is the role ARN, path included",
     statement("ByArn", "*", ["kms:Decrypt"], {"ArnEquals": {"aws:PrincipalArn": ROLE_ARN}}), True),
    ("aws:PrincipalArn is never the session ARN",
     statement("BySession", "*", ["kms:Decrypt"],
               {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/probe"}}), False),
    ("aws:PrincipalType is AssumedRole",
     statement("ByType", "*", ["kms:Decrypt"], {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}), True),
    ("aws:userid is ROLE-ID:SESSION",
     statement("ByUserId", "*", ["kms:Decrypt"], {"StringLike": {"aws:userid": "AROA*:probe"}}), True),
    ("aws:PrincipalTag carries the role's tags",
     statement("ByTag", "*", ["kms:Decrypt"], {"StringEquals": {"aws:PrincipalTag/team": "data"}}), True),
    ("a statement naming the account delegates: no identity allow, denied",
     statement("Account", f"arn:aws:iam::{ACCOUNT}:root", ["kms:Decrypt"]), False),
]


@pytest.mark.parametrize(("extra", "allowed"), [pytest.param(c[1], c[2], id=c[0]) for c in SESSION_CASES])
def test_a_role_session_is_decided_as_aws_documents(scenario: Scenario, extra: dict[str, Any], allowed: bool) -> None:
    _role(scenario, TESTER_ARN, tags={"team": "data"})
    assert _decrypt_as_session(scenario, extra) is allowed
