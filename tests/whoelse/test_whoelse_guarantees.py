"""Guarantees over every principal, case by case, each citing the AWS page of its rule: proved, or
violated with a witness the concrete engine allows, or unknown with the reason (never proved)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.authz.engine.inputs import Grant, PolicySource
from orchestrator.authz.engine.organization import (ACCOUNT, FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS, ROOT, Membership,
                                                    OrgLevel, VpcEndpoint)
from orchestrator.whoelse import PROVED, UNKNOWN, VIOLATED, DeclaredPrincipal, Question, Scope, decide

A, B, C = "111111111111", "222222222222", "333333333333"
ORG = "o-aaaaaaaaaa"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OBJECT = "arn:aws:s3:::data/report.csv"
TABLE = f"arn:aws:dynamodb:us-east-1:{A}:table/orders"
ROLE = f"arn:aws:iam::{A}:role/deploy"

POLICY_EVALUATION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
CROSS_ACCOUNT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
KEY_POLICIES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
KEY_POLICY_DEFAULT = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
GLOBAL_KEYS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
BLOCK_PUBLIC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
SCP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
RCP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html"
ENDPOINT = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"
GRANTS = "https://docs.aws.amazon.com/kms/latest/developerguide/grants.html"
CONFUSED_DEPUTY = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html"
OPERATORS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"


def policy(kind: str, *statements: dict[str, Any]) -> PolicySource:
    return PolicySource(kind, kind, json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(principal: Any, action: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


ROOT_OF_A = allow({"AWS": f"arn:aws:iam::{A}:root"}, "kms:*")
IN_ORG = {"StringEquals": {"aws:PrincipalOrgID": ORG}}


def organization(*accounts: str, scps: tuple[PolicySource, ...] = (), rcps: tuple[PolicySource, ...] = ()) -> dict[str, Membership]:
    root = OrgLevel(ROOT, "root", "r-ab12", (PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS), *scps),
                    (PolicySource("rcp", "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS), *rcps))
    return {account: Membership(ORG, (root, OrgLevel(ACCOUNT, account, account,
                                                     (PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS),),
                                                     (PolicySource("rcp", "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS),))))
            for account in accounts}


def key_question(*statements: dict[str, Any], scope: Scope, **extra: Any) -> Question:
    return Question(KEY, A, ("kms:Decrypt",), scope, resource_policy=policy("key", *statements), **extra)


CASES: list[tuple[str, str, Question, str]] = [
    ("a key policy for the account only: nobody outside it", KEY_POLICY_DEFAULT,
     key_question(ROOT_OF_A, scope=Scope.outside_account(A)), PROVED),
    ('Principal "*" with no condition: anyone', POLICY_EVALUATION,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt"), scope=Scope.outside_account(A)), VIOLATED),
    ('Principal "*" closed by aws:PrincipalOrgID: nobody outside the organization', GLOBAL_KEYS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition=IN_ORG), scope=Scope.outside_organization(ORG),
                  organizations=organization(A, B)), PROVED),
    ('Principal "*" with aws:PrincipalOrgID: a member account is inside', GLOBAL_KEYS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition=IN_ORG), scope=Scope.outside_account(A),
                  organizations=organization(A, B)), VIOLATED),
    ('Principal "*" closed by aws:PrincipalAccount', GLOBAL_KEYS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"StringEquals": {"aws:PrincipalAccount": A}}),
                  scope=Scope.outside_account(A)), PROVED),
    ('Principal {"AWS": "*"} and a condition that does not close it (IfExists)', OPERATORS,
     key_question(ROOT_OF_A, allow({"AWS": "*"}, "kms:Decrypt",
                                   Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}}),
                  scope=Scope.outside_organization(ORG), organizations=organization(A)), VIOLATED),
    ('Principal "*" with aws:SourceVpce: an undeclared endpoint could have that id', GLOBAL_KEYS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
                  scope=Scope.outside_organization(ORG), organizations=organization(A)), VIOLATED),
    ('aws:SourceVpce with the endpoint declared, its policy for the organization: closed', ENDPOINT,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
                  scope=Scope.outside_organization(ORG), organizations=organization(A),
                  endpoints=(VpcEndpoint("vpce-1", "vpc-1", policy("vpc-endpoint", allow("*", "*", Condition=IN_ORG))),)),
     PROVED),
    ("a key policy delegating to another account: its users, identity side at worst", KEY_POLICIES,
     key_question(ROOT_OF_A, allow({"AWS": B}, "kms:Decrypt"), scope=Scope.outside_account(A)), VIOLATED),
    ("delegating to an account whose declared principals have no KMS permission (closed account)", CROSS_ACCOUNT,
     key_question(ROOT_OF_A, allow({"AWS": B}, "kms:Decrypt"), scope=Scope(outside_accounts=frozenset({A}),
                                                                           excluding=frozenset({f"arn:aws:iam::{B}:root"})),
                  principals=(DeclaredPrincipal(f"arn:aws:iam::{B}:user/ops", (policy("identity", {
                      "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),)),),
                  closed_accounts=frozenset({B})), PROVED),
    ("an SCP of the other account's organization caps the delegation", SCP,
     key_question(ROOT_OF_A, allow({"AWS": B}, "kms:Decrypt"), scope=Scope(outside_accounts=frozenset({A}), service_linked=False),
                  organizations=organization(B, scps=(policy("scp", {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}),))),
     PROVED),
    ("an SCP does not restrict the other account's service-linked roles", SCP,
     key_question(ROOT_OF_A, allow({"AWS": B}, "kms:Decrypt"), scope=Scope.outside_account(A),
                  organizations=organization(B, scps=(policy("scp", {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}),))),
     VIOLATED),
    ("a grant to another account's role", GRANTS,
     key_question(ROOT_OF_A, scope=Scope.outside_account(A),
                  grants=(Grant(f"arn:aws:iam::{C}:role/app", ["Decrypt"], KEY, name="app"),)), VIOLATED),
    ("an explicit deny outside the organization closes a public grant", POLICY_EVALUATION,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt"),
                  {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}},
                  scope=Scope.outside_organization(ORG), organizations=organization(A)), PROVED),
    ("a bucket policy granting the public", BLOCK_PUBLIC,
     Question(OBJECT, A, ("s3:GetObject",), Scope.the_public(), resource_policy=policy("resource", allow("*", "s3:GetObject"))),
     VIOLATED),
    ("RestrictPublicBuckets limits a public bucket policy to the bucket's account", BLOCK_PUBLIC,
     Question(OBJECT, A, ("s3:GetObject",), Scope.the_public(), resource_policy=policy("resource", allow("*", "s3:GetObject")),
              restrict_public=True), PROVED),
    ("an RCP perimeter caps a public bucket policy", RCP,
     Question(OBJECT, A, ("s3:GetObject",), Scope(outside_organizations=frozenset({ORG}), service_linked=False),
              resource_policy=policy("resource", allow("*", "s3:GetObject")), organizations=organization(A),
              resource_org=organization(A, rcps=(policy("rcp", {
                  "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                  "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}}),))[A]), PROVED),
    ("a trust policy naming another account, with or without sts:ExternalId", CONFUSED_DEPUTY,
     Question(ROLE, A, ("sts:AssumeRole",), Scope.outside_account(A), resource_policy=policy("trust", allow(
         {"AWS": C}, "sts:AssumeRole", Condition={"StringEquals": {"sts:ExternalId": "42"}}))), VIOLATED),
    ("only the named: a table with undeclared users in its account", POLICY_EVALUATION,
     Question(TABLE, A, ("dynamodb:GetItem",), Scope.everyone([f"arn:aws:iam::{A}:user/admin", f"arn:aws:iam::{A}:root"])),
     VIOLATED),
    ("only the named: every identity of the account declared", POLICY_EVALUATION,
     Question(TABLE, A, ("dynamodb:GetItem", "dynamodb:Query"),
              Scope.everyone([f"arn:aws:iam::{A}:user/admin", f"arn:aws:iam::{A}:role/reader", f"arn:aws:iam::{A}:root"]),
              principals=(DeclaredPrincipal(f"arn:aws:iam::{A}:user/admin", (policy("identity", {
                  "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}),)),
                  DeclaredPrincipal(f"arn:aws:iam::{A}:role/reader", (policy("identity", {
                      "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}),)),
                  DeclaredPrincipal(f"arn:aws:iam::{A}:user/auditor", (policy("identity", {
                      "Effect": "Allow", "Action": "dynamodb:Describe*", "Resource": "*"}),))),
              closed_accounts=frozenset({A})), PROVED),
    ("an IP range does not close access to the public", OPERATORS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                  scope=Scope.the_public()), VIOLATED),
    ("a date window does not close it either", OPERATORS,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                                                                  "Bool": {"aws:SecureTransport": "true"}}),
                  scope=Scope.the_public()), VIOLATED),
    ("a principal variable that only the named can meet", PRINCIPAL,
     key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"StringEquals": {
         "aws:PrincipalArn": f"arn:aws:iam::{A}:user/${{aws:username}}"}}), scope=Scope.outside_account(A)), PROVED),
]


@pytest.mark.parametrize(("title", "page", "question", "expected"), CASES, ids=[case[0] for case in CASES])
def test_a_guarantee_is_proved_or_violated_as_aws_decides(title: str, page: str, question: Question, expected: str) -> None:
    verdict = decide(question)
    assert verdict.status == expected, (title, page, verdict.reason)
    if expected == VIOLATED:
        witness = verdict.witness
        assert witness is not None and witness.decision is not None and witness.decision.allowed, page
        assert witness.statements or witness.decision.layer, witness


def test_a_witness_names_the_caller_the_context_and_the_statements() -> None:
    question = key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                            scope=Scope.outside_account(A))
    witness = decide(question).witness
    assert witness is not None and witness.caller_account != A
    assert witness.context["aws:SourceIp"][0].startswith("203.0.113.")
    assert [ref.index for ref in witness.statements if ref.policy_kind == "key"] == [1]


def test_what_the_encoding_leaves_out_is_unknown_with_its_reason_never_proved() -> None:
    question = key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"BinaryEquals": {"aws:UserAgent": "QUJD"}}),
                            scope=Scope.outside_account(A))
    verdict = decide(question)
    assert verdict.status == UNKNOWN
    assert "BinaryEquals" in verdict.reason and "statement 1 of key policy" in verdict.reason


def test_a_gap_that_cannot_matter_still_proves() -> None:
    question = key_question(ROOT_OF_A, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
                                        "Resource": "*", "Condition": {"BinaryEquals": {"aws:UserAgent": "QUJD"}}},
                            scope=Scope.outside_account(A))
    assert decide(question).status == PROVED


def test_a_solver_timeout_is_unknown() -> None:
    question = key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition={"StringLike": {"aws:UserAgent": "*a*b*c*"}}),
                            scope=Scope.outside_account(A), timeout_ms=1)
    assert decide(question).status in (UNKNOWN, VIOLATED)


def test_a_principal_of_a_kind_not_quantified_over_gives_unknown() -> None:
    federated = f"arn:aws:sts::{B}:federated-user/carol"
    question = key_question(ROOT_OF_A, allow({"AWS": federated}, "kms:Decrypt"), scope=Scope.outside_account(A))
    verdict = decide(question)
    assert verdict.status == UNKNOWN and federated in verdict.reason


@pytest.mark.parametrize(("condition", "expected"), [
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, VIOLATED),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, VIOLATED),
])
def test_multivalued_keys_are_sets_of_values(condition: dict[str, Any], expected: str) -> None:
    """IAM User Guide, "Single-valued vs. multivalued context keys": a ForAnyValue needs one value in
    the set, a ForAllValues holds for an absent key."""
    deny_other = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                  "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["secret"]}}}
    question = key_question(ROOT_OF_A, allow("*", "kms:Decrypt", Condition=condition), deny_other,
                            scope=Scope.outside_account(A))
    verdict = decide(question)
    assert verdict.status == expected, verdict.reason
    witness = verdict.witness
    assert witness is not None and "secret" not in witness.context.get("aws:TagKeys", ())
    if "ForAnyValue:StringEquals" in condition:
        assert "team" in witness.context["aws:TagKeys"]


def test_a_deny_on_every_tag_set_closes_it() -> None:
    """Two denies cover every request: one when some tag key is not "team", one when "team" is there,
    and a request with no tag keys is denied by the Null check."""
    statements = [allow("*", "kms:Decrypt"),
                  {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                   "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team"]}}},
                  {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                   "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}},
                  {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                   "Condition": {"Null": {"aws:TagKeys": "true"}}}]
    assert decide(key_question(ROOT_OF_A, *statements, scope=Scope.outside_account(A))).status == PROVED


def test_a_resource_with_a_policy_variable_matches_the_callers_own_prefix() -> None:
    """IAM User Guide, "IAM policy elements: Variables and tags": ``${aws:username}`` in a Resource
    is the caller's user name: any user named bob, of any account, reaches data/bob/."""
    home = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/${aws:username}/*"}
    question = Question("arn:aws:s3:::data/bob/report.csv", A, ("s3:GetObject",), Scope.outside_account(A),
                        resource_policy=policy("resource", home))
    verdict = decide(question)
    assert verdict.status == VIOLATED and verdict.witness is not None
    assert verdict.witness.caller_arn.endswith("/bob") and verdict.witness.principal_type == "User"
    shared = Question("arn:aws:s3:::data/shared/report.csv", A, ("s3:GetObject",), Scope.outside_account(A),
                      resource_policy=policy("resource", dict(home, Principal="*")),
                      principals=(), closed_accounts=frozenset())
    shared_verdict = decide(shared)
    assert shared_verdict.status == VIOLATED and shared_verdict.witness.caller_arn.endswith("/shared")
    only_a = Question("arn:aws:s3:::data/bob/report.csv", A, ("s3:GetObject",), Scope.outside_account(A),
                      resource_policy=policy("resource", dict(home, Principal={"AWS": A})))
    assert decide(only_a).status == PROVED


def test_a_date_key_read_as_a_number_is_not_closed_by_numeric_denies() -> None:
    """IAM User Guide, "Condition operators": aws:CurrentTime is a date (AWS writes ISO 8601); a
    Numeric operator on it never matches, so two numeric denies that would cover every number close
    nothing (the encoding leaves them out, and the witness shows it)."""
    denies = [{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
               "Condition": {operator: {"aws:CurrentTime": "10"}}} for operator in ("NumericLessThan", "NumericGreaterThanEquals")]
    verdict = decide(key_question(ROOT_OF_A, allow("*", "kms:Decrypt"), *denies, scope=Scope.outside_account(A)))
    assert verdict.status == VIOLATED


def test_a_date_window_witness_carries_an_iso_date() -> None:
    statement = allow("*", "kms:Decrypt", Condition={"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})
    verdict = decide(key_question(ROOT_OF_A, statement, scope=Scope.outside_account(A)))
    assert verdict.witness is not None and verdict.witness.context["aws:CurrentTime"][0] > "2030-01-01T00:00:00Z"


def test_a_witness_the_concrete_engine_refuses_is_unknown_never_violated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every witness is re-decided by the concrete engine; if it refuses one the encoding did not
    leave a gap for, the verdict is unknown and names the disagreement (a bug to report)."""
    import orchestrator.whoelse.solve as solve
    from orchestrator.authz.engine.inputs import IMPLICIT_DENY, Decision

    real = solve.redecide

    def refusing(replay, engine):  # type: ignore[no-untyped-def]
        _, witness = real(replay, engine)
        return Decision(IMPLICIT_DENY, "test", (), (), "refused by the test"), witness
    monkeypatch.setattr(solve, "redecide", refusing)
    verdict = decide(key_question(ROOT_OF_A, allow("*", "kms:Decrypt"), scope=Scope.outside_account(A)))
    assert verdict.status == UNKNOWN and "disagreement" in verdict.reason


def test_a_wildcard_inside_a_principal_arn_names_nobody() -> None:
    """IAM User Guide, "AWS JSON policy elements: Principal": no partial wildcards; the engine matches
    the text literally, so the grant reaches no caller and the guarantee is proved."""
    question = key_question(ROOT_OF_A, allow({"AWS": "arn:aws:iam::*:role/deploy"}, "kms:Decrypt"),
                            scope=Scope.outside_account(A))
    assert decide(question).status == PROVED


def test_an_undeclared_account_has_no_path_in_a_declared_organization() -> None:
    """aws:PrincipalOrgPaths starts with the caller's organization's id (GLOBAL_KEYS): an account
    outside the declared organization (in none, or in an undeclared one) has no path in it."""
    path = f"{ORG}/r-ab12/ou-ab12-workload/*"
    open_to_the_unit = allow("*", "kms:Decrypt", Condition={"StringLike": {"aws:PrincipalOrgPaths": path}})
    question = key_question(ROOT_OF_A, open_to_the_unit, scope=Scope.the_public(), organizations=organization(A, B))
    assert decide(question).status == PROVED
    anywhere = allow("*", "kms:Decrypt", Condition={"StringLike": {"aws:PrincipalOrgPaths": "*/r-ab12/*"}})
    assert decide(key_question(ROOT_OF_A, anywhere, scope=Scope.the_public(), organizations=organization(A, B))).status == VIOLATED
