"""A table of ``orchestrate simulate`` lines for the guardrails and the unusual callers: SCPs, RCPs,
anonymous callers, VPC endpoint policies, session policies and AWS service principals, each case
naming the AWS documentation page whose rule it checks (title and address), run in-process through
``simulate.run`` as test_engine_simulate_organization.py does (its helpers are reused).

Written for orchestrate, with its own accounts, names and policies: the rules are AWS's (the pages
cited), the cases are ours. test_engine_organization.py and test_engine_simulate_organization.py
cover the basic shape of each layer; this table adds the variations of each rule (every level of an
organization, allow-lists, NotAction and NotResource, wildcard-only actions, the condition keys each
layer sets or removes, the principals each layer reaches) and the refusals of malformed input.

Where a simulator might decide otherwise, the page decides: a resource-based policy naming the
*session* ARN is not limited by the session policy (SESSION), an endpoint policy statement must have
a Principal (VPCE), NotPrincipal with Allow is not supported (NOT_PRINCIPAL), and a policy needs at
least one statement (GRAMMAR): the last three are refused as malformed input (exit 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.authz.engine.test_engine_simulate_organization import allow, decide, deny, policy, simulate

# --- the pages ------------------------------------------------------------------------------------
_ORGS = "https://docs.aws.amazon.com/organizations/latest/userguide/"
_IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
SCP_EVAL = ('Organizations User Guide, "SCP evaluation"', _ORGS + "orgs_manage_policies_scps_evaluation.html")
SCPS = ('Organizations User Guide, "Service control policies (SCPs)"', _ORGS + "orgs_manage_policies_scps.html")
SCP_SYNTAX = ('Organizations User Guide, "SCP syntax"', _ORGS + "orgs_manage_policies_scps_syntax.html")
SCP_EXAMPLES = ('Organizations User Guide, "General examples" (deny access based on the requested Region)',
                _ORGS + "orgs_manage_policies_scps_examples_general.html")
RCPS = ('Organizations User Guide, "Resource control policies (RCPs)"', _ORGS + "orgs_manage_policies_rcps.html")
RCP_EVAL = ('Organizations User Guide, "RCP evaluation"', _ORGS + "orgs_manage_policies_rcps_evaluation.html")
EVAL = ('IAM User Guide, "Policy evaluation logic"', _IAM + "reference_policies_evaluation-logic.html")
PRINCIPAL = ('IAM User Guide, "AWS JSON policy elements: Principal"', _IAM + "reference_policies_elements_principal.html")
NOT_PRINCIPAL = ('IAM User Guide, "AWS JSON policy elements: NotPrincipal"',
                 _IAM + "reference_policies_elements_notprincipal.html")
NOT_ACTION = ('IAM User Guide, "AWS JSON policy elements: NotAction"', _IAM + "reference_policies_elements_notaction.html")
GRAMMAR = ('IAM User Guide, "Grammar of the IAM JSON policy language"', _IAM + "reference_policies_grammar.html")
KEYS = ('IAM User Guide, "AWS global condition context keys"', _IAM + "reference_policies_condition-keys.html")
SESSION = ('IAM User Guide, "Policies and permissions in AWS Identity and Access Management", "Session policies"',
           _IAM + "access_policies.html#policies_session")
SERVICE_ROLE = ('IAM User Guide, "Create a role to delegate permissions to an AWS service"',
                _IAM + "id_roles_create_for-service.html")
S3_ACTIONS = ('Service Authorization Reference, "Actions, resources, and condition keys for Amazon S3"',
              "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html")
S3_BUCKET_POLICIES = ('Amazon S3 User Guide, "Examples of Amazon S3 bucket policies"',
                      "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html")
GET_CALLER_IDENTITY = ('AWS STS API Reference, "GetCallerIdentity"',
                       "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html")
VPCE = ('AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"',
        "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html")

# --- our organization -----------------------------------------------------------------------------
MEMBER, MANAGEMENT, PARTNER_ACCOUNT = "246813579024", "135792468013", "864297531086"
ORG = "o-k3m5p7q9r1"
CAROL = f"arn:aws:iam::{MEMBER}:user/carol"
TREASURER = f"arn:aws:iam::{MANAGEMENT}:user/treasurer"
AUDITOR = f"arn:aws:iam::{PARTNER_ACCOUNT}:user/auditor"
WRITER_ROLE = f"arn:aws:iam::{MEMBER}:role/ledger-writer"
WRITER = f"arn:aws:sts::{MEMBER}:assumed-role/ledger-writer/batch-7"
SLR_SESSION = f"arn:aws:sts::{MEMBER}:assumed-role/AWSServiceRoleForElasticLoadBalancing/elb-1"
LEDGER = "arn:aws:s3:::ledger-archive"
ENTRY = "arn:aws:s3:::ledger-archive/2026/q1.csv"
OTHER_ENTRY = "arn:aws:s3:::scratch-space/tmp.bin"
QUEUE = f"arn:aws:sqs:eu-west-1:{MEMBER}:settlements"
TABLE = f"arn:aws:dynamodb:eu-west-1:{MEMBER}:table/balances"
TOPIC = f"arn:aws:sns:eu-west-1:{MEMBER}:ledger-events"
INSTANCE = f"arn:aws:ec2:ap-south-1:{MEMBER}:instance/*"
ENDPOINT, OTHER_ENDPOINT = "vpce-0f1e2d3c4b5a69788", "vpce-0aaaabbbbccccdddd"
VPC = "vpc-0123abcd4567ef890"

EVERYTHING = policy(allow("*"))
ROOT, FINANCE, LEAF = "r-k3m5", "ou-k3m5-fin00001", "ou-k3m5-pay00002"


def org(*levels: list[str]) -> list[Any]:
    """SCPs or RCPs for the root, the finance unit, the payments unit and the account, as simulate's
    field takes them (``{"Id", "Policies"}`` for the root and units, a bare list for the account)."""
    ids = (ROOT, FINANCE, LEAF)
    return [{"Id": ids[index], "Policies": texts} if index < len(ids) and index < len(levels) - 1 else texts
            for index, texts in enumerate(levels)]


def full_path(*, root: list[str] | None = None, finance: list[str] | None = None, payments: list[str] | None = None,
              account: list[str] | None = None) -> list[Any]:
    """Four levels, each with FullAWSAccess unless given."""
    return org(*(level if level is not None else [EVERYTHING] for level in (root, finance, payments, account)))


def rcp(*statements: dict[str, Any]) -> str:
    """An RCP: its statements name every principal (Organizations User Guide, "RCP syntax")."""
    return policy(*({"Principal": "*", **statement} for statement in statements))


def ask(caller: str, action: str, resource: str, *identity: str, **fields: Any) -> dict[str, Any]:
    """One simulate input line."""
    line: dict[str, Any] = {"ActionNames": [action], "ResourceArns": [resource], "CallerArn": caller}
    if identity:
        line["PolicyInputList"] = list(identity)
    line.update(fields)
    return line


def context(**values: str) -> list[dict[str, Any]]:
    """ContextEntries from keyword arguments (``aws_SourceIp`` -> ``aws:SourceIp``)."""
    return [{"ContextKeyName": name.replace("_", ":", 1), "ContextKeyValues": [value], "ContextKeyType": "string"}
            for name, value in values.items()]


def endpoint(*statements: dict[str, Any]) -> dict[str, Any]:
    """The request goes through our endpoint, whose policy's statements name every principal."""
    return {"Id": ENDPOINT, "VpcId": VPC, "Policy": policy(*({"Principal": "*", **s} for s in statements))}


@dataclass(frozen=True)
class Case:
    area: str
    name: str
    page: tuple[str, str]
    line: dict[str, Any]
    decision: str
    layer: str
    #: OrganizationsDecisionDetail.AllowedByOrganizations, when the line gives SCPs.
    organizations: bool | None = None

    @property
    def id(self) -> str:
        return f"{self.area}: {self.name}"


READ = policy(allow("s3:GetObject"))
ALL_S3 = policy(allow("s3:*"))
LIST_BUCKETS = policy(allow("s3:ListAllMyBuckets"))
NO_S3_READS = policy(deny("s3:GetObject"))
# A data perimeter SCP: deny what is outside the organization's resources, AWS managed policies aside.
PERIMETER = policy(allow("*"), {"Effect": "Deny", "Action": "*", "NotResource": ["arn:aws:iam::aws:policy/*"],
                                "Condition": {"StringNotEqualsIfExists": {"aws:ResourceOrgID": ORG}}})
REGION_LOCK = policy(allow("*"), {"Effect": "Deny", "NotAction": ["iam:*", "organizations:*", "sts:*"],
                                  "Resource": "*",
                                  "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}})
OUTSIDERS_OUT = rcp({"Effect": "Deny", "Action": ["s3:*", "sqs:*"], "Resource": "*",
                     "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}})
FOR_AUDITOR = policy(allow("s3:GetObject", Principal={"AWS": AUDITOR}, Resource=f"{LEDGER}/*"))
PUBLIC_READ = policy(allow("s3:GetObject", Principal="*", Resource=f"{LEDGER}/*"))

SCP_CASES = [
    Case("scp", "four levels of FullAWSAccess leave the identity policy's grant", SCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path()), "allowed", "identity-policy", True),
    Case("scp", "a unit whose only SCP denies something else allows nothing", SCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(payments=[policy(deny("ec2:*"))])),
         "implicitDeny", "scp", False),
    Case("scp", "the account level with no SCP attached", SCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(account=[])), "implicitDeny", "scp", False),
    Case("scp", "a deny at the root reaches the account", SCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(root=[EVERYTHING, NO_S3_READS])),
         "explicitDeny", "scp", False),
    Case("scp", "a deny beside an allow in the same SCP", SCP_SYNTAX,
         ask(CAROL, "s3:GetObject", ENTRY, READ,
             ServiceControlPolicies=full_path(finance=[policy(allow("*"), deny("s3:GetObject"))])),
         "explicitDeny", "scp", False),
    Case("scp", "an allow-list of services at a unit", SCP_EVAL,
         ask(CAROL, "sqs:SendMessage", QUEUE, policy(allow("sqs:*")),
             ServiceControlPolicies=full_path(finance=[policy(allow(["s3:*", "sqs:*"]))])), "allowed", "identity-policy", True),
    Case("scp", "an action left off the allow-list", SCP_EVAL,
         ask(CAROL, "dynamodb:GetItem", TABLE, policy(allow("dynamodb:*")),
             ServiceControlPolicies=full_path(finance=[policy(allow(["s3:*", "sqs:*"]))])), "implicitDeny", "scp", False),
    Case("scp", "Allow with NotAction lets every other service through", SCP_SYNTAX,
         ask(CAROL, "s3:GetObject", ENTRY, READ,
             ServiceControlPolicies=full_path(finance=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])),
         "allowed", "identity-policy", True),
    Case("scp", "Allow with NotAction does not allow the excluded service", NOT_ACTION,
         ask(CAROL, "iam:CreateUser", f"arn:aws:iam::{MEMBER}:user/mallory", policy(allow("iam:*")),
             ServiceControlPolicies=full_path(finance=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])),
         "implicitDeny", "scp", False),
    Case("scp", "a Region lock denies outside its Regions", SCP_EXAMPLES,
         ask(CAROL, "ec2:RunInstances", INSTANCE, policy(allow("ec2:*")), ServiceControlPolicies=full_path(root=[REGION_LOCK]),
             ContextEntries=context(aws_RequestedRegion="ap-south-1")), "explicitDeny", "scp", False),
    Case("scp", "a Region lock exempts the NotAction services", SCP_EXAMPLES,
         ask(CAROL, "iam:CreateRole", f"arn:aws:iam::{MEMBER}:role/ops", policy(allow("iam:*")),
             ServiceControlPolicies=full_path(root=[REGION_LOCK]), ContextEntries=context(aws_RequestedRegion="us-east-1")),
         "allowed", "identity-policy", True),
    Case("scp", "a Region lock lets an allowed Region through", SCP_EXAMPLES,
         ask(CAROL, "ec2:RunInstances", INSTANCE, policy(allow("ec2:*")), ServiceControlPolicies=full_path(root=[REGION_LOCK]),
             ContextEntries=context(aws_RequestedRegion="eu-central-1")), "allowed", "identity-policy", True),
    Case("scp", "wildcard-only action under FullAWSAccess", S3_ACTIONS,
         ask(CAROL, "s3:ListAllMyBuckets", "*", LIST_BUCKETS, ServiceControlPolicies=full_path()),
         "allowed", "identity-policy", True),
    Case("scp", "wildcard-only action against an SCP allowing one bucket", S3_ACTIONS,
         ask(CAROL, "s3:ListAllMyBuckets", "*", LIST_BUCKETS,
             ServiceControlPolicies=full_path(payments=[policy(allow("s3:ListAllMyBuckets", Resource=LEDGER))])),
         "implicitDeny", "scp", False),
    Case("scp", "wildcard-only action denied on Resource *", S3_ACTIONS,
         ask(CAROL, "s3:ListAllMyBuckets", "*", LIST_BUCKETS,
             ServiceControlPolicies=full_path(payments=[EVERYTHING, policy(deny("s3:ListAllMyBuckets"))])),
         "explicitDeny", "scp", False),
    Case("scp", "wildcard-only action untouched by a deny naming one bucket", S3_ACTIONS,
         ask(CAROL, "s3:ListAllMyBuckets", "*", LIST_BUCKETS,
             ServiceControlPolicies=full_path(payments=[EVERYTHING, policy(deny("s3:ListAllMyBuckets", Resource=LEDGER))])),
         "allowed", "identity-policy", True),
    Case("scp", "perimeter: a resource of our organization", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(root=[PERIMETER]),
             ContextEntries=context(aws_ResourceOrgID=ORG)), "allowed", "identity-policy", True),
    Case("scp", "perimeter: a resource of another organization", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(root=[PERIMETER]),
             ContextEntries=context(aws_ResourceOrgID="o-zz9y8x7w6v")), "explicitDeny", "scp", False),
    Case("scp", "perimeter: ...IfExists denies when aws:ResourceOrgID is absent", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(root=[PERIMETER])),
         "explicitDeny", "scp", False),
    Case("scp", "perimeter: NotResource exempts AWS managed policies", SCP_SYNTAX,
         ask(CAROL, "iam:GetPolicyVersion", "arn:aws:iam::aws:policy/SecurityAudit", policy(allow("iam:Get*")),
             ServiceControlPolicies=full_path(root=[PERIMETER]), ContextEntries=context(aws_ResourceOrgID="o-zz9y8x7w6v")),
         "allowed", "identity-policy", True),
    Case("scp", "the management account's principals are not restricted", SCPS,
         ask(TREASURER, "s3:GetObject", ENTRY, READ, ManagementAccount=MANAGEMENT,
             ServiceControlPolicies=full_path(root=[NO_S3_READS], finance=[])), "allowed", "identity-policy", True),
    Case("scp", "a member account's root user is restricted", SCPS,
         ask(f"arn:aws:iam::{MEMBER}:root", "s3:GetObject", ENTRY,
             ServiceControlPolicies=full_path(root=[EVERYTHING, NO_S3_READS])),
         "explicitDeny", "scp", False),
    Case("scp", "a service-linked role's session is not restricted", SCPS,
         ask(SLR_SESSION, "s3:GetObject", ENTRY, READ, ServiceControlPolicies=full_path(root=[NO_S3_READS], finance=[])),
         "allowed", "identity-policy", True),
]

RCP_CASES = [
    Case("rcp", "RCPFullAWSAccess at every level leaves the identity policy's grant", RCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER, ResourceControlPolicies=org([], [], [])),
         "allowed", "identity-policy"),
    Case("rcp", "a deny at the account level", RCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER,
             ResourceControlPolicies=org([], [], [rcp(deny("s3:GetObject"))])), "explicitDeny", "rcp"),
    Case("rcp", "a deny for another action", RCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER,
             ResourceControlPolicies=org([rcp(deny("s3:DeleteObject"))])), "allowed", "identity-policy"),
    Case("rcp", "a deny for another bucket", RCP_EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER,
             ResourceControlPolicies=org([rcp(deny("s3:GetObject", Resource="arn:aws:s3:::scratch-space/*"))])),
         "allowed", "identity-policy"),
    Case("rcp", "caps a bucket policy's grant to an outside account", RCPS,
         ask(AUDITOR, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER, ResourcePolicy=FOR_AUDITOR, OrganizationId=ORG,
             ResourceControlPolicies=org([], [OUTSIDERS_OUT])), "explicitDeny", "rcp"),
    Case("rcp", "not for a service RCPs do not support", RCPS,
         ask(CAROL, "sns:Publish", TOPIC, policy(allow("sns:Publish")), ResourceOwner=MEMBER,
             ResourceControlPolicies=org([rcp(deny(["sns:*", "s3:*"]))])), "allowed", "identity-policy"),
    Case("rcp", "not for the management account's resources", RCPS,
         ask(AUDITOR, "sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{MANAGEMENT}:alerts", policy(allow("sqs:SendMessage")),
             ResourceOwner=MANAGEMENT, ManagementAccount=MANAGEMENT,
             ResourcePolicy=policy(allow("sqs:SendMessage", Principal={"AWS": AUDITOR})),
             ResourceControlPolicies=org([OUTSIDERS_OUT])), "allowed", "resource-policy"),
    Case("rcp", "an SCP deny still wins where the RCPs allow", EVAL,
         ask(CAROL, "s3:GetObject", ENTRY, READ, ResourceOwner=MEMBER, ResourceControlPolicies=org([]),
             ServiceControlPolicies=full_path(finance=[EVERYTHING, NO_S3_READS])), "explicitDeny", "scp", False),
]

ANONYMOUS_CASES = [
    Case("anonymous", 'a grant to {"AWS": "*"} reaches it', PRINCIPAL,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal={"AWS": "*"}, Resource=f"{LEDGER}/*"))),
         "allowed", "resource-policy"),
    Case("anonymous", "public read, with RCPFullAWSAccess only", RCP_EVAL,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=PUBLIC_READ,
             ResourceControlPolicies=org([], [])), "allowed", "resource-policy"),
    Case("anonymous", "an RCP deny stops public read", RCPS,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=PUBLIC_READ,
             ResourceControlPolicies=org([rcp(deny("s3:GetObject", Resource=f"{LEDGER}/*"))])), "explicitDeny", "rcp"),
    Case("anonymous", "SCPs do not apply to an unsigned request", SCPS,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=PUBLIC_READ,
             ServiceControlPolicies=full_path(root=[NO_S3_READS])), "allowed", "resource-policy", True),
    Case("anonymous", "neither a grant to one user nor an identity policy reaches it", PRINCIPAL,
         ask("anonymous", "s3:GetObject", ENTRY, ALL_S3, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal={"AWS": CAROL}, Resource=f"{LEDGER}/*"))),
         "implicitDeny", "resource-policy"),
    Case("anonymous", "a grant to the account does not reach it", PRINCIPAL,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal={"AWS": f"arn:aws:iam::{MEMBER}:root"},
                                         Resource=f"{LEDGER}/*"))), "implicitDeny", "resource-policy"),
    Case("anonymous", "a grant to a service does not reach it", PRINCIPAL,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal={"Service": "logging.s3.amazonaws.com"},
                                         Resource=f"{LEDGER}/*"))), "implicitDeny", "resource-policy"),
    Case("anonymous", "public read over TLS, aws:SecureTransport true", S3_BUCKET_POLICIES,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ContextEntries=context(aws_SecureTransport="true"),
             ResourcePolicy=policy(allow("s3:GetObject", Principal="*", Resource=f"{LEDGER}/*",
                                         Condition={"Bool": {"aws:SecureTransport": "true"}}))), "allowed", "resource-policy"),
    Case("anonymous", "public read over TLS, aws:SecureTransport absent", KEYS,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal="*", Resource=f"{LEDGER}/*",
                                         Condition={"Bool": {"aws:SecureTransport": "true"}}))),
         "implicitDeny", "resource-policy"),
    Case("anonymous", "a Deny to * beside the public grant wins", EVAL,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:GetObject", Principal="*", Resource=f"{LEDGER}/*"),
                                   deny("s3:GetObject", Principal="*", Resource=f"{LEDGER}/2026/*"))),
         "explicitDeny", "explicit-deny"),
]

VPCE_CASES = [
    Case("vpc-endpoint", "a full-access endpoint policy", VPCE,
         ask(CAROL, "s3:ListBucket", LEDGER, policy(allow("s3:ListBucket", Resource=LEDGER)), VpcEndpoint=endpoint(allow("*"))),
         "allowed", "identity-policy"),
    Case("vpc-endpoint", "the endpoint policy grants nothing by itself", VPCE,
         ask(CAROL, "s3:ListBucket", LEDGER, VpcEndpoint=endpoint(allow("*"))), "implicitDeny", "identity-policy"),
    Case("vpc-endpoint", "an action the endpoint policy does not list", VPCE,
         ask(CAROL, "s3:ListBucket", LEDGER, ALL_S3, VpcEndpoint=endpoint(allow(["s3:GetObject", "s3:PutObject"]))),
         "implicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "an action the endpoint policy denies", VPCE,
         ask(CAROL, "s3:DeleteBucket", LEDGER, ALL_S3, VpcEndpoint=endpoint(allow("*"), deny("s3:DeleteBucket"))),
         "explicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a bucket the endpoint policy does not list", VPCE,
         ask(CAROL, "s3:GetObject", OTHER_ENTRY, ALL_S3, VpcEndpoint=endpoint(allow("s3:*", Resource=[LEDGER, f"{LEDGER}/*"]))),
         "implicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a bucket the endpoint policy denies", VPCE,
         ask(CAROL, "s3:GetObject", OTHER_ENTRY, ALL_S3,
             VpcEndpoint=endpoint(allow("*"), deny("s3:*", Resource="arn:aws:s3:::scratch-space/*"))),
         "explicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a principal the endpoint policy does not name", VPCE,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint={"Id": ENDPOINT, "Policy": policy(allow("*", Principal={"AWS": f"arn:aws:iam::{MEMBER}:user/dave"}))}),
         "implicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a principal the endpoint policy denies by aws:PrincipalArn", VPCE,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint=endpoint(allow("*"), deny("s3:*", Condition={"StringEquals": {"aws:PrincipalArn": CAROL}}))),
         "explicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a principal the endpoint policy names", VPCE,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint={"Id": ENDPOINT, "Policy": policy(allow("s3:GetObject", Principal={"AWS": CAROL}))}),
         "allowed", "identity-policy"),
    Case("vpc-endpoint", "a public bucket read through an endpoint that names one user", VPCE,
         ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=PUBLIC_READ,
             VpcEndpoint={"Id": ENDPOINT, "Policy": policy(allow("*", Principal={"AWS": CAROL}))}),
         "implicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "an endpoint-policy condition on this endpoint's aws:SourceVpce", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint=endpoint(allow("*", Condition={"StringEquals": {"aws:SourceVpce": ENDPOINT}}))),
         "allowed", "identity-policy"),
    Case("vpc-endpoint", "an endpoint-policy condition naming another endpoint", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint=endpoint(allow("*", Condition={"StringEquals": {"aws:SourceVpce": OTHER_ENDPOINT}}))),
         "implicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "a deny unless through another endpoint", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, ALL_S3,
             VpcEndpoint=endpoint(allow("*"), deny("*", Condition={"StringNotEquals": {"aws:SourceVpce": OTHER_ENDPOINT}}))),
         "explicitDeny", "vpc-endpoint"),
    Case("vpc-endpoint", "aws:SourceIp is absent through an endpoint", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, policy(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}})),
             VpcEndpoint=endpoint(allow("*")), ContextEntries=context(aws_SourceIp="198.51.100.20")),
         "implicitDeny", "identity-policy"),
    Case("vpc-endpoint", "the address is aws:VpcSourceIp through an endpoint", KEYS,
         ask(CAROL, "s3:GetObject", ENTRY, policy(allow("s3:*", Condition={"IpAddress": {"aws:VpcSourceIp": "10.8.0.0/16"}})),
             VpcEndpoint=endpoint(allow("*")), ContextEntries=context(aws_SourceIp="10.8.3.4")),
         "allowed", "identity-policy"),
]

ROLE_GRANT = policy(allow("s3:GetObject", Principal={"AWS": WRITER_ROLE}, Resource=f"{LEDGER}/*"))
SESSION_GRANT = policy(allow("s3:GetObject", Principal={"AWS": WRITER}, Resource=f"{LEDGER}/*"))
ONLY_SQS = policy(allow("sqs:*"))

SESSION_CASES = [
    Case("session-policy", "a session policy allowing everything leaves the role's grant", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, READ, SessionPolicy=EVERYTHING), "allowed", "identity-policy"),
    Case("session-policy", "a session policy grants nothing by itself", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, SessionPolicy=EVERYTHING), "implicitDeny", "identity-policy"),
    Case("session-policy", "a session policy for another service caps the role's grant", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, READ, SessionPolicy=ONLY_SQS), "implicitDeny", "session-policy"),
    Case("session-policy", "a session policy for another bucket caps the role's grant", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, ALL_S3, SessionPolicy=policy(allow("s3:*", Resource="arn:aws:s3:::scratch-space/*"))),
         "implicitDeny", "session-policy"),
    Case("session-policy", "a session policy's explicit deny", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, READ, SessionPolicy=policy(allow("*"), deny("s3:GetObject"))),
         "explicitDeny", "explicit-deny"),
    Case("session-policy", "a bucket grant to the role ARN is capped", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=ROLE_GRANT, SessionPolicy=ONLY_SQS),
         "implicitDeny", "session-policy"),
    Case("session-policy", "a bucket grant to the role ARN within the session policy", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=ROLE_GRANT, SessionPolicy=READ),
         "allowed", "resource-policy"),
    Case("session-policy", "a bucket grant to the role ARN against the session policy's deny", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=ROLE_GRANT,
             SessionPolicy=policy(deny("s3:*"))), "explicitDeny", "explicit-deny"),
    # SESSION: a resource-based policy naming the session ARN adds its permissions after the session is
    # created, so the session policy does not limit them; one naming the role ARN is limited (above).
    Case("session-policy", "a bucket grant to the session ARN is not capped", SESSION,
         ask(WRITER, "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=SESSION_GRANT, SessionPolicy=ONLY_SQS),
         "allowed", "resource-policy"),
    Case("session-policy", "sts:GetCallerIdentity needs no permission", GET_CALLER_IDENTITY,
         ask(WRITER, "sts:GetCallerIdentity", "*", SessionPolicy=policy(deny("*"))), "allowed", "no-permission-required"),
    Case("session-policy", "an SCP caps the session as it caps the role", SCP_EVAL,
         ask(WRITER, "s3:GetObject", ENTRY, READ, SessionPolicy=EVERYTHING,
             ServiceControlPolicies=full_path(payments=[ONLY_SQS])), "implicitDeny", "scp", False),
]

TRUST = f"arn:aws:iam::{MEMBER}:role/service-role/invoice-renderer"
LAMBDA = "lambda.amazonaws.com"

SERVICE_CASES = [
    Case("service-principal", "the trust policy names the service", SERVICE_ROLE,
         ask(LAMBDA, "sts:AssumeRole", TRUST, ResourceOwner=MEMBER,
             ResourcePolicy=policy({"Effect": "Allow", "Principal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"})),
         "allowed", "resource-policy"),
    Case("service-principal", "the trust policy names another service", SERVICE_ROLE,
         ask(LAMBDA, "sts:AssumeRole", TRUST, ResourceOwner=MEMBER,
             ResourcePolicy=policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                    "Action": "sts:AssumeRole"})), "implicitDeny", "resource-policy"),
    Case("service-principal", "the trust policy names only the account", PRINCIPAL,
         ask(LAMBDA, "sts:AssumeRole", TRUST, ResourceOwner=MEMBER,
             ResourcePolicy=policy({"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "sts:AssumeRole"})),
         "implicitDeny", "resource-policy"),
    Case("service-principal", "no resource-based policy, nothing allows", PRINCIPAL,
         ask(LAMBDA, "s3:GetObject", ENTRY, ResourceOwner=MEMBER), "implicitDeny", "resource-policy"),
    Case("service-principal", "aws:PrincipalIsAWSService is true for a service", KEYS,
         ask("logging.s3.amazonaws.com", "s3:PutObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:PutObject", Principal="*", Resource=f"{LEDGER}/*",
                                         Condition={"Bool": {"aws:PrincipalIsAWSService": "true"}}))),
         "allowed", "resource-policy"),
    Case("service-principal", "aws:PrincipalIsAWSService is false for an IAM user", KEYS,
         ask(CAROL, "s3:PutObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:PutObject", Principal="*", Resource=f"{LEDGER}/*",
                                         Condition={"Bool": {"aws:PrincipalIsAWSService": "true"}}))),
         "implicitDeny", "identity-policy"),
    Case("service-principal", "an RCP without a service exemption restricts the service", RCPS,
         ask("logging.s3.amazonaws.com", "s3:PutObject", ENTRY, ResourceOwner=MEMBER,
             ResourcePolicy=policy(allow("s3:PutObject", Principal={"Service": "logging.s3.amazonaws.com"},
                                         Resource=f"{LEDGER}/*")),
             ResourceControlPolicies=org([rcp(deny("s3:PutObject", Condition={
                 "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}))])), "explicitDeny", "rcp"),
]

CASES = SCP_CASES + RCP_CASES + ANONYMOUS_CASES + VPCE_CASES + SESSION_CASES + SERVICE_CASES


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_guardrail_table(case: Case) -> None:
    title, url = case.page
    assert title and url.startswith("https://docs.aws.amazon.com/")
    result = decide(case.line)
    assert (result["EvalDecision"], result["OrchestrateLayer"]) == (case.decision, case.layer), result["OrchestrateReason"]
    detail = result.get("OrganizationsDecisionDetail")
    if "ServiceControlPolicies" in case.line:  # IAM API Reference, "EvaluationResult": whether the SCPs allow
        assert detail == {"AllowedByOrganizations": case.organizations}, result
    else:
        assert detail is None and case.organizations is None


def test_every_area_has_cases() -> None:
    counts = {area: sum(case.area == area for case in CASES)
              for area in ("scp", "rcp", "anonymous", "vpc-endpoint", "session-policy", "service-principal")}
    assert all(count >= 5 for count in counts.values()), counts
    assert len({case.id for case in CASES}) == len(CASES)


# --- refusals: input AWS would not accept, each with the page that says so --------------------------
@dataclass(frozen=True)
class Refusal:
    name: str
    page: tuple[str, str]
    line: dict[str, Any]
    message: str


REFUSALS = [
    Refusal("an endpoint policy statement without a Principal", VPCE,
            ask(CAROL, "s3:GetObject", ENTRY, READ, VpcEndpoint={"Id": ENDPOINT, "Policy": policy(allow("s3:*"))}),
            "VpcEndpoint.Policy: malformed policy: statement 0: a resource-based policy statement needs exactly one"
            " of Principal or NotPrincipal"),
    Refusal("NotPrincipal naming a user with Effect Allow", NOT_PRINCIPAL,
            ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=policy(
                {"Effect": "Allow", "NotPrincipal": {"AWS": CAROL}, "Action": "s3:GetObject", "Resource": f"{LEDGER}/*"})),
            "ResourcePolicy: malformed policy: statement 0: NotPrincipal is supported only with Effect Deny"),
    Refusal('NotPrincipal "*" with Effect Allow', NOT_PRINCIPAL,
            ask("anonymous", "s3:GetObject", ENTRY, ResourceOwner=MEMBER, ResourcePolicy=policy(
                {"Effect": "Allow", "NotPrincipal": "*", "Action": "s3:GetObject", "Resource": f"{LEDGER}/*"})),
            "ResourcePolicy: malformed policy: statement 0: NotPrincipal is supported only with Effect Deny"),
    Refusal("an SCP whose Statement list is empty", GRAMMAR,
            ask(CAROL, "s3:GetObject", ENTRY, READ,
                ServiceControlPolicies=full_path(finance=['{"Version":"2012-10-17","Statement":[]}'])),
            "ServiceControlPolicies.2.1: malformed policy: policy needs a Statement object or a non-empty list of statements"),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=[refusal.name for refusal in REFUSALS])
def test_refusals(refusal: Refusal) -> None:
    title, url = refusal.page
    assert title and url.startswith("https://docs.aws.amazon.com/")
    code, results, err = simulate(refusal.line)
    assert (code, results) == (2, []), err
    assert err == f"in.jsonl:1: {refusal.message}\n"
