"""Policy document parsing, caching and grammar validation.

Cites the IAM User Guide "IAM JSON policy element reference" (DOC),
"Grammar of the IAM JSON policy language" (GRAMMAR) and "IAM JSON policy
elements: Version" (VER).
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.authz.engine.documents import PolicyCache, PolicyError
from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.engine.positions import statement_positions
from orchestrator.authz.engine.validation import check_policy, policy_problems

USER = Principal(arn="arn:aws:iam::123456789012:user/tester", account="123456789012")
ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def decide(document: Any) -> str:
    return evaluate(Request(USER, "s3:GetObject", "*"), PolicyInputs(identity=[PolicySource("identity", "p", document)])).decision


@pytest.mark.parametrize("document,decision", [
    pytest.param({"Version": "2012-10-17", "Statement": [ALLOW]}, "allowed", id="DOC-dict-statement-list"),
    pytest.param({"Version": "2012-10-17", "Statement": ALLOW}, "allowed", id="DOC-single-statement-object"),
    pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [ALLOW]}), "allowed", id="DOC-json-text"),
    pytest.param({"Statement": [ALLOW]}, "allowed", id="VER-version-optional"),
    pytest.param({"Version": "2012-10-17", "Id": "x", "Statement": [dict(ALLOW, Sid="S1")]}, "allowed", id="DOC-id-and-sid"),
    pytest.param({"Version": "2012-10-17", "Statement": [dict(ALLOW, Action=["s3:PutObject"])]}, "implicitDeny", id="DOC-action-list"),
])
def test_document_forms(document: Any, decision: str) -> None:
    assert decide(document) == decision


@pytest.mark.parametrize("document,fragment", [
    pytest.param("{not json", "not valid JSON", id="DOC-invalid-json"),
    pytest.param("[]", "JSON object", id="DOC-not-an-object"),
    pytest.param({"Version": "2012-10-17"}, "Statement", id="DOC-no-statement"),
    pytest.param({"Statement": []}, "Statement", id="DOC-empty-statement-list"),
    pytest.param({"Statement": ["x"]}, "not a JSON object", id="DOC-statement-not-object"),
    pytest.param({"Statement": [dict(ALLOW, Effect="allow")]}, "Effect", id="DOC-effect-case-sensitive"),
])
def test_uninterpretable_documents_raise(document: Any, fragment: str) -> None:
    with pytest.raises(PolicyError, match=fragment):
        decide(document)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_dict_documents_cached_by_identity() -> None:
    document = {"Version": "2012-10-17", "Statement": [ALLOW]}
    cache = PolicyCache()
    assert cache.get(document, False) is cache.get(document, False)
    assert cache.get(document, True) is not cache.get(document, False)
    assert cache.get(dict(document), False) is not cache.get(document, False)


def test_text_documents_cached_by_value() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [ALLOW]})
    cache = PolicyCache()
    assert cache.get(text, False) is cache.get("".join(list(text)), False)


def _identity(statement: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement], **top}


@pytest.mark.parametrize("document,resource_based,fragment", [
    pytest.param(_identity(ALLOW), False, None, id="GRAMMAR-valid-identity"),
    pytest.param(_identity(dict(ALLOW, Principal="*")), True, None, id="GRAMMAR-valid-resource"),
    pytest.param(_identity({"Effect": "Allow", "Action": "*", "Principal": {"AWS": "123456789012"}}), True, None, id="GRAMMAR-resource-policy-resource-optional"),
    pytest.param(_identity(ALLOW, Version="2020-01-01"), False, "Version", id="VER-unknown-version"),
    pytest.param(_identity(ALLOW, Extra=1), False, "unknown top-level element", id="GRAMMAR-unknown-top"),
    pytest.param(_identity(dict(ALLOW, Effect="Maybe")), False, "Effect", id="GRAMMAR-effect"),
    pytest.param(_identity({"Effect": "Allow", "Resource": "*"}), False, "missing Action or NotAction", id="GRAMMAR-action-required"),
    pytest.param(_identity(dict(ALLOW, NotAction="s3:x")), False, "either Action or NotAction", id="GRAMMAR-action-and-notaction"),
    pytest.param(_identity({"Effect": "Allow", "Action": "*"}), False, "missing Resource", id="GRAMMAR-identity-needs-resource"),
    pytest.param(_identity(dict(ALLOW, Action=5)), False, "string or a list of strings", id="GRAMMAR-action-type"),
    pytest.param(_identity(dict(ALLOW, Principal="*")), False, "not allowed in an identity-based policy", id="GRAMMAR-identity-no-principal"),
    pytest.param(_identity(ALLOW), True, "exactly one of Principal or NotPrincipal", id="GRAMMAR-resource-needs-principal"),
    pytest.param(_identity(dict(ALLOW, NotPrincipal={"AWS": "123456789012"})), True, "only with Effect Deny", id="GRAMMAR-notprincipal-allow"),
    pytest.param(_identity(dict(ALLOW, Principal={"Group": "x"})), True, "unknown principal type", id="GRAMMAR-principal-type"),
    pytest.param(_identity(dict(ALLOW, Principal="arn:aws:iam::1:root")), True, "Principal must be", id="GRAMMAR-principal-string"),
    pytest.param(_identity(dict(ALLOW, Foo=1)), False, "unknown element", id="GRAMMAR-unknown-statement-element"),
    pytest.param(_identity(dict(ALLOW, Condition=[])), False, "Condition must be an object", id="GRAMMAR-condition-type"),
    pytest.param(_identity(dict(ALLOW, Condition={"StringEquals": "x"})), False, "must map condition keys", id="GRAMMAR-condition-entries"),
    pytest.param(_identity(dict(ALLOW, Condition={"StringEquals": {"k": {"a": 1}}})), False, "needs string", id="GRAMMAR-condition-value-type"),
    pytest.param(_identity(dict(ALLOW, Condition={"StringEquals": {"k": []}})), False, "needs string", id="GRAMMAR-condition-empty-values"),
    pytest.param(_identity(dict(ALLOW, Condition={"NumericLessThan": {"k": "ten"}})), False, "not a valid value", id="GRAMMAR-numeric-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"DateLessThan": {"k": "soon"}})), False, "not a valid value", id="GRAMMAR-date-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"IpAddress": {"k": "999.1.1.1"}})), False, "not a valid value", id="GRAMMAR-ip-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"Bool": {"k": "yes"}})), False, "not true or false", id="GRAMMAR-bool-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"Null": {"k": "maybe"}})), False, "not true or false", id="GRAMMAR-null-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"BinaryEquals": {"k": "!!"}})), False, "not base-64", id="GRAMMAR-binary-value"),
    pytest.param(_identity(dict(ALLOW, Condition={"BinaryEquals": {"k": "aGVsbG8="}})), False, None, id="GRAMMAR-binary-ok"),
    pytest.param(_identity(dict(ALLOW, Condition={"StringLikeIfExists": {"k": ["a", 1, True]}})), False, None, id="GRAMMAR-mixed-scalars-ok"),
    pytest.param(_identity(dict(ALLOW, Condition={"ForAllValues:StringEquals": {"k": "a"}})), False, None, id="GRAMMAR-set-prefix-ok"),
    pytest.param(_identity(dict(ALLOW, Condition={"NumericLessThan": {"k": "${aws:x}"}})), False, None, id="GRAMMAR-variable-values-not-typed"),
    pytest.param("{", False, "not valid JSON", id="GRAMMAR-json"),
])
def test_validation(document: Any, resource_based: bool, fragment: str | None) -> None:
    problems = policy_problems(json.dumps(document) if not isinstance(document, str) else document, resource_based)
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in p for p in problems), problems


def test_check_policy_raises_first_problem() -> None:
    with pytest.raises(PolicyError, match="Effect"):
        check_policy({"Statement": [dict(ALLOW, Effect="x")]}, False)


@pytest.mark.parametrize("text,expected", [
    pytest.param('{"Statement":{"Effect":"Allow"}}', (((1, 14), (1, 32)),), id="POS-single-object"),
    pytest.param('{"Version":"2012-10-17","Statement":[{"a":1},{"b":2}]}', (((1, 38), (1, 45)), ((1, 46), (1, 53))), id="POS-list"),
    pytest.param('{"Id":{"x":[1]},\n"Statement":[\n  {"a":"}"}]}', (((3, 3), (3, 12)),), id="POS-multi-line-and-braces-in-strings"),
    pytest.param("not json", (), id="POS-unparseable"),
])
def test_statement_positions(text: str, expected: tuple[Any, ...]) -> None:
    assert statement_positions(text) == expected
