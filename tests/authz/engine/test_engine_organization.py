"""The organization's guardrails (issue 23, items 2 and 3, engine side): SCPs, RCPs, the VPC endpoint
policy, and the condition keys they set. Each case names the AWS page it follows:

* EVAL: IAM User Guide, "Policy evaluation logic" (explicit deny wins; then RCPs, then SCPs must allow).
* WITHIN: IAM User Guide, "Determining whether a request is allowed or denied within an account".
* CROSS: IAM User Guide, "Cross-account policy evaluation logic".
* SCP: Organizations User Guide, "Service control policies (SCPs)" (incl. "Tasks and entities not
  restricted by SCPs"); SCP-EVAL: "SCP evaluation".
* RCP: Organizations User Guide, "Resource control policies (RCPs)" (incl. "List of AWS services that
  support RCPs", "Resources and entities not restricted by RCPs"); RCP-EVAL: "RCP evaluation".
* KMS-RCP: AWS KMS Developer Guide, "Resource control policies in AWS KMS".
* VPCE: AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies".
* KEYS: IAM User Guide, "AWS global condition context keys" (aws:PrincipalOrgID, aws:PrincipalOrgPaths,
  aws:ResourceOrgID, aws:ResourceOrgPaths, aws:SourceVpce, aws:SourceVpc, aws:SourceIp).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from orchestrator.authz.decide import Grant, PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.engine.organization import (ACCOUNT, FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS, ROOT, UNIT,
                                                    Membership, OrgLevel, VpcEndpoint, with_organization_context)
from orchestrator.authz.engine.request import anonymous_principal, service_principal

ORG = "o-a1b2c3d4e5"
MEMBER = "111111111111"
MANAGEMENT = "222222222222"
OUTSIDE = "333333333333"
ALICE = Principal(f"arn:aws:iam::{MEMBER}:user/alice", MEMBER)
BOSS = Principal(f"arn:aws:iam::{MANAGEMENT}:user/boss", MANAGEMENT)
PARTNER = Principal(f"arn:aws:iam::{OUTSIDE}:user/partner", OUTSIDE)
SLR = Principal(f"arn:aws:sts::{MEMBER}:assumed-role/AWSServiceRoleForSupport/s", MEMBER, "AssumedRole",
                role_arn=f"arn:aws:iam::{MEMBER}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport")
BUCKET = "arn:aws:s3:::data"
OBJECT = "arn:aws:s3:::data/report.csv"
KEY = f"arn:aws:kms:us-east-1:{MEMBER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TABLE = f"arn:aws:dynamodb:us-east-1:{MEMBER}:table/orders"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(effect: str, action: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def scp(name: str, *statements: dict[str, Any]) -> PolicySource:
    return PolicySource("scp", name, doc(*statements))


def rcp(name: str, *statements: dict[str, Any]) -> PolicySource:
    return PolicySource("rcp", name, doc(*({"Principal": "*", **s} for s in statements)))


FULL = PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS)
RCP_FULL = PolicySource("rcp", "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS)
DENY_KMS_DELETE = scp("DenyKeyDeletion", stmt("Deny", "kms:ScheduleKeyDeletion", Sid="NoDeletion"))
ONLY_S3 = scp("OnlyS3", stmt("Allow", "s3:*"))
OUTSIDERS_OUT = rcp("OrgOnly", stmt("Deny", "s3:*", Sid="EnforceOrgIdentities",
                                    Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}))
DENY_ALL_KMS = rcp("NoKms", stmt("Deny", "kms:*"))


def member(account: str = MEMBER, root: tuple[PolicySource, ...] = (FULL,), unit: tuple[PolicySource, ...] = (FULL,),
           own: tuple[PolicySource, ...] = (FULL,), rcps: tuple[PolicySource, ...] = (RCP_FULL,),
           unit_rcps: tuple[PolicySource, ...] = (RCP_FULL,), management: bool = False) -> Membership:
    """Root r-ab12 > unit prod (ou-ab12-11111111) > the account, SCPs and RCPs at each level."""
    return Membership(ORG, (OrgLevel(ROOT, "root", "r-ab12", root, (RCP_FULL,)),
                            OrgLevel(UNIT, "prod", "ou-ab12-11111111", unit, unit_rcps),
                            OrgLevel(ACCOUNT, "dev" if account == MEMBER else "home", account, own, rcps)),
                      management=management)


def identity(*statements: dict[str, Any]) -> tuple[PolicySource, ...]:
    return (PolicySource("identity", "user/inline/app", doc(*statements)),)


def bucket_policy(*statements: dict[str, Any]) -> PolicySource:
    return PolicySource("resource", "bucket policy data", doc(*statements))


ALL_S3 = identity(stmt("Allow", "s3:*"))
ALL_KMS = identity(stmt("Allow", "kms:*"))
KEY_POLICY_ORG = PolicySource("key", "key policy", doc(
    stmt("Allow", "kms:*", Principal={"AWS": f"arn:aws:iam::{MEMBER}:root"}),
    stmt("Allow", "kms:Decrypt", Principal="*", Sid="OrgDecrypt", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})))


@dataclass(frozen=True)
class Case:
    name: str
    page: str
    principal: Principal
    action: str
    resource: str
    inputs: PolicyInputs
    decision: str
    layer: str
    reason: str = ""
    context: dict[str, list[str]] = field(default_factory=dict)


CASES = [
    # --- SCPs -------------------------------------------------------------------------------------------
    Case("scp every level allows", "SCP-EVAL: an SCP must allow at every level from the root to the account",
         ALICE, "s3:GetObject", OBJECT, PolicyInputs(identity=ALL_S3, principal_org=member()), "allowed", "identity-policy"),
    Case("scp a unit that does not allow", "SCP-EVAL: 'If a permission is blocked at any level above the account'",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG,
                                                 principal_org=member(unit=(ONLY_S3,))),
         "implicitDeny", "scp", "no SCP attached to unit prod allows kms:Decrypt"),
    Case("scp a level with none attached", "SCP-EVAL: every root, OU and account must have at least one SCP that allows",
         ALICE, "s3:GetObject", OBJECT, PolicyInputs(identity=ALL_S3, principal_org=member(own=())),
         "implicitDeny", "scp", "no SCP is attached to account dev"),
    Case("scp one of a level's set allows", "SCP-EVAL: the policies at one level are a set: one that allows is enough",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG,
                                                 principal_org=member(unit=(ONLY_S3, FULL))), "allowed", "key-policy"),
    Case("scp explicit deny at the account", "SCP-EVAL: a Deny at any level wins",
         ALICE, "kms:ScheduleKeyDeletion", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG,
                                                             principal_org=member(own=(FULL, DENY_KMS_DELETE))),
         "explicitDeny", "scp", 'statement "NoDeletion" of SCP DenyKeyDeletion attached to account dev'),
    Case("scp explicit deny at the root", "SCP-EVAL: a Deny at any level wins; EVAL: explicit deny first",
         ALICE, "kms:ScheduleKeyDeletion", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG,
                                                             principal_org=member(root=(FULL, DENY_KMS_DELETE))),
         "explicitDeny", "scp", "attached to the root"),
    Case("scp never grants", "SCP: 'SCPs alone are not sufficient for allowing access'",
         ALICE, "s3:GetObject", OBJECT, PolicyInputs(principal_org=member()), "implicitDeny", "identity-policy"),
    Case("scp caps a resource policy's own grant", "WITHIN / SCP: SCPs limit the member account's principals even when"
         " a resource-based policy grants", ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal={"AWS": ALICE.arn})),
                      resource_account=MEMBER, principal_org=member(unit=(scp("OnlyKms", stmt("Allow", "kms:*")),))),
         "implicitDeny", "scp", "unit prod"),
    Case("scp not for the management account", "SCP: 'SCPs don't affect users or roles in the management account'",
         BOSS, "kms:ScheduleKeyDeletion", f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/k",
         PolicyInputs(identity=ALL_KMS, resource_policy=PolicySource("key", "key policy", doc(
             stmt("Allow", "kms:*", Principal={"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}))),
             principal_org=member(MANAGEMENT, root=(FULL, DENY_KMS_DELETE), management=True)), "allowed", "identity-policy"),
    Case("scp not for a service-linked role", "SCP: 'SCPs don't affect service-linked roles'",
         SLR, "s3:GetObject", OBJECT, PolicyInputs(identity=ALL_S3, principal_org=member(root=(ONLY_S3, DENY_KMS_DELETE),
                                                                                        unit=())),
         "allowed", "identity-policy"),
    Case("scp of the resource's organization does not cap an outside caller",
         "SCP: SCPs apply to the principals of member accounts; CROSS: both sides must allow",
         PARTNER, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:GetObject")), resource_account=MEMBER,
                      resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal={"AWS": PARTNER.arn}))),
         "allowed", "resource-policy"),
    Case("scp of the caller caps a cross-account request", "CROSS / SCP: the caller's SCPs apply in another account",
         ALICE, "s3:GetObject", "arn:aws:s3:::partner-data/x",
         PolicyInputs(identity=ALL_S3, resource_account=OUTSIDE, principal_org=member(unit=(scp("NoS3", stmt("Allow", "kms:*")),)),
                      resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal={"AWS": ALICE.arn}))),
         "implicitDeny", "scp", "unit prod"),
    Case("scp not for an anonymous caller", "SCP: SCPs apply to principals of member accounts; an anonymous request has none",
         anonymous_principal(), "s3:GetObject", OBJECT,
         PolicyInputs(resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal="*")), resource_account=MEMBER,
                      principal_org=member(unit=())), "allowed", "resource-policy"),
    # --- RCPs -------------------------------------------------------------------------------------------
    Case("rcp denies an outsider a bucket policy grants", "RCP: 'That RCP applies to the S3 bucket in Account A even when"
         " accessed by users from Account B'; RCP-EVAL: any RCP on the path can deny", PARTNER, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:GetObject")), resource_account=MEMBER,
                      resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal={"AWS": PARTNER.arn})),
                      resource_org=member(unit_rcps=(RCP_FULL, OUTSIDERS_OUT))),
         "explicitDeny", "rcp", 'statement "EnforceOrgIdentities" of RCP OrgOnly attached to unit prod'),
    Case("rcp lets an organization member through", "RCP-EVAL / KEYS: aws:PrincipalOrgID is the caller's organization",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=ALL_S3, resource_account=MEMBER, principal_org=member(),
                      resource_org=member(unit_rcps=(RCP_FULL, OUTSIDERS_OUT))), "allowed", "identity-policy"),
    Case("rcp caps an anonymous request", "RCP: RCPs restrict every caller of a member account's resource",
         anonymous_principal(), "s3:GetObject", OBJECT,
         PolicyInputs(resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal="*")), resource_account=MEMBER,
                      resource_org=member(unit_rcps=(RCP_FULL, OUTSIDERS_OUT))), "explicitDeny", "rcp"),
    Case("rcp not for the management account's resources", "RCP: 'RCPs don't affect resources in the management account'",
         PARTNER, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:GetObject")), resource_account=MANAGEMENT,
                      resource_policy=bucket_policy(stmt("Allow", "s3:GetObject", Principal={"AWS": PARTNER.arn})),
                      resource_org=member(MANAGEMENT, unit_rcps=(RCP_FULL, OUTSIDERS_OUT), management=True)),
         "allowed", "resource-policy"),
    Case("rcp not for an unsupported service", "RCP: 'List of AWS services that support RCPs' (no DynamoDB)",
         ALICE, "dynamodb:GetItem", TABLE,
         PolicyInputs(identity=identity(stmt("Allow", "dynamodb:*")), resource_account=MEMBER,
                      resource_org=member(rcps=(rcp("NoDynamo", stmt("Deny", "dynamodb:*")),))), "allowed", "identity-policy"),
    Case("rcp not for a service-linked role", "RCP: 'RCPs do not impact the effective permissions of any service-linked role'",
         SLR, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                               resource_org=member(rcps=(RCP_FULL, DENY_ALL_KMS))), "allowed", "identity-policy"),
    Case("rcp never grants", "RCP: 'No permissions are granted by an RCP'",
         ALICE, "s3:GetObject", OBJECT, PolicyInputs(resource_account=MEMBER, resource_org=member()),
         "implicitDeny", "identity-policy"),
    Case("rcp a level that does not allow", "RCP-EVAL: every level from the root must allow (RCPFullAWSAccess does)",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                                 resource_org=member(unit_rcps=())),
         "implicitDeny", "rcp", "no RCP is attached to unit prod"),
    Case("rcp deny at the account level", "RCP-EVAL: any RCP from the root to the account, the account included, can deny",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                                 resource_org=member(rcps=(RCP_FULL, DENY_ALL_KMS))),
         "explicitDeny", "rcp", "attached to account dev"),
    Case("rcp before scp", "EVAL: resource control policies are evaluated before service control policies",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                                 principal_org=member(unit=(ONLY_S3,)),
                                                 resource_org=member(unit_rcps=())), "implicitDeny", "rcp"),
    Case("rcp not for kms:RetireGrant", "RCP: 'RCPs do not impact the kms:RetireGrant permission'",
         ALICE, "kms:RetireGrant", KEY, PolicyInputs(resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                                     grants=(Grant(PARTNER.arn, ("Decrypt",), KEY, retiring_principal=ALICE.arn),),
                                                     resource_org=member(rcps=(RCP_FULL, DENY_ALL_KMS))), "allowed", "grant"),
    Case("rcp restricts an AWS service principal", "KMS-RCP: the example RCP exempts services with"
         " aws:PrincipalIsAWSService, so RCPs reach them", service_principal("cloudtrail.amazonaws.com"), "kms:Decrypt", KEY,
         PolicyInputs(resource_account=MEMBER, resource_policy=PolicySource("key", "key policy", doc(
             stmt("Allow", "kms:Decrypt", Principal={"Service": "cloudtrail.amazonaws.com"}))),
             resource_org=member(rcps=(RCP_FULL, DENY_ALL_KMS))), "explicitDeny", "rcp"),
    Case("rcp exemption of AWS service principals", "KMS-RCP / KEYS: aws:PrincipalIsAWSService is true for a service,"
         " false for an IAM principal", service_principal("cloudtrail.amazonaws.com"), "kms:Decrypt", KEY,
         PolicyInputs(resource_account=MEMBER, resource_policy=PolicySource("key", "key policy", doc(
             stmt("Allow", "kms:Decrypt", Principal={"Service": "cloudtrail.amazonaws.com"}))),
             resource_org=member(rcps=(RCP_FULL, rcp("Perimeter", stmt("Deny", "kms:*", Condition={
                 "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "Bool": {"aws:PrincipalIsAWSService": "false"}}))))),
         "allowed", "resource-policy"),
    Case("rcp perimeter stops an outsider", "KMS-RCP: the example RCP denies principals outside the organization",
         PARTNER, "kms:Decrypt", KEY,
         PolicyInputs(identity=ALL_KMS, resource_account=MEMBER, resource_policy=PolicySource("key", "key policy", doc(
             stmt("Allow", "kms:Decrypt", Principal={"AWS": PARTNER.arn}))),
             resource_org=member(rcps=(RCP_FULL, rcp("Perimeter", stmt("Deny", "kms:*", Condition={
                 "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "Bool": {"aws:PrincipalIsAWSService": "false"}}))))),
         "explicitDeny", "rcp"),
    Case("scp not for an AWS service principal", "SCP: SCPs restrict the principals of member accounts; a service is none",
         service_principal("cloudtrail.amazonaws.com"), "s3:PutObject", OBJECT,
         PolicyInputs(resource_account=MEMBER, principal_org=member(unit=()),
                      resource_policy=bucket_policy(stmt("Allow", "s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"}))),
         "allowed", "resource-policy"),
    # --- the condition keys -----------------------------------------------------------------------------
    Case("PrincipalOrgID in a key policy", "KEYS: aws:PrincipalOrgID is the caller's organization id",
         ALICE, "kms:Decrypt", KEY, PolicyInputs(resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                                 principal_org=member()), "allowed", "key-policy"),
    Case("PrincipalOrgID absent outside any organization", "KEYS: the key is present only for a principal in an organization",
         PARTNER, "kms:Decrypt", KEY, PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER),
         "implicitDeny", "key-policy"),
    Case("PrincipalOrgPaths", "KEYS: aws:PrincipalOrgPaths is o-ID/r-ID/ou-ID/.../",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:GetObject", Condition={"ForAnyValue:StringLike": {
             "aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-11111111/*"}})), principal_org=member()), "allowed", "identity-policy"),
    Case("ResourceOrgID and ResourceOrgPaths", "KEYS: aws:ResourceOrgID / aws:ResourceOrgPaths of the resource's account",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:GetObject", Condition={
             "StringEquals": {"aws:ResourceOrgID": ORG},
             "ForAnyValue:StringEquals": {"aws:ResourceOrgPaths": f"{ORG}/r-ab12/ou-ab12-11111111/"}})),
             resource_account=MEMBER, resource_org=member()), "allowed", "identity-policy"),
    # --- the VPC endpoint policy ------------------------------------------------------------------------
    Case("endpoint default policy", "VPCE: 'The default endpoint policy grants full access to the endpoint'",
         ALICE, "s3:GetObject", OBJECT, PolicyInputs(identity=ALL_S3, vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d", "vpc-111")),
         "allowed", "identity-policy"),
    Case("endpoint policy that does not allow", "VPCE: the endpoint policy must allow too; it does not replace the others",
         ALICE, "s3:PutObject", OBJECT,
         PolicyInputs(identity=ALL_S3, vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d", "vpc-111", PolicySource(
             "vpc-endpoint", "vpce-1a2b3c4d", doc(stmt("Allow", "s3:GetObject", Principal="*"))))),
         "implicitDeny", "vpc-endpoint", "the policy of VPC endpoint vpce-1a2b3c4d does not allow s3:PutObject"),
    Case("endpoint policy explicit deny", "VPCE / EVAL: an explicit deny in the endpoint policy wins",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=ALL_S3, vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d", "vpc-111", PolicySource(
             "vpc-endpoint", "vpce-1a2b3c4d", doc(stmt("Allow", "*", Principal="*"),
                                                  stmt("Deny", "s3:GetObject", Principal="*", Sid="NoReads"))))),
         "explicitDeny", "vpc-endpoint", 'statement "NoReads" of VPC endpoint policy vpce-1a2b3c4d'),
    Case("endpoint sets SourceVpce", "KEYS: aws:SourceVpce is the endpoint's id; VPCE: bucket policies name endpoints",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=ALL_S3, resource_account=MEMBER, vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d", "vpc-111"),
                      resource_policy=bucket_policy(stmt("Deny", "s3:*", Principal="*", Condition={
                          "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceVpc": "vpc-111"}}))),
         "allowed", "identity-policy"),
    Case("endpoint drops SourceIp", "KEYS: through a VPC endpoint aws:SourceIp is not available",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
                      vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d", "vpc-111")),
         "implicitDeny", "identity-policy", context={"aws:SourceIp": ["203.0.113.7"]}),
    Case("without an endpoint SourceIp stays", "KEYS: aws:SourceIp is the requester's address",
         ALICE, "s3:GetObject", OBJECT,
         PolicyInputs(identity=identity(stmt("Allow", "s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))),
         "allowed", "identity-policy", context={"aws:SourceIp": ["203.0.113.7"]}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_guardrails(case: Case) -> None:
    assert case.page
    decision = evaluate(Request(case.principal, case.action, case.resource, case.context), case.inputs)
    assert (decision.decision, decision.layer) == (case.decision, case.layer), decision.reason
    assert case.reason in decision.reason


def test_denying_statements_are_matched() -> None:
    # SCP-EVAL: the verdict names the statement and policy that denied.
    decision = evaluate(Request(ALICE, "kms:ScheduleKeyDeletion", KEY),
                        PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG,
                                     principal_org=member(own=(FULL, DENY_KMS_DELETE))))
    [ref] = decision.matched
    assert (ref.policy_kind, ref.policy_name, ref.sid, ref.effect) == ("scp", "DenyKeyDeletion", "NoDeletion", "Deny")


def test_org_paths_as_aws_writes_them() -> None:
    # KEYS: "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"; the account is not part of it.
    nested = Membership(ORG, (OrgLevel(ROOT, "root", "r-ab12"), OrgLevel(UNIT, "a", "ou-ab12-11111111"),
                              OrgLevel(UNIT, "b", "ou-ab12-22222222"), OrgLevel(ACCOUNT, "dev", MEMBER)))
    assert nested.path() == f"{ORG}/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"
    request = with_organization_context(Request(ALICE, "s3:GetObject", OBJECT),
                                        PolicyInputs(principal_org=nested, resource_org=member()))
    assert request.context["aws:PrincipalOrgID"] == [ORG]
    assert request.context["aws:ResourceOrgPaths"] == [f"{ORG}/r-ab12/ou-ab12-11111111/"]


def test_given_context_keys_win() -> None:
    # simulate's ContextEntries may set a key the organization would set: the given value is kept.
    request = with_organization_context(Request(ALICE, "s3:GetObject", OBJECT, {"aws:principalorgid": ["o-other"]}),
                                        PolicyInputs(principal_org=member()))
    assert request.context["aws:principalorgid"] == ["o-other"] and "aws:PrincipalOrgID" not in request.context


def test_anonymous_has_no_principal_org_keys() -> None:
    request = with_organization_context(Request(anonymous_principal(), "s3:GetObject", OBJECT),
                                        PolicyInputs(principal_org=member(), resource_org=member()))
    assert "aws:PrincipalOrgID" not in request.context and request.context["aws:ResourceOrgID"] == [ORG]


def test_no_organization_is_todays_engine() -> None:
    # Default inputs: no guardrail is looked at, the request is not rebuilt.
    inputs = PolicyInputs(identity=ALL_S3)
    request = Request(ALICE, "s3:GetObject", OBJECT)
    assert with_organization_context(request, inputs) is request
    assert evaluate(request, inputs) == evaluate(request, replace(inputs, principal_org=None))


def test_side_decisions_name_each_guardrail() -> None:
    # EVAL: each policy type's contribution; only the guardrails that apply are named.
    from orchestrator.authz.decide import side_decisions
    sides = side_decisions(Request(ALICE, "kms:Decrypt", KEY),
                           PolicyInputs(identity=ALL_KMS, resource_policy=KEY_POLICY_ORG, resource_account=MEMBER,
                                        principal_org=member(unit=(ONLY_S3,)), resource_org=member(rcps=(RCP_FULL, DENY_ALL_KMS)),
                                        vpc_endpoint=VpcEndpoint("vpce-1a2b3c4d")))
    assert (sides["scp"], sides["rcp"], sides["vpc-endpoint"]) == ("implicitDeny", "explicitDeny", "allowed")
    assert "scp" not in side_decisions(Request(BOSS, "s3:GetObject", OBJECT),
                                       PolicyInputs(principal_org=member(MANAGEMENT, management=True)))


def test_a_remembered_decision_is_asked_with_the_organization() -> None:
    # The memo's question (engine/memo.py) includes the guardrails: the same request asked with and
    # without an SCP that denies is decided twice.
    from orchestrator.authz.decide import service_engine
    from orchestrator.authz.engine.memo import caller_question, step_question
    import json
    engine = service_engine()
    request = Request(ALICE, "s3:GetObject", OBJECT)
    # The memo's callers (the gate, the access matrix) hold documents as text: hashable.
    identity = (PolicySource("identity", "user/inline/app", json.dumps(doc(stmt("Allow", "s3:*")))),)
    free = PolicyInputs(identity=identity)
    only_kms = PolicySource("scp", "OnlyKms", json.dumps(doc(stmt("Allow", "kms:*"))))
    capped = replace(free, principal_org=member(unit=(only_kms,)))
    asked = [(caller_question(ALICE, identity, ()), step_question(request.action, request.resource, inputs))
             for inputs in (free, capped)]
    assert asked[0] != asked[1]
    assert engine.evaluate(request, free, asked[0]).allowed
    assert engine.evaluate(request, capped, asked[1]).layer == "scp"
