"""Policy variables in Resource and Condition values.

Tables cite the IAM User Guide, "IAM policy elements: Variables and tags":
VAR-USE ("Using variables in policies"), VAR-VERSION ("the Version element
must be 2012-10-17"), VAR-DEFAULT ("Specifying default values"), VAR-SPECIAL
("Special characters": ${*}, ${?}, ${$}), VAR-NOVALUE ("Policy variables with
no value": the statement cannot match), VAR-TAGS ("Tags as policy variables").
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.engine.variables import parse_template, resolve

ACCOUNT = "123456789012"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account=ACCOUNT, userid="AIDAALICE",
                 tags={"team": "blue", "project": "orders"})
SESSION = Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s", account=ACCOUNT, type="AssumedRole",
                    userid="AROAX:s")


def allowed(resource_pattern: Any, resource: str, who: Principal = USER, version: str | None = "2012-10-17",
            context: dict[str, Any] | None = None) -> bool:
    document: dict[str, Any] = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resource_pattern}]}
    if version is not None:
        document["Version"] = version
    request = Request(who, "s3:GetObject", resource, context or {})
    return evaluate(request, PolicyInputs(identity=[PolicySource("identity", "t", document)])).allowed


@pytest.mark.parametrize("pattern,resource,who,expected", [
    pytest.param("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", USER, True, id="VAR-USE-username"),
    pytest.param("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", USER, False, id="VAR-USE-username-other"),
    pytest.param("arn:aws:s3:::home/${AWS:UserName}/*", "arn:aws:s3:::home/alice/x", USER, True, id="VAR-USE-key-case-insensitive"),
    pytest.param("arn:aws:s3:::home/${aws:userid}/*", "arn:aws:s3:::home/AIDAALICE/x", USER, True, id="VAR-USE-userid"),
    pytest.param("arn:aws:s3:::acct/${aws:PrincipalAccount}", f"arn:aws:s3:::acct/{ACCOUNT}", USER, True, id="VAR-USE-principal-account"),
    pytest.param("arn:aws:s3:::teams/${aws:PrincipalTag/team}/*", "arn:aws:s3:::teams/blue/x", USER, True, id="VAR-TAGS-principal-tag"),
    pytest.param("arn:aws:s3:::teams/${aws:PrincipalTag/team}/*", "arn:aws:s3:::teams/red/x", USER, False, id="VAR-TAGS-principal-tag-other"),
    pytest.param("arn:aws:s3:::teams/${aws:PrincipalTag/missing}/*", "arn:aws:s3:::teams//x", USER, False, id="VAR-NOVALUE-tag-absent"),
    pytest.param("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home//x", SESSION, False, id="VAR-NOVALUE-no-username-for-roles"),
    pytest.param("arn:aws:s3:::home/${aws:username, 'shared'}/*", "arn:aws:s3:::home/shared/x", SESSION, True, id="VAR-DEFAULT-used-when-absent"),
    pytest.param("arn:aws:s3:::home/${aws:username, 'shared'}/*", "arn:aws:s3:::home/alice/x", USER, True, id="VAR-DEFAULT-ignored-when-present"),
    pytest.param("arn:aws:s3:::home/${aws:username,'shared'}/*", "arn:aws:s3:::home/shared/x", SESSION, True, id="VAR-DEFAULT-no-space"),
    pytest.param("arn:aws:s3:::home/${aws:username, 'it''s'}/*", "arn:aws:s3:::home/it's/x", SESSION, True, id="VAR-DEFAULT-doubled-quote"),
    pytest.param("arn:aws:s3:::home/${aws:username, 'a*'}", "arn:aws:s3:::home/abc", SESSION, False, id="VAR-DEFAULT-is-literal"),
    pytest.param("arn:aws:s3:::home/${aws:username, 'a*'}", "arn:aws:s3:::home/a*", SESSION, True, id="VAR-DEFAULT-literal-star"),
    pytest.param("arn:aws:s3:::file${*}", "arn:aws:s3:::file*", USER, True, id="VAR-SPECIAL-literal-star"),
    pytest.param("arn:aws:s3:::file${*}", "arn:aws:s3:::fileX", USER, False, id="VAR-SPECIAL-star-not-wildcard"),
    pytest.param("arn:aws:s3:::file${?}", "arn:aws:s3:::file?", USER, True, id="VAR-SPECIAL-literal-question"),
    pytest.param("arn:aws:s3:::file${?}", "arn:aws:s3:::fileX", USER, False, id="VAR-SPECIAL-question-not-wildcard"),
    pytest.param("arn:aws:s3:::cost${$}", "arn:aws:s3:::cost$", USER, True, id="VAR-SPECIAL-literal-dollar"),
    pytest.param(["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::public/*"], "arn:aws:s3:::public/x", SESSION, True,
                 id="VAR-NOVALUE-other-values-still-match"),
    pytest.param("arn:aws:s3:::${aws:username}-${aws:PrincipalTag/project}", "arn:aws:s3:::alice-orders", USER, True, id="VAR-USE-two-variables"),
    pytest.param("arn:aws:s3:::${unterminated", "arn:aws:s3:::${unterminated", USER, True, id="VAR-USE-unterminated-is-literal"),
])
def test_resource_variables(pattern: Any, resource: str, who: Principal, expected: bool) -> None:
    assert allowed(pattern, resource, who) is expected


@pytest.mark.parametrize("version,resource,expected", [
    pytest.param("2012-10-17", "arn:aws:s3:::home/alice", True, id="VAR-VERSION-2012-substitutes"),
    pytest.param("2008-10-17", "arn:aws:s3:::home/alice", False, id="VAR-VERSION-2008-literal"),
    pytest.param("2008-10-17", "arn:aws:s3:::home/${aws:username}", True, id="VAR-VERSION-2008-matches-literal-text"),
    pytest.param(None, "arn:aws:s3:::home/alice", False, id="VAR-VERSION-missing-literal"),
    pytest.param(None, "arn:aws:s3:::home/${aws:username}", True, id="VAR-VERSION-missing-matches-literal-text"),
])
def test_version(version: str | None, resource: str, expected: bool) -> None:
    assert allowed("arn:aws:s3:::home/${aws:username}", resource, version=version) is expected


def cond_allowed(condition: dict[str, Any], who: Principal = USER, context: dict[str, Any] | None = None,
                 version: str = "2012-10-17") -> bool:
    document = {"Version": version, "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition}]}
    request = Request(who, "s3:GetObject", "*", context or {})
    return evaluate(request, PolicyInputs(identity=[PolicySource("identity", "t", document)])).allowed


@pytest.mark.parametrize("condition,who,context,expected", [
    pytest.param({"StringEquals": {"s3:prefix": "home/${aws:username}"}}, USER, {"s3:prefix": "home/alice"}, True, id="VAR-USE-condition-value"),
    pytest.param({"StringEquals": {"s3:prefix": "home/${aws:username}"}}, USER, {"s3:prefix": "home/bob"}, False, id="VAR-USE-condition-value-other"),
    pytest.param({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, USER, {"s3:prefix": "home/alice/docs"}, True, id="VAR-USE-condition-like"),
    pytest.param({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, SESSION, {"s3:prefix": "home//docs"}, False, id="VAR-NOVALUE-condition-positive"),
    pytest.param({"StringNotEquals": {"s3:prefix": "home/${aws:username}"}}, SESSION, {"s3:prefix": "x"}, False, id="VAR-NOVALUE-condition-negated-statement-invalid"),
    pytest.param({"StringEquals": {"s3:prefix": ["home/${aws:username}", "public"]}}, SESSION, {"s3:prefix": "public"}, True, id="VAR-NOVALUE-condition-other-value"),
    pytest.param({"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"}}, USER, {}, True, id="VAR-TAGS-tag-equals-itself"),
    pytest.param({"StringEquals": {"s3:ExistingObjectTag/team": "${aws:PrincipalTag/team}"}}, USER,
                 {"s3:ExistingObjectTag/team": "blue"}, True, id="VAR-TAGS-abac"),
    pytest.param({"StringEquals": {"s3:ExistingObjectTag/team": "${aws:PrincipalTag/team}"}}, USER,
                 {"s3:ExistingObjectTag/team": "red"}, False, id="VAR-TAGS-abac-mismatch"),
    pytest.param({"StringLike": {"k": "${*}x"}}, USER, {"k": "*x"}, True, id="VAR-SPECIAL-condition-literal-star"),
    pytest.param({"StringLike": {"k": "${*}x"}}, USER, {"k": "ax"}, False, id="VAR-SPECIAL-condition-star-not-wildcard"),
    pytest.param({"StringEquals": {"k": "${custom:key}"}}, USER, {"k": "v", "custom:key": "v"}, True, id="VAR-USE-any-context-key"),
    pytest.param({"StringEquals": {"k": "${custom:multi}"}}, USER, {"k": "v", "custom:multi": ["v", "w"]}, False, id="VAR-NOVALUE-multivalued-key"),
    pytest.param({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::${aws:username}-*"}}, USER, {"aws:SourceArn": "arn:aws:s3:::alice-b"}, True, id="VAR-USE-arn-like"),
])
def test_condition_variables(condition: dict[str, Any], who: Principal, context: dict[str, Any], expected: bool) -> None:
    assert cond_allowed(condition, who, context) is expected


def test_condition_variables_literal_under_2008() -> None:
    # VAR-VERSION: with Version 2008-10-17 the variable text is compared literally.
    assert cond_allowed({"StringEquals": {"k": "${aws:username}"}}, context={"k": "${aws:username}"}, version="2008-10-17")
    assert not cond_allowed({"StringEquals": {"k": "${aws:username}"}}, context={"k": "alice"}, version="2008-10-17")


def test_missing_variable_reported_as_missing_context() -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}
    decision = evaluate(Request(SESSION, "s3:GetObject", "arn:aws:s3:::home/x/y"),
                        PolicyInputs(identity=[PolicySource("identity", "t", document)]))
    assert decision.missing_context == ("aws:username",)


class _Ctx:
    def __init__(self, values: dict[str, tuple[str, ...]]) -> None:
        self.values = values

    def get(self, key: str) -> tuple[str, ...] | None:
        return self.values.get(key)


@pytest.mark.parametrize("text,context,expected", [
    pytest.param("a${x}b", {"x": ("1",)}, "a1b", id="VAR-USE-parse-middle"),
    pytest.param("${ x }", {"x": ("1",)}, "1", id="VAR-USE-spaces-around-key"),
    pytest.param("${x, 'd'}", {}, "d", id="VAR-DEFAULT-parse"),
    pytest.param("${x, 'd'}", {"x": ("1",)}, "1", id="VAR-DEFAULT-present"),
    pytest.param("${x, d}", {}, None, id="VAR-DEFAULT-unquoted-fails"),
    pytest.param("${}", {}, None, id="VAR-NOVALUE-empty-variable"),
    pytest.param("${x}", {}, None, id="VAR-NOVALUE-absent"),
    pytest.param("plain", {}, "plain", id="VAR-USE-no-variables"),
    pytest.param("${$}{x}", {}, "${x}", id="VAR-SPECIAL-dollar-escape"),
])
def test_template_resolution(text: str, context: dict[str, tuple[str, ...]], expected: str | None) -> None:
    segments = resolve(parse_template(text), _Ctx(context))
    assert (None if segments is None else "".join(t for t, _ in segments)) == expected
