"""Decision explanations: matched statements, failed conditions, missing context, reasons.

Encodes the IAM API Reference "EvaluationResult" semantics (MatchedStatements:
for an explicit deny "the deny statement is the only entry included";
MissingContextValues: "context keys that are required by the included input
policies but that were not provided") and the engine's layer contract.
"""
from __future__ import annotations

import pytest

from orchestrator.authz.decide import (Decision, Grant, PolicyInputs, PolicySource, Principal, Request,
                                         StatementRef, evaluate)

ACCOUNT = "123456789012"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
VIA = "dynamodb.us-east-1.amazonaws.com"

KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "kms:Describe*", "Resource": "*"},
    {"Sid": "AllowViaDynamo", "Effect": "Allow", "Principal": {"AWS": USER.arn}, "Action": "kms:Decrypt",
     "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": VIA}}},
]}
IDENTITY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
    {"Sid": "NoPlain", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
]}


def decide(context: dict[str, list[str]], action: str = "kms:Decrypt", **inputs_kw: object) -> Decision:
    inputs = PolicyInputs(identity=[PolicySource("identity", "tester/inline/read", IDENTITY)],
                          resource_policy=PolicySource("key", f"key-policy:{KEY}", KEY_POLICY), **inputs_kw)  # type: ignore[arg-type]
    return evaluate(Request(USER, action, KEY, context), inputs)


def test_allowed_names_the_allowing_statement() -> None:
    d = decide({"kms:ViaService": [VIA], "aws:SecureTransport": ["true"]})
    assert d.allowed and d.decision == "allowed" and d.layer == "key-policy"
    assert d.matched == (StatementRef("key", f"key-policy:{KEY}", "AllowViaDynamo", 1, "Allow"),)
    assert d.missing_context == () and d.failed_conditions == ()
    assert "AllowViaDynamo" in d.reason


def test_explicit_deny_lists_only_deny_statements() -> None:
    d = decide({"kms:ViaService": [VIA], "aws:SecureTransport": ["false"]})
    assert d.decision == "explicitDeny" and d.layer == "explicit-deny" and not d.allowed
    assert d.matched == (StatementRef("identity", "tester/inline/read", "NoPlain", 1, "Deny"),)
    assert "explicitly denied" in d.reason and "NoPlain" in d.reason


def test_implicit_deny_reports_failed_condition_and_missing_keys() -> None:
    d = decide({})
    assert d.decision == "implicitDeny" and d.layer == "key-policy"
    assert d.matched == ()
    assert d.missing_context == ("aws:SecureTransport", "kms:ViaService")
    failure = ('statement "AllowViaDynamo" of the key policy did not apply: '
               'StringEquals kms:ViaService (expected "dynamodb.us-east-1.amazonaws.com", actual absent)')
    assert d.failed_conditions == (failure,)
    assert d.reason == f"no statement in the key policy allows kms:Decrypt on {KEY} for {USER.arn}; {failure}"


def test_failed_condition_with_present_value_is_not_missing() -> None:
    d = decide({"kms:ViaService": ["s3.us-east-1.amazonaws.com"], "aws:SecureTransport": ["true"]})
    assert d.missing_context == ()
    # Only Allow statements explain a denial; the Deny whose condition failed is not listed.
    assert d.failed_conditions == ('statement "AllowViaDynamo" of the key policy did not apply: StringEquals kms:ViaService '
                                   '(expected "dynamodb.us-east-1.amazonaws.com", actual "s3.us-east-1.amazonaws.com")',)


def test_delegation_reason_mentions_account() -> None:
    inputs = PolicyInputs(resource_policy=PolicySource("key", "kp", KEY_POLICY))
    d = evaluate(Request(USER, "kms:DescribeKey", KEY), inputs)
    assert (d.decision, d.layer) == ("implicitDeny", "identity-policy")
    assert d.reason == ('statement "EnableIAM" of the key policy delegates kms:DescribeKey to account 123456789012, '
                        f"but no IAM policy allows kms:DescribeKey on {KEY} for {USER.arn}")


def test_delegated_allow_matches_identity_and_key_statements() -> None:
    d = decide({"aws:SecureTransport": ["true"]}, action="kms:DescribeKey")
    assert (d.decision, d.layer) == ("allowed", "identity-policy")
    assert [(r.policy_kind, r.sid) for r in d.matched] == [("identity", "Read"), ("key", "EnableIAM")]


def test_statement_without_sid_is_referenced_by_index() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    d = evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", "p", document)]))
    assert d.matched == (StatementRef("identity", "p", None, 0, "Deny"),)
    assert d.reason == "s3:GetObject on * is explicitly denied by statement #1 of identity policy p"   # 1-based for readers


def test_boundary_reason() -> None:
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    narrow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
    d = evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::b/k"),
                 PolicyInputs(identity=[PolicySource("identity", "a", allow)], boundaries=[PolicySource("boundary", "pb", narrow)]))
    assert d.layer == "permissions-boundary" and "permissions boundary" in d.reason


def test_grant_reason_and_ref() -> None:
    g = Grant(grantee_principal=USER.arn, operations=["Decrypt"], key_arn=KEY, name="app-grant")
    inputs = PolicyInputs(resource_policy=PolicySource("key", "kp", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"}]}),
        grants=[g])
    d = evaluate(Request(USER, "kms:Decrypt", KEY), inputs)
    assert d.layer == "grant" and "app-grant" in d.reason
    assert d.matched == (StatementRef("grant", "app-grant", None, 0, "Allow"),)


def test_no_grant_reason_mentions_grants() -> None:
    g = Grant(grantee_principal=USER.arn, operations=["Encrypt"], key_arn=KEY, name="enc")
    inputs = PolicyInputs(resource_policy=PolicySource("key", "kp", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"}]}),
        grants=[g])
    assert "no grant allows it" in evaluate(Request(USER, "kms:Decrypt", KEY), inputs).reason


def test_missing_context_is_deduplicated_in_order() -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"b:k": "1", "a:k": "1"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"b:k": "2"}}}]}
    d = evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", "p", document)]))
    assert d.missing_context == ("b:k", "a:k")


def test_statements_not_applying_do_not_report_missing_keys() -> None:
    # Conditions are evaluated only for statements whose action/resource/principal match.
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"x:k": "1"}}}]}
    d = evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", "p", document)]))
    assert d.missing_context == ()


@pytest.mark.parametrize("decision,allowed", [("allowed", True), ("explicitDeny", False), ("implicitDeny", False)])
def test_allowed_property(decision: str, allowed: bool) -> None:
    assert Decision(decision, "x", (), (), "r").allowed is allowed


# Reasons a reader can act on (issue 10, item 9): exact wording.
DDB_FULL = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
ANY_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kms:DescribeKey"], "Resource": "*"}]}
DEFAULT_KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "kms:*", "Resource": "*"}]}


def test_allow_through_a_managed_policy_names_the_policy() -> None:
    d = evaluate(Request(USER, "dynamodb:GetItem", "*"), PolicyInputs(identity=[PolicySource("identity", DDB_FULL, ANY_KMS)]))
    assert d.reason == "dynamodb:GetItem is allowed by statement #1 of managed policy AmazonDynamoDBFullAccess"


def test_delegating_key_statement_is_labelled_as_the_key_policys() -> None:
    inputs = PolicyInputs(identity=[PolicySource("identity", DDB_FULL, ANY_KMS)],
                          resource_policy=PolicySource("key", f"key policy {KEY}", DEFAULT_KEY_POLICY))
    d = evaluate(Request(USER, "kms:DescribeKey", KEY), inputs)
    assert (d.decision, d.layer) == ("allowed", "identity-policy")
    assert d.reason == ("kms:DescribeKey is allowed by statement #1 of managed policy AmazonDynamoDBFullAccess; "
                        'statement "EnableIAMUserPermissions" of the key policy delegates kms:DescribeKey to account 123456789012')


def test_explicit_deny_reason_says_it_once() -> None:
    d = decide({"kms:ViaService": [VIA], "aws:SecureTransport": ["false"]})
    assert d.reason == f'kms:Decrypt on {KEY} is explicitly denied by statement "NoPlain" of inline policy read of user tester'


@pytest.mark.parametrize("name,label", [
    pytest.param("user inline read", "inline policy read of user tester", id="world-user-inline"),
    pytest.param("tester/inline/read", "inline policy read of user tester", id="desired-state-user-inline"),
    pytest.param("group devs inline read", "inline policy read of group devs", id="world-group-inline"),
    pytest.param("group devs/inline/read", "inline policy read of group devs", id="desired-state-group-inline"),
    pytest.param(f"arn:aws:iam::{ACCOUNT}:policy/team/ReadOnly", "managed policy ReadOnly", id="customer-managed-with-path"),
    pytest.param("PolicyInputList.2", "identity policy PolicyInputList.2", id="simulator-input"),
])
def test_identity_policy_labels(name: str, label: str) -> None:
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    d = evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", name, deny)]))
    assert d.reason == f"s3:GetObject on * is explicitly denied by statement #1 of {label}"


def test_failed_conditions_name_statement_policy_operator_key_values() -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Other", "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {
            "StringEquals": {"aws:PrincipalTag/team": ["security", "audit"]},
            "ForAnyValue:StringLike": {"kms:EncryptionContextKeys": "app*"}}}]}
    boundary = PolicySource("boundary", f"arn:aws:iam::{ACCOUNT}:policy/Narrow", document)
    inputs = PolicyInputs(identity=[PolicySource("identity", "p", document)], boundaries=[boundary],
                          resource_policy=PolicySource("key", "kp", DEFAULT_KEY_POLICY))
    d = evaluate(Request(USER, "kms:Decrypt", KEY, {"kms:EncryptionContextKeys": ["tenant", "region"]}), inputs)
    tests = ('StringEquals aws:PrincipalTag/team (expected "security" or "audit", actual absent) and '
             'ForAnyValue:StringLike kms:EncryptionContextKeys (expected "app*", actual "tenant" and "region")')
    assert d.failed_conditions == (f"statement #2 of identity policy p did not apply: {tests}",
                                   f"statement #2 of permissions boundary Narrow did not apply: {tests}")
    assert d.reason == ('statement "EnableIAMUserPermissions" of the key policy delegates kms:Decrypt to account 123456789012, '
                        f"but no IAM policy allows kms:Decrypt on {KEY} for {USER.arn}; " + "; ".join(d.failed_conditions))


def test_many_condition_values_are_shortened() -> None:
    values = [f"v{i}" for i in range(8)]
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"s3:prefix": values}}}]}
    d = evaluate(Request(USER, "s3:ListBucket", "*", {"s3:prefix": ["x"]}), PolicyInputs(identity=[PolicySource("identity", "p", document)]))
    assert d.failed_conditions == ('statement #1 of identity policy p did not apply: StringEquals s3:prefix '
                                   '(expected "v0", "v1", "v2", "v3", "v4" or 3 more, actual "x")',)


def test_explicit_deny_does_not_list_allow_conditions_that_failed() -> None:
    # The deny decides whatever the Allow statements say; their failed conditions would mislead.
    d = decide({"aws:SecureTransport": ["false"]})
    assert d.decision == "explicitDeny" and d.failed_conditions == ()
    assert d.reason == f'kms:Decrypt on {KEY} is explicitly denied by statement "NoPlain" of inline policy read of user tester'
