"""Condition operators, missing-key semantics, IfExists and set prefixes.

Each table cites the section of the IAM User Guide it encodes:
"IAM JSON policy elements: Condition operators" (CO), "Condition operators —
...IfExists condition operators" (IFX), "Condition operator to check existence
of condition keys" (NULL), "Single-valued vs. multivalued context keys" (MV)
and "Condition element — multiple values / multiple keys" (AND-OR).
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate

P = Principal(arn="arn:aws:iam::123456789012:user/tester", account="123456789012")
KEY = "test:Key"


def allows(condition: dict[str, Any], context: dict[str, Any] | None = None, version: str = "2012-10-17") -> bool:
    doc = {"Version": version, "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}]}
    request = Request(P, "s3:GetObject", "arn:aws:s3:::bucket/key", context or {})
    return evaluate(request, PolicyInputs(identity=[PolicySource("identity", "t", doc)])).allowed


# (operator, policy value, request value that matches, request value that does not)
# CO: string, numeric, date, Boolean, binary, IP address and ARN operator tables.
POSITIVE = [
    ("StringEquals", "abc", "abc", "abd"),
    ("StringEqualsIgnoreCase", "AbC", "aBc", "abd"),
    ("StringLike", "a*c?", "abxxcd", "abxxc"),
    ("NumericEquals", "10", "10", "11"),
    ("NumericLessThan", "10", "9", "10"),
    ("NumericLessThanEquals", "10", "10", "11"),
    ("NumericGreaterThan", "10", "11", "10"),
    ("NumericGreaterThanEquals", "10", "10", "9"),
    ("DateEquals", "2020-01-01T00:00:00Z", "1577836800", "2020-01-01T00:00:01Z"),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", "2020-01-01T00:00:00Z"),
    ("DateLessThanEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z"),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", "2020-01-01T00:00:00Z"),
    ("DateGreaterThanEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z"),
    ("Bool", "true", "true", "false"),
    ("BinaryEquals", "aGVsbG8=", "aGVsbG8=", "d29ybGQ="),
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", "198.51.100.1"),
    ("ArnEquals", "arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/bob",
     "arn:aws:iam::123456789012:role/bob"),
    ("ArnLike", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b", "arn:aws:s3:::other/a"),
]
# CO: each negated operator with its positive counterpart's values.
NEGATED = [
    ("StringNotEquals", "abc", "abc", "abd"),
    ("StringNotEqualsIgnoreCase", "AbC", "aBc", "abd"),
    ("StringNotLike", "a*c?", "abxxcd", "abxxc"),
    ("NumericNotEquals", "10", "10", "11"),
    ("DateNotEquals", "2020-01-01T00:00:00Z", "1577836800", "2020-01-01T00:00:01Z"),
    ("NotIpAddress", "203.0.113.0/24", "203.0.113.7", "198.51.100.1"),
    ("ArnNotEquals", "arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/bob",
     "arn:aws:iam::123456789012:role/bob"),
    ("ArnNotLike", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b", "arn:aws:s3:::other/a"),
]


def _rows() -> list[Any]:
    rows = []
    for table, negated in ((POSITIVE, False), (NEGATED, True)):
        for op, policy, good, bad in table:
            for suffix in ("", "IfExists"):
                name = op + suffix
                # CO: a matching value satisfies a positive operator and fails its negation.
                rows.append(pytest.param(name, policy, good, not negated, id=f"CO-{name}-match"))
                rows.append(pytest.param(name, policy, bad, negated, id=f"CO-{name}-nomatch"))
                # CO "missing key": positive false, negated true; IFX: IfExists true when absent.
                rows.append(pytest.param(name, policy, None, negated or bool(suffix), id=f"IFX-{name}-absent"))
    return rows


@pytest.mark.parametrize("operator,policy,request_value,expected", _rows())
def test_operator_present_absent_ifexists(operator: str, policy: str, request_value: str | None, expected: bool) -> None:
    context = {} if request_value is None else {KEY: [request_value]}
    assert allows({operator: {KEY: policy}}, context) is expected


# CO: values of the wrong type never satisfy the operator nor its negation.
@pytest.mark.parametrize("operator,policy,value", [
    pytest.param("NumericEquals", "10", "ten", id="CO-numeric-not-a-number"),
    pytest.param("NumericNotEquals", "10", "ten", id="CO-numeric-not-negated-not-a-number"),
    pytest.param("DateLessThan", "2020-01-01", "yesterday", id="CO-date-not-a-date"),
    pytest.param("DateNotEquals", "2020-01-01", "yesterday", id="CO-date-not-negated-not-a-date"),
    pytest.param("IpAddress", "10.0.0.0/8", "not-an-ip", id="CO-ip-not-an-address"),
    pytest.param("NotIpAddress", "10.0.0.0/8", "not-an-ip", id="CO-notip-not-an-address"),
    pytest.param("Bool", "true", "yes", id="CO-bool-not-boolean"),
    pytest.param("ArnLike", "arn:aws:s3:::b/*", "not-an-arn", id="CO-arn-not-an-arn"),
    pytest.param("ArnNotLike", "arn:aws:s3:::b/*", "not-an-arn", id="CO-arnnot-not-an-arn"),
])
def test_type_mismatch_is_false(operator: str, policy: str, value: str) -> None:
    assert allows({operator: {KEY: policy}}, {KEY: [value]}) is False


# CO: operator-specific details.
@pytest.mark.parametrize("operator,policy,value,expected", [
    pytest.param("StringEquals", "abc", "ABC", False, id="CO-string-equals-case-sensitive"),
    pytest.param("StringEqualsIgnoreCase", "ABC", "abc", True, id="CO-string-ignorecase"),
    pytest.param("StringNotEqualsIgnoreCase", "ABC", "abc", False, id="CO-string-not-ignorecase"),
    pytest.param("StringLike", "a?c", "abc", True, id="CO-like-question-mark"),
    pytest.param("StringLike", "a?c", "abbc", False, id="CO-like-question-is-one-char"),
    pytest.param("StringLike", "*", "", True, id="CO-like-star-matches-empty"),
    pytest.param("StringLike", "ABC*", "abcd", False, id="CO-like-case-sensitive"),
    pytest.param("StringLike", "a.c", "abc", False, id="CO-like-dot-is-literal"),
    pytest.param("NumericEquals", "1.5", "1.50", True, id="CO-numeric-decimal"),
    pytest.param("NumericLessThan", "-1", "-2", True, id="CO-numeric-negative"),
    pytest.param("NumericEquals", 10, "10", True, id="CO-numeric-json-number"),
    pytest.param("DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", True, id="CO-date-day-only"),
    pytest.param("DateEquals", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", True, id="CO-date-offset"),
    pytest.param("DateLessThan", "1577836800", "2019-12-31T23:59:59Z", True, id="CO-date-epoch-policy"),
    pytest.param("DateGreaterThan", "2020-01-01T00:00:00.500Z", "2020-01-01T00:00:00.600Z", True, id="CO-date-fraction"),
    pytest.param("Bool", "true", "TRUE", True, id="CO-bool-case-insensitive"),
    pytest.param("Bool", True, "true", True, id="CO-bool-json-true"),
    pytest.param("Bool", "false", "false", True, id="CO-bool-false"),
    pytest.param("IpAddress", "203.0.113.5", "203.0.113.5", True, id="CO-ip-single-address"),
    pytest.param("IpAddress", "203.0.113.5", "203.0.113.6", False, id="CO-ip-single-address-other"),
    pytest.param("IpAddress", "2001:db8::/32", "2001:db8:1::7", True, id="CO-ip-ipv6"),
    pytest.param("IpAddress", "2001:db8::/32", "2001:db9::7", False, id="CO-ip-ipv6-outside"),
    pytest.param("IpAddress", "10.0.0.0/8", "2001:db8::1", False, id="CO-ip-version-mismatch"),
    pytest.param("NotIpAddress", "10.0.0.0/8", "2001:db8::1", True, id="CO-notip-version-mismatch"),
    pytest.param("ArnLike", "arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/a", True, id="CO-arn-wildcard-account"),
    pytest.param("ArnLike", "arn:aws:iam::*:user/*", "arn:aws:iam::1:2:user/a", False, id="CO-arn-star-stays-in-component"),
    pytest.param("ArnLike", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y", True, id="CO-arn-resource-part-may-hold-colons"),
    pytest.param("ArnEquals", "arn:aws:s3:::B/*", "arn:aws:s3:::b/x", False, id="CO-arn-case-sensitive"),
    pytest.param("ArnLike", "arn:aws:sns:us-?ast-1:*:topic", "arn:aws:sns:us-east-1:123456789012:topic", True, id="CO-arn-question"),
    pytest.param("BinaryEquals", "aGVsbG8=", "hello", True, id="CO-binary-raw-request-value"),
])
def test_operator_details(operator: str, policy: Any, value: str, expected: bool) -> None:
    assert allows({operator: {KEY: policy}}, {KEY: [value]}) is expected


# NULL: "Null": "true" passes when the key is absent; "false" when present.
@pytest.mark.parametrize("policy,context,expected", [
    pytest.param("true", None, True, id="NULL-true-absent"),
    pytest.param("true", ["x"], False, id="NULL-true-present"),
    pytest.param("false", None, False, id="NULL-false-absent"),
    pytest.param("false", ["x"], True, id="NULL-false-present"),
    pytest.param(True, None, True, id="NULL-json-true"),
    pytest.param("TRUE", None, True, id="NULL-case-insensitive-value"),
    pytest.param(["true", "false"], ["x"], True, id="NULL-or-of-values"),
    pytest.param("true", [], True, id="NULL-empty-list-is-absent"),
])
def test_null(policy: Any, context: list[str] | None, expected: bool) -> None:
    ctx = {} if context is None else {KEY: context}
    assert allows({"Null": {KEY: policy}}, ctx) is expected


# MV: ForAnyValue / ForAllValues.
@pytest.mark.parametrize("operator,policy,context,expected", [
    pytest.param("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True, id="MV-any-one-matches"),
    pytest.param("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], False, id="MV-any-none-match"),
    pytest.param("ForAnyValue:StringEquals", ["a"], None, False, id="MV-any-absent-false"),
    pytest.param("ForAnyValue:StringEquals", ["a"], [], False, id="MV-any-empty-false"),
    pytest.param("ForAnyValue:StringEqualsIfExists", ["a"], None, False, id="MV-any-ifexists-absent-false"),
    pytest.param("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True, id="MV-all-every-matches"),
    pytest.param("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False, id="MV-all-one-fails"),
    pytest.param("ForAllValues:StringEquals", ["a"], None, True, id="MV-all-absent-true"),
    pytest.param("ForAllValues:StringEquals", ["a"], [], True, id="MV-all-empty-true"),
    pytest.param("ForAllValues:StringLike", ["aws:dynamodb:*"], ["aws:dynamodb:tableName", "aws:dynamodb:x"], True, id="MV-all-like"),
    pytest.param("ForAllValues:StringLike", ["aws:dynamodb:*"], ["aws:dynamodb:tableName", "other"], False, id="MV-all-like-fails"),
    pytest.param("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True, id="MV-any-negated-one-differs"),
    pytest.param("ForAnyValue:StringNotEquals", ["a"], ["a"], False, id="MV-any-negated-all-equal"),
    pytest.param("ForAnyValue:StringNotEquals", ["a"], None, False, id="MV-any-negated-absent-false"),
    pytest.param("ForAllValues:StringNotEquals", ["a"], ["b", "c"], True, id="MV-all-negated-none-equal"),
    pytest.param("ForAllValues:StringNotEquals", ["a"], ["b", "a"], False, id="MV-all-negated-one-equal"),
    pytest.param("ForAllValues:StringNotEquals", ["a"], None, True, id="MV-all-negated-absent-true"),
    pytest.param("ForAnyValue:StringEqualsIgnoreCase", ["A"], ["a"], True, id="MV-any-ignorecase"),
    pytest.param("ForAllValues:StringNotLike", ["x*"], ["ya", "yb"], True, id="MV-all-notlike"),
    pytest.param("ForAnyValue:StringLike", ["x*"], ["ya", "xb"], True, id="MV-any-like"),
    pytest.param("ForAnyValue:ArnLike", ["arn:aws:s3:::b/*"], ["arn:aws:s3:::c/1", "arn:aws:s3:::b/1"], True, id="MV-any-arn"),
    pytest.param("ForAllValues:NumericLessThan", ["10"], ["1", "2"], True, id="MV-all-numeric"),
    pytest.param("ForAllValues:NumericLessThan", ["10"], ["1", "20"], False, id="MV-all-numeric-fails"),
    pytest.param("ForAnyValue:IpAddress", ["10.0.0.0/8"], ["192.0.2.1", "10.2.3.4"], True, id="MV-any-ip"),
    pytest.param("forallvalues:stringequals", ["a"], ["a"], True, id="MV-prefix-case-insensitive"),
    # MV: a single-valued operator on a multivalued key: any value for positive, none for negated.
    pytest.param("StringEquals", ["a"], ["b", "a"], True, id="MV-single-op-positive-any"),
    pytest.param("StringEquals", ["a"], ["b", "c"], False, id="MV-single-op-positive-none"),
    pytest.param("StringNotEquals", ["a"], ["b", "a"], False, id="MV-single-op-negated-one-equal"),
    pytest.param("StringNotEquals", ["a"], ["b", "c"], True, id="MV-single-op-negated-none-equal"),
])
def test_set_operators(operator: str, policy: list[str], context: list[str] | None, expected: bool) -> None:
    ctx = {} if context is None else {KEY: context}
    assert allows({operator: {KEY: policy}}, ctx) is expected


# AND-OR: values OR, keys AND, operators AND; key names case-insensitive, values case-sensitive.
@pytest.mark.parametrize("condition,context,expected", [
    pytest.param({"StringEquals": {KEY: ["a", "b"]}}, {KEY: "b"}, True, id="ANDOR-values-are-or"),
    pytest.param({"StringEquals": {"k1": "a", "k2": "b"}}, {"k1": "a", "k2": "b"}, True, id="ANDOR-keys-and-both"),
    pytest.param({"StringEquals": {"k1": "a", "k2": "b"}}, {"k1": "a", "k2": "x"}, False, id="ANDOR-keys-and-one-fails"),
    pytest.param({"StringEquals": {"k1": "a"}, "Bool": {"k2": "true"}}, {"k1": "a", "k2": "true"}, True, id="ANDOR-ops-and-both"),
    pytest.param({"StringEquals": {"k1": "a"}, "Bool": {"k2": "true"}}, {"k1": "a", "k2": "false"}, False, id="ANDOR-ops-and-one-fails"),
    pytest.param({"StringEquals": {"k1": "a"}, "Bool": {"k2": "true"}}, {"k1": "a"}, False, id="ANDOR-ops-and-one-absent"),
    pytest.param({"StringEquals": {"KMS:ViaService": "s"}}, {"kms:viaservice": "s"}, True, id="ANDOR-key-names-case-insensitive"),
    pytest.param({"StringEquals": {"kms:viaservice": "s"}}, {"KMS:VIASERVICE": ["s"]}, True, id="ANDOR-key-names-case-insensitive-2"),
    pytest.param({"StringEquals": {KEY: "Value"}}, {KEY: "value"}, False, id="ANDOR-values-case-sensitive"),
    pytest.param({"StringEquals": {KEY: "x"}}, {KEY: "x"}, True, id="ANDOR-bare-string-context-value"),
    pytest.param({}, {}, True, id="ANDOR-empty-condition-block"),
])
def test_and_or(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert allows(condition, context) is expected


# CO: an unknown operator never matches (the loader rejects it separately).
@pytest.mark.parametrize("operator", [
    pytest.param("StringEqualz", id="CO-unknown-typo"),
    pytest.param("NullIfExists", id="CO-null-has-no-ifexists"),
    pytest.param("ForAnyValue:Null", id="CO-null-has-no-set-prefix"),
    pytest.param("ForSomeValues:StringEquals", id="CO-unknown-set-prefix"),
])
def test_unknown_operator_never_matches(operator: str) -> None:
    assert allows({operator: {KEY: "a"}}, {KEY: "a"}) is False


def test_unknown_operator_in_deny_does_not_deny() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bogus": {KEY: "a"}}}]}
    request = Request(P, "s3:GetObject", "*", {KEY: "a"})
    assert evaluate(request, PolicyInputs(identity=[PolicySource("identity", "t", doc)])).allowed


# IFX and CO combined on Deny statements: a negated Deny condition on an absent key denies.
@pytest.mark.parametrize("operator,context,denied", [
    pytest.param("StringNotEquals", {}, True, id="IFX-deny-negated-absent-denies"),
    pytest.param("StringNotEqualsIfExists", {}, True, id="IFX-deny-negated-ifexists-absent-denies"),
        pytest.param("StringEqualsIfExists", {}, True, id="IFX-deny-positive-ifexists-absent-denies"),
    pytest.param("StringEquals", {}, False, id="IFX-deny-positive-absent-no-deny"),
    pytest.param("StringNotEquals", {KEY: "ok"}, False, id="IFX-deny-negated-present-equal"),
    pytest.param("StringNotEquals", {KEY: "bad"}, True, id="IFX-deny-negated-present-different"),
])
def test_deny_with_conditions(operator: str, context: dict[str, Any], denied: bool) -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {operator: {KEY: "ok"}}}]}
    decision = evaluate(Request(P, "s3:GetObject", "*", context), PolicyInputs(identity=[PolicySource("identity", "t", doc)]))
    assert (decision.decision == "explicitDeny") is denied


# Global keys passed through the request context (IAM "AWS global condition context keys",
# KMS "AWS KMS condition keys", DynamoDB "dynamodb:LeadingKeys").
@pytest.mark.parametrize("condition,context,expected", [
    pytest.param({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["true"]}, True, id="GK-secure-transport"),
    pytest.param({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["false"]}, False, id="GK-secure-transport-false"),
    pytest.param({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, {"aws:SourceIp": "192.0.2.9"}, True, id="GK-source-ip"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2025-06-01T12:00:00Z"}, True, id="GK-current-time"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {}, False, id="GK-current-time-only-if-given"),
    pytest.param({"NumericLessThan": {"aws:EpochTime": "1900000000"}}, {"aws:EpochTime": "1700000000"}, True, id="GK-epoch-time"),
    pytest.param({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, {"aws:RequestedRegion": "eu-west-1"}, True, id="GK-requested-region"),
    pytest.param({"StringEquals": {"kms:CallerAccount": "123456789012"}}, {"kms:CallerAccount": "123456789012"}, True, id="GK-kms-caller-account"),
    pytest.param({"StringEquals": {"kms:EncryptionContext:aws:dynamodb:tableName": "orders"}},
                 {"kms:EncryptionContext:aws:dynamodb:tableName": "orders"}, True, id="GK-kms-encryption-context"),
    pytest.param({"StringEquals": {"kms:EncryptionContext:aws:dynamodb:tableName": "orders"}},
                 {"kms:encryptioncontext:AWS:DynamoDB:TableName": "orders"}, True, id="GK-kms-ec-key-case-insensitive"),
    pytest.param({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]}},
                 {"kms:EncryptionContextKeys": ["a"]}, True, id="GK-kms-ec-keys-multivalued"),
    pytest.param({"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}},
                 {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, True, id="GK-kms-algorithm"),
    pytest.param({"Bool": {"kms:GrantIsForAWSResource": "true"}}, {"kms:GrantIsForAWSResource": True}, True, id="GK-kms-grant-for-aws-resource"),
    pytest.param({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:userid}"}},
                 {"dynamodb:LeadingKeys": ["AIDA1"], "aws:userid": "AIDA1"}, True, id="GK-dynamodb-leading-keys"),
    pytest.param({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:userid}"}},
                 {"dynamodb:LeadingKeys": ["AIDA1", "AIDA2"], "aws:userid": "AIDA1"}, False, id="GK-dynamodb-leading-keys-other"),
])
def test_global_keys(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert allows(condition, context) is expected


# Principal-derived keys (IAM "AWS global condition context keys — principal properties").
@pytest.mark.parametrize("condition,principal,context,expected", [
    pytest.param({"StringEquals": {"aws:username": "tester"}}, P, {}, True, id="PK-username-from-user-arn"),
    pytest.param({"StringEquals": {"aws:PrincipalArn": P.arn}}, P, {}, True, id="PK-principal-arn"),
    pytest.param({"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, P, {}, True, id="PK-principal-account"),
    pytest.param({"StringEquals": {"aws:PrincipalType": "User"}}, P, {}, True, id="PK-principal-type"),
    pytest.param({"StringEquals": {"aws:userid": "AIDAX"}}, Principal(P.arn, P.account, userid="AIDAX"), {}, True, id="PK-userid"),
    pytest.param({"Null": {"aws:userid": "true"}}, P, {}, True, id="PK-userid-absent-when-unknown"),
    pytest.param({"StringEquals": {"aws:PrincipalTag/Team": "blue"}}, Principal(P.arn, P.account, tags={"team": "blue"}), {}, True, id="PK-principal-tag-key-case-insensitive"),
    pytest.param({"StringEquals": {"aws:PrincipalTag/team": "Blue"}}, Principal(P.arn, P.account, tags={"team": "blue"}), {}, False, id="PK-principal-tag-value-case-sensitive"),
    pytest.param({"Null": {"aws:PrincipalTag/team": "true"}}, P, {}, True, id="PK-principal-tag-absent"),
    pytest.param({"StringEquals": {"aws:username": "override"}}, P, {"aws:username": "override"}, True, id="PK-context-overrides-derived"),
    pytest.param({"Null": {"aws:username": "true"}},
                 Principal("arn:aws:sts::123456789012:assumed-role/R/s", "123456789012", type="AssumedRole"), {}, True,
                 id="PK-no-username-for-roles"),
    pytest.param({"StringEquals": {"aws:userid": "123456789012"}},
                 Principal("arn:aws:iam::123456789012:root", "123456789012", type="Account"), {}, True, id="PK-root-userid-is-account"),
    # "aws:PrincipalArn": for IAM roles the ARN of the role, not of the session (path kept).
    pytest.param({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ops/R"}},
                 Principal("arn:aws:sts::123456789012:assumed-role/R/s", "123456789012", type="AssumedRole",
                           role_arn="arn:aws:iam::123456789012:role/ops/R"), {}, True, id="PK-session-principal-arn-is-role"),
    pytest.param({"StringEquals": {"aws:PrincipalArn": "arn:aws:sts::123456789012:assumed-role/R/s"}},
                 Principal("arn:aws:sts::123456789012:assumed-role/R/s", "123456789012", type="AssumedRole"), {}, False,
                 id="PK-session-principal-arn-is-never-the-session"),
    pytest.param({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/R"}},
                 Principal("arn:aws:sts::123456789012:assumed-role/R/s", "123456789012", type="AssumedRole"), {}, True,
                 id="PK-session-principal-arn-without-known-path"),
])
def test_principal_keys(condition: dict[str, Any], principal: Principal, context: dict[str, Any], expected: bool) -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}]}
    request = Request(principal, "s3:GetObject", "*", context)
    inputs = PolicyInputs(identity=[PolicySource("identity", "t", doc)])
    decision = evaluate(request, inputs)
    if principal.type == "Account":   # the root user is allowed anyway; check the statement matched
        assert bool(decision.matched) is expected
    else:
        assert decision.allowed is expected
