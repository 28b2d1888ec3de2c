"""The engine's precompiled fast paths decide as the general paths do.

Policy.candidates (statements whose Action element takes the action, worked out once per
action), Statement.applies_to_matched, Condition's one-loop check of positive operators, and
the StatementRefs remembered per statement.
"""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.authz.engine.conditions import ALL, Condition, _outcome, compile_conditions
from orchestrator.authz.engine.documents import compile_policy
from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, StatementRef, evaluate, service_engine

ACCOUNT = "123456789012"
P = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)


class _Context:
    def __init__(self, values: dict[str, tuple[str, ...]]) -> None:
        self.values = values

    def get(self, key: str) -> tuple[str, ...] | None:
        return self.values.get(key)


def _general(condition: Condition, context: _Context, missing: list[str]) -> bool:
    """Condition.check's general path (as it was before the one-loop path), for comparison."""
    values = context.get(condition.key_l)
    if not values:
        missing.append(condition.key)
        if condition.set_op is not None:
            return condition.set_op == ALL
        return condition.if_exists or condition.negated
    assert condition.tester is not None
    return any(_outcome(condition.tester(v), condition.negated) for v in values)


@pytest.mark.parametrize("operator, policy, request_values", [
    ("StringEquals", "a", ("b", "a")),
    ("StringEquals", ["a", "b"], ("c",)),
    ("StringLike", "a*", ("xa", "ab")),
    ("StringEqualsIfExists", "a", ()),
    ("StringEquals", "a", ()),
    ("NumericLessThan", "10", ("abc", "5")),     # a value of another type does not satisfy it
    ("NumericLessThan", "10", ("abc",)),
    ("IpAddress", "10.0.0.0/8", ("nope", "10.1.1.1")),
    ("BoolIfExists", "true", ("false",)),
])
def test_positive_operators_check_in_one_loop_as_the_general_path(
        operator: str, policy: Any, request_values: tuple[str, ...]) -> None:
    [condition] = compile_conditions({operator: {"k:Key": policy}}, True)
    assert condition.simple
    context = _Context({"k:key": request_values} if request_values else {})
    fast_missing: list[str] = []
    slow_missing: list[str] = []
    assert condition.check(context, fast_missing) == _general(condition, context, slow_missing)
    assert fast_missing == slow_missing


@pytest.mark.parametrize("block", [
    {"StringNotEquals": {"k": "a"}}, {"ForAnyValue:StringEquals": {"k": "a"}},
    {"ForAllValues:StringEquals": {"k": "a"}}, {"Null": {"k": "true"}},
    {"StringEquals": {"k": "${aws:username}"}}, {"Bogus": {"k": "a"}}, {"StringEquals": "broken"},
])
def test_other_conditions_keep_the_general_path(block: dict[str, Any]) -> None:
    assert not any(condition.simple for condition in compile_conditions(block, True))


def test_a_broken_condition_block_never_matches() -> None:
    [condition] = compile_conditions({"StringEquals": "broken"}, True)
    assert not condition.check(_Context({"": ("x",)}), [])


def test_candidates_are_the_valid_statements_whose_action_matches_in_order() -> None:
    policy = compile_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:Get*", "KMS:DECRYPT"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt"},                  # no Resource: invalid
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
    ]}, False)
    assert [s.index for s in policy.candidates("kms:decrypt")] == [0, 2, 4]
    assert [s.index for s in policy.candidates("s3:getobject")] == [1, 2]
    assert policy.candidates("kms:decrypt") is policy.candidates("kms:decrypt")
    for action in ("kms:decrypt", "s3:getobject", "iam:getuser"):
        expected = [s.index for s in policy.statements if s.applies(action, "arn:x", P, _Context({}), [], [])]
        assert [s.index for s in policy.candidates(action)
                if s.applies_to_matched("arn:x", P, _Context({}), [], []) is not None] == expected


def test_matched_statement_refs_are_the_same_values_decision_after_decision() -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    request = Request(P, "s3:GetObject", "arn:aws:s3:::b/k")
    first = evaluate(request, PolicyInputs(identity=[PolicySource("identity", "one", document)]))
    again = evaluate(request, PolicyInputs(identity=[PolicySource("identity", "one", document)]))
    other = evaluate(request, PolicyInputs(identity=[PolicySource("identity", "two", document)]))
    assert first == again
    assert first.matched == (StatementRef("identity", "one", "Read", 0, "Allow"),)
    assert other.matched == (StatementRef("identity", "two", "Read", 0, "Allow"),)


def test_a_hot_wildcard_resource_still_matches_after_it_turns_into_a_regex() -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::a*/x", "arn:aws:s3:::b*/y"]}]}
    inputs = PolicyInputs(identity=[PolicySource("identity", "p", document)])
    engine = service_engine()   # one engine: the compiled policy, and its matchers, are kept
    for _ in range(100):        # past matching._Glob.HOT
        assert engine.evaluate(Request(P, "s3:GetObject", "arn:aws:s3:::bb/y"), inputs).allowed
        assert not engine.evaluate(Request(P, "s3:GetObject", "arn:aws:s3:::bb/x"), inputs).allowed
