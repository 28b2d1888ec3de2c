"""Decision explanations: matched statements, failed conditions, missing context, reasons.

Encodes the IAM API Reference "EvaluationResult" semantics (MatchedStatements:
for an explicit deny "the deny statement is the only entry included";
MissingContextValues: "context keys that are required by the included input
policies but that were not provided") and the engine's layer contract.
"""
from __future__ import annotations

import pytest

from orchestrator.authz.evaluate import (Decision, Grant, PolicyInputs, PolicySource, Principal, Request,
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
    assert 'StringEquals kms:ViaService (statement "AllowViaDynamo" of key policy)' in d.failed_conditions
    assert d.reason == f"no statement in the key policy allows kms:Decrypt on {KEY} for {USER.arn}"


def test_failed_condition_with_present_value_is_not_missing() -> None:
    d = decide({"kms:ViaService": ["s3.us-east-1.amazonaws.com"], "aws:SecureTransport": ["true"]})
    assert d.missing_context == ()
    # Only Allow statements explain a denial; the Deny whose condition failed is not listed.
    assert d.failed_conditions == ('StringEquals kms:ViaService (statement "AllowViaDynamo" of key policy)',)


def test_delegation_reason_mentions_account() -> None:
    inputs = PolicyInputs(resource_policy=PolicySource("key", "kp", KEY_POLICY))
    d = evaluate(Request(USER, "kms:DescribeKey", KEY), inputs)
    assert (d.decision, d.layer) == ("implicitDeny", "identity-policy")
    assert "delegates kms:DescribeKey to account 123456789012" in d.reason


def test_delegated_allow_matches_identity_and_key_statements() -> None:
    d = decide({"aws:SecureTransport": ["true"]}, action="kms:DescribeKey")
    assert (d.decision, d.layer) == ("allowed", "identity-policy")
    assert [(r.policy_kind, r.sid) for r in d.matched] == [("identity", "Read"), ("key", "EnableIAM")]


def test_statement_without_sid_is_referenced_by_index() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    d = evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", "p", document)]))
    assert d.matched == (StatementRef("identity", "p", None, 0, "Deny"),)
    assert "statement #0 of identity policy p" in d.reason


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
