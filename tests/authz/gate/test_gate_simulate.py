"""IAM's policy simulator answered by the engine (moto 5.2 does not implement it).

IAM API Reference, "SimulatePrincipalPolicy" and "SimulateCustomPolicy".
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from gate_scenario import TESTER_ARN, Scenario

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})


def test_simulate_principal_policy_in_process(scenario: Scenario) -> None:
    iam = scenario.client("orchestrator", "iam")
    results = iam.simulate_principal_policy(PolicySourceArn=TESTER_ARN,
                                            ActionNames=["dynamodb:GetItem", "kms:Decrypt"])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"dynamodb:GetItem": "allowed", "kms:Decrypt": "implicitDeny"}
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "AmazonDynamoDBFullAccess"


def test_simulate_custom_policy_with_context(scenario: Scenario) -> None:
    iam = scenario.client("orchestrator", "iam")
    entry = {"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"], "ContextKeyType": "string"}
    allowed = iam.simulate_custom_policy(PolicyInputList=[POLICY], ActionNames=["s3:GetObject"],
                                         ContextEntries=[entry])["EvaluationResults"][0]
    assert allowed["EvalDecision"] == "allowed"
    missing = iam.simulate_custom_policy(PolicyInputList=[POLICY], ActionNames=["s3:GetObject"])
    assert missing["EvaluationResults"][0]["MissingContextValues"] == ["aws:RequestedRegion"]


def test_simulator_needs_permission_and_a_known_user(scenario: Scenario) -> None:
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "iam").simulate_custom_policy(PolicyInputList=[POLICY], ActionNames=["s3:GetObject"])
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as excinfo:
        scenario.client("orchestrator", "iam").simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:user/nobody", ActionNames=["s3:GetObject"])
    assert excinfo.value.response["Error"]["Code"] == "NoSuchEntity"


def test_simulator_allows_get_caller_identity_and_keeps_aws_shape(scenario: Scenario) -> None:
    # STS API Reference, "GetCallerIdentity": no permission is required, a deny does not apply.
    deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]})
    iam = scenario.client("orchestrator", "iam")
    [result] = iam.simulate_custom_policy(PolicyInputList=[deny], ActionNames=["sts:GetCallerIdentity"])["EvaluationResults"]
    assert (result["EvalDecision"], result["MatchedStatements"]) == ("allowed", [])
    assert "OrchestrateReason" not in result          # orchestrate's own field is for `orchestrate simulate` only


def test_simulator_fails_closed_on_a_key_without_its_key_policy(scenario: Scenario) -> None:
    # KMS "Key policies in AWS KMS": an IAM policy alone never allows access to a KMS key.
    allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    iam = scenario.client("orchestrator", "iam")
    [result] = iam.simulate_custom_policy(PolicyInputList=[allow], ActionNames=["kms:Decrypt"], ResourceArns=[key])["EvaluationResults"]
    assert result["EvalDecision"] == "implicitDeny"
