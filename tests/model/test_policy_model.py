"""Policy documents: AWS's shorthand accepted, malformed statements rejected (IAM JSON policy elements reference)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrator.model.policy import IdentityPolicyDocument, ResourcePolicyDocument, base_operator


@pytest.mark.parametrize(
    "operator,base",
    [
        ("StringEquals", "StringEquals"),
        ("StringLikeIfExists", "StringLike"),
        ("ForAnyValue:StringEquals", "StringEquals"),
        ("ForAllValues:ArnLikeIfExists", "ArnLike"),
        ("NotIpAddress", "NotIpAddress"),
        ("Null", "Null"),
        ("NullIfExists", None),  # AWS documents no IfExists form of Null
        ("StringEqualz", None),
        ("ForSomeValues:StringEquals", None),
    ],
)
def test_condition_operators(operator: str, base: str | None) -> None:
    assert base_operator(operator) == base


def test_shorthand_single_statement_and_strings() -> None:
    document = IdentityPolicyDocument.model_validate(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}}
    )
    [statement] = document.statements()
    assert statement.action == "dynamodb:*"


@pytest.mark.parametrize(
    "statement,fragment",
    [
        ({"Effect": "Allow", "Resource": "*"}, "exactly one of Action or NotAction"),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*", "NotResource": "*"}, "Resource or NotResource, not both"),
        ({"Effect": "Allow", "Action": "s3:Get*"}, "needs Resource or NotResource"),
        ({"Effect": "Allow", "Action": "s3 Get", "Resource": "*"}, "is not an action"),
        ({"Effect": "Allow", "Action": "s3:Get", "Resource": "*", "Condition": {"Null": {}}}, "needs at least one condition key"),
        ({"Effect": "allow", "Action": "s3:Get", "Resource": "*"}, "'Allow' or 'Deny'"),
    ],
)
def test_bad_identity_statements(statement: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        IdentityPolicyDocument.model_validate({"Statement": [statement]})
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "principal,ok",
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": "123456789012"}, True),
        ({"AWS": "arn:aws:iam::123456789012:root"}, True),
        ({"AWS": ["user:tester", "account"]}, True),
        ({"Service": "dynamodb.amazonaws.com"}, True),
        ({"AWS": "12345"}, False),
        ({"AWS": "tester"}, False),
        ({}, False),
        ({"Aws": "*"}, False),
    ],
)
def test_principal_forms(principal: object, ok: bool) -> None:
    document = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}]}
    if ok:
        ResourcePolicyDocument.model_validate(document)
    else:
        with pytest.raises(ValidationError):
            ResourcePolicyDocument.model_validate(document)


def test_duplicate_sids_are_rejected() -> None:
    statement = {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "kms:*"}
    with pytest.raises(ValidationError, match="used by more than one statement"):
        ResourcePolicyDocument.model_validate({"Statement": [statement, statement]})


def test_not_principal_is_for_deny_only() -> None:
    """IAM User Guide, "AWS JSON policy elements: NotPrincipal": not supported with Effect Allow."""
    base = {"NotPrincipal": {"AWS": "user:tester"}, "Action": "kms:*", "Resource": "*"}
    document = ResourcePolicyDocument.model_validate({"Statement": {"Effect": "Deny", **base}})
    assert document.statements()[0].not_principal is not None
    with pytest.raises(ValidationError) as caught:
        ResourcePolicyDocument.model_validate({"Statement": [{"Effect": "Allow", **base}]})
    [error] = [e for e in caught.value.errors() if len(e["loc"]) > 2]  # the other union branch wants a dict
    assert error["loc"][2:] == (0, "NotPrincipal")
    assert "only in Deny statements" in error["msg"]
