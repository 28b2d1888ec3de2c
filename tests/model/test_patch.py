"""JSON Merge Patch (RFC 7386, with its appendix A examples) and Sid-addressed statements."""

from __future__ import annotations

import pytest

from orchestrator.model.patch import merge_patch

# RFC 7386, Appendix A: Example Test Cases.
RFC_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target,patch,result", RFC_CASES)
def test_rfc7386_examples(target: object, patch: object, result: object) -> None:
    assert merge_patch(target, patch) == result


POLICY = {"Statement": [{"Sid": "Admin", "Effect": "Allow", "Action": "kms:*"}, {"Sid": "Read", "Effect": "Allow", "Action": "kms:Decrypt"}]}


def test_statement_added_by_sid() -> None:
    out = merge_patch(POLICY, {"Statement": {"New": {"Effect": "Deny", "Action": "kms:Encrypt"}}})
    assert [s["Sid"] for s in out["Statement"]] == ["Admin", "Read", "New"]
    assert out["Statement"][2] == {"Sid": "New", "Effect": "Deny", "Action": "kms:Encrypt"}


def test_statement_removed_by_sid() -> None:
    out = merge_patch(POLICY, {"Statement": {"Read": None}})
    assert [s["Sid"] for s in out["Statement"]] == ["Admin"]


def test_statement_merged_by_sid() -> None:
    out = merge_patch(POLICY, {"Statement": {"Read": {"Effect": "Deny"}}})
    assert out["Statement"][1] == {"Sid": "Read", "Effect": "Deny", "Action": "kms:Decrypt"}


def test_statement_list_replaces_whole_and_target_is_untouched() -> None:
    out = merge_patch(POLICY, {"Statement": [{"Effect": "Allow", "Action": "*"}]})
    assert out["Statement"] == [{"Effect": "Allow", "Action": "*"}]
    assert len(POLICY["Statement"]) == 2


def test_single_statement_object_is_still_a_statement() -> None:
    out = merge_patch({"Statement": {"Sid": "A", "Effect": "Allow", "Action": "x:y"}}, {"Statement": {"Effect": "Deny", "Action": "x:z"}})
    assert out["Statement"] == {"Sid": "A", "Effect": "Deny", "Action": "x:z"}
