"""``orchestrate simulate``'s extension fields (issue 23, item 5), through ``run``: SCPs and RCPs per
level, a session policy, a VPC endpoint, an anonymous or service-principal caller; the response names
the layer that decided (``OrchestrateLayer``). Pages as in test_engine_organization.py's docstring,
plus SESSION: IAM User Guide, "Session policies"; PRINCIPAL: IAM User Guide, "AWS JSON policy
elements: Principal" (anonymous users, AWS service principals)."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from orchestrator.authz.simulate import run

MEMBER, OUTSIDE = "111111111111", "333333333333"
ALICE = f"arn:aws:iam::{MEMBER}:user/alice"
PARTNER = f"arn:aws:iam::{OUTSIDE}:user/partner"
KEY = f"arn:aws:kms:us-east-1:{MEMBER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OBJECT = "arn:aws:s3:::data/report.csv"
ORG = "o-a1b2c3d4e5"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


def deny(action: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": "*", **extra}


FULL = policy(allow("*"))
KEY_POLICY = policy(allow("kms:*", Principal={"AWS": f"arn:aws:iam::{MEMBER}:root"}))
BUCKET_FOR_PARTNER = policy(allow("s3:GetObject", Principal={"AWS": PARTNER}))


def simulate(document: dict[str, Any]) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(io.StringIO(json.dumps(document) + "\n"), out, err, "in.jsonl")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, [result for line in lines for result in line["EvaluationResults"]], err.getvalue()


def decide(document: dict[str, Any]) -> dict[str, Any]:
    code, results, err = simulate(document)
    assert code == 0, err
    [result] = results
    return result


CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("scp deny at a unit", "SCP-EVAL: a Deny at any level wins",
     {"PolicyInputList": [policy(allow("kms:*"))], "ActionNames": ["kms:ScheduleKeyDeletion"], "ResourceArns": [KEY],
      "ResourcePolicy": KEY_POLICY, "CallerArn": ALICE,
      "ServiceControlPolicies": [[FULL], {"Id": "ou-ab12-11111111", "Policies": [FULL, policy(deny("kms:ScheduleKeyDeletion"))]},
                                 [FULL]]}, "explicitDeny", "scp"),
    ("scp level that does not allow", "SCP-EVAL: every level from the root must allow",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT], "CallerArn": ALICE,
      "ServiceControlPolicies": [[FULL], [policy(allow("kms:*"))], [FULL]]}, "implicitDeny", "scp"),
    ("scp not for the management account", "SCP: 'SCPs don't affect users or roles in the management account'",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT], "CallerArn": ALICE,
      "ManagementAccount": MEMBER, "ServiceControlPolicies": [[policy(deny("s3:*"), allow("*"))]]}, "allowed", "identity-policy"),
    ("rcp full access is always attached", "RCP-EVAL: RCPFullAWSAccess is attached everywhere and cannot be detached",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT], "CallerArn": ALICE,
      "ResourceControlPolicies": [[], []]}, "allowed", "identity-policy"),
    ("rcp keeps an outsider out", "RCP: an RCP applies 'even when accessed by users from Account B'",
     {"PolicyInputList": [policy(allow("s3:GetObject"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT],
      "CallerArn": PARTNER, "ResourceOwner": f"arn:aws:iam::{MEMBER}:root", "ResourcePolicy": BUCKET_FOR_PARTNER,
      "OrganizationId": ORG, "ResourceControlPolicies": [[policy(deny("s3:*", Principal="*", Condition={
          "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}))]]}, "explicitDeny", "rcp"),
    ("rcp lets a member in", "RCP-EVAL / KEYS: aws:PrincipalOrgID of a caller whose account is in the organization",
     {"PolicyInputList": [policy(allow("s3:GetObject"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT],
      "CallerArn": ALICE, "OrganizationId": ORG, "ServiceControlPolicies": [[FULL]],
      "ResourceControlPolicies": [[policy(deny("s3:*", Principal="*", Condition={
          "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}))]]}, "allowed", "identity-policy"),
    ("session policy limits", "SESSION: the session's permissions are the intersection",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:PutObject"], "ResourceArns": [OBJECT],
      "CallerArn": f"arn:aws:sts::{MEMBER}:assumed-role/app/s", "SessionPolicy": policy(allow("s3:GetObject"))},
     "implicitDeny", "session-policy"),
    ("endpoint policy does not allow", "VPCE: the endpoint policy must allow too",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:PutObject"], "ResourceArns": [OBJECT], "CallerArn": ALICE,
      "VpcEndpoint": {"Id": "vpce-1a2b3c4d", "Policy": policy(allow("s3:GetObject", Principal="*"))}},
     "implicitDeny", "vpc-endpoint"),
    ("endpoint default policy and aws:SourceVpce", "VPCE: default endpoint policy; KEYS: aws:SourceVpce",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT], "CallerArn": ALICE,
      "ResourcePolicy": policy(deny("s3:*", Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
      "VpcEndpoint": {"Id": "vpce-1a2b3c4d", "VpcId": "vpc-111"}}, "allowed", "identity-policy"),
    ("anonymous caller", "PRINCIPAL: only a grant to '*' reaches an anonymous request",
     {"ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT], "CallerArn": "anonymous",
      "ResourcePolicy": policy(allow("s3:GetObject", Principal="*"))}, "allowed", "resource-policy"),
    ("anonymous caller without a grant", "PRINCIPAL: an anonymous request has no identity-based policies",
     {"PolicyInputList": [policy(allow("s3:*"))], "ActionNames": ["s3:GetObject"], "ResourceArns": [OBJECT],
      "CallerArn": "anonymous"}, "implicitDeny", "resource-policy"),
    ("service principal named", "PRINCIPAL: AWS service principals are named by Service",
     {"ActionNames": ["s3:PutObject"], "ResourceArns": [OBJECT], "CallerArn": "cloudtrail.amazonaws.com",
      "ResourcePolicy": policy(allow("s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"}))}, "allowed", "resource-policy"),
    ("service principal not named", "PRINCIPAL: a grant to an account does not reach a service",
     {"ActionNames": ["s3:PutObject"], "ResourceArns": [OBJECT], "CallerArn": "cloudtrail.amazonaws.com",
      "ResourcePolicy": policy(allow("s3:PutObject", Principal={"AWS": MEMBER}))}, "implicitDeny", "resource-policy"),
    ("service principal exempted from an RCP", "KMS-RCP: aws:PrincipalIsAWSService is true for a service",
     {"ActionNames": ["s3:PutObject"], "ResourceArns": [OBJECT], "CallerArn": "cloudtrail.amazonaws.com",
      "ResourceOwner": MEMBER, "ResourcePolicy": policy(allow("s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"})),
      "ResourceControlPolicies": [[policy(deny("s3:*", Principal="*", Condition={
          "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "Bool": {"aws:PrincipalIsAWSService": "false"}}))]]},
     "allowed", "resource-policy"),
]


@pytest.mark.parametrize("name,page,document,decision,layer", CASES, ids=[case[0] for case in CASES])
def test_extension_fields(name: str, page: str, document: dict[str, Any], decision: str, layer: str) -> None:
    assert page
    result = decide(document)
    assert (result["EvalDecision"], result["OrchestrateLayer"]) == (decision, layer), result["OrchestrateReason"]


def test_the_denying_scp_is_named_with_its_level() -> None:
    # SCP-EVAL; the verdict names the policy and the level that denied.
    result = decide(CASES[0][2])
    [matched] = result["MatchedStatements"]
    assert (matched["SourcePolicyId"], matched["SourcePolicyType"]) == ("ServiceControlPolicies.2.2", "Service Control Policy")
    assert "StartPosition" in matched
    assert result["OrchestrateReason"].endswith("of SCP ServiceControlPolicies.2.2 attached to unit ou-ab12-11111111")


def test_the_level_that_does_not_allow_is_named() -> None:
    result = decide(CASES[1][2])
    assert "no SCP attached to unit ServiceControlPolicies.2 allows s3:GetObject" in result["OrchestrateReason"]


@pytest.mark.parametrize("field,value,message", [
    ("ServiceControlPolicies", "x", "ServiceControlPolicies must be a non-empty list of levels"),
    ("ServiceControlPolicies", [[1]], "ServiceControlPolicies.1 must be a list of policy documents"),
    ("ServiceControlPolicies", [[policy(allow("*", Principal="*"))]], "ServiceControlPolicies.1.1: malformed policy"),
    ("ResourceControlPolicies", [[policy(deny("s3:*"))]], "ResourceControlPolicies.1.1: malformed policy"),
    ("SessionPolicy", 3, "SessionPolicy must be a policy document as a JSON string"),
    ("VpcEndpoint", {"Vpc": "x"}, "VpcEndpoint must be an object"),
    ("OrganizationId", "org", "OrganizationId must be an organization id"),
    ("ManagementAccount", "home", "ManagementAccount must be a 12-digit account id"),
])
def test_malformed_extension_fields(field: str, value: Any, message: str) -> None:
    code, _, err = simulate({"ActionNames": ["s3:GetObject"], field: value})
    assert code == 2 and err.startswith("in.jsonl:1: ") and message in err, err


def test_readme_example_decides_as_documented() -> None:
    # README, "simulate": the example line and the verdict it documents.
    from pathlib import Path
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme.split("### simulate", 1)[1]
    example = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    result = decide(example)
    assert (result["EvalDecision"], result["OrchestrateLayer"]) == ("explicitDeny", "scp")
    assert result["OrchestrateReason"].endswith("statement #1 of SCP ServiceControlPolicies.2.1 attached to unit ou-ab12-11111111")
    assert "attached to unit ou-ab12-11111111" in section


def test_organizations_decision_detail() -> None:
    # IAM API Reference, "EvaluationResult": OrganizationsDecisionDetail.AllowedByOrganizations says
    # whether the SCPs allow the request; present when the caller's SCPs are given.
    assert decide(CASES[0][2])["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert decide(CASES[1][2])["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert decide(CASES[2][2])["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}   # management account
    assert "OrganizationsDecisionDetail" not in decide(CASES[7][2])
