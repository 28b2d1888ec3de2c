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
