"""Each mutation operator makes the right mutant of a small policy, at the right site."""

from __future__ import annotations

from typing import Any

from orchestrator.analysis.mutants import (REMOVE, apply_mutant, drop_condition, merge_diff, mutants, sites,
                                           statement_mutations)
from orchestrator.model.patch import merge_patch

STATEMENT: dict[str, Any] = {
    "Sid": "ReaderUse", "Effect": "Allow", "Principal": {"AWS": "user:reader"},
    "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "key:data",
    "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com", "kms:CallerAccount": "123456789012"},
                  "Bool": {"aws:SecureTransport": "true"}},
}


def by_operator(statement: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any] | None]]]:
    found: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}
    for operator, detail, mutated in statement_mutations(statement):
        found.setdefault(operator, []).append((detail, mutated))
    return found


def test_delete_and_flip() -> None:
    ops = by_operator(STATEMENT)
    assert ops["delete-statement"] == [("", None)]
    assert ops["flip-effect"] == [("Allow -> Deny", {**STATEMENT, "Effect": "Deny"})]
    assert by_operator({**STATEMENT, "Effect": "Deny"})["flip-effect"][0][1]["Effect"] == "Allow"  # type: ignore[index]


def test_principal_widened_to_the_account_root_and_to_anyone() -> None:
    ops = by_operator(STATEMENT)
    assert ops["principal-account"] == [("AWS: user:reader -> account", {**STATEMENT, "Principal": {"AWS": "account"}})]
    assert ops["principal-any"] == [("AWS: user:reader -> *", {**STATEMENT, "Principal": "*"})]
    root = by_operator({**STATEMENT, "Principal": {"AWS": "account"}})
    assert "principal-account" not in root and len(root["principal-any"]) == 1
    assert "principal-any" not in by_operator({**STATEMENT, "Principal": "*"})
    identity = {k: v for k, v in STATEMENT.items() if k != "Principal"}
    assert not {"principal-account", "principal-any"} & set(by_operator(identity))


def test_each_condition_pair_dropped_alone() -> None:
    drops = dict(by_operator(STATEMENT)["drop-condition"])
    assert set(drops) == {"StringEquals kms:ViaService", "StringEquals kms:CallerAccount", "Bool aws:SecureTransport"}
    assert drops["StringEquals kms:ViaService"]["Condition"] == {  # type: ignore[index]
        "StringEquals": {"kms:CallerAccount": "123456789012"}, "Bool": {"aws:SecureTransport": "true"}}
    assert drops["Bool aws:SecureTransport"]["Condition"] == {"StringEquals": STATEMENT["Condition"]["StringEquals"]}  # type: ignore[index]
    lone = {**STATEMENT, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert "Condition" not in drop_condition(lone, "Bool", "aws:SecureTransport")


def test_one_action_widened_to_its_service() -> None:
    widened = by_operator(STATEMENT)["action-wildcard"]
    assert widened == [("kms:Decrypt -> kms:*", {**STATEMENT, "Action": ["kms:*", "kms:Encrypt"]}),
                       ("kms:Encrypt -> kms:*", {**STATEMENT, "Action": ["kms:Decrypt", "kms:*"]})]
    assert by_operator({**STATEMENT, "Action": "kms:Get*"})["action-wildcard"][0][1]["Action"] == "kms:*"  # type: ignore[index]
    assert "action-wildcard" not in by_operator({**STATEMENT, "Action": ["kms:*", "*"]})


def test_resource_widened_to_anything_unless_it_is() -> None:
    assert by_operator(STATEMENT)["resource-any"] == [("key:data -> *", {**STATEMENT, "Resource": "*"})]
    assert "resource-any" not in by_operator({**STATEMENT, "Resource": "*"})


DATA: dict[str, Any] = {
    "name": "s",
    "users": {"reader": {"inline_policies": {"read": {"Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "table:orders"}]}}}},
    "keys": {"data": {"policy": {"Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "kms:*", "Resource": "*"}]},
        "grants": {"g": {"grantee": "user:reader", "operations": ["Decrypt"],
                         "constraints": {"encryption_context_equals": {"a": "b"}}}}}},
    "states": [
        {"name": "one", "patch": {"keys": {"data": {"policy": {"Statement": {
            "ReaderUse": {"Effect": "Allow", "Principal": {"AWS": "user:reader"}, "Action": "kms:Decrypt", "Resource": "*"}}}}}}},
        {"name": "two", "patch": {"keys": {"data": {"enabled": True, "policy": {"Statement": {
            "ReaderUse": {"Action": ["kms:Decrypt", "kms:Encrypt"]}}}}}}},
    ],
}


def test_sites_in_the_base_and_in_patches() -> None:
    found = {(site.kind, site.path, site.label, site.state) for site in sites(DATA)}
    assert ("statement", ("users", "reader", "inline_policies", "read", "Statement", 0), "#1", None) in found
    assert ("statement", ("keys", "data", "policy", "Statement", 0), "Admin", None) in found
    assert ("key", ("keys", "data"), "data", None) in found
    assert ("grant", ("keys", "data", "grants", "g"), "g", None) in found
    assert ("statement", ("states", 0, "patch", "keys", "data", "policy", "Statement", "ReaderUse"), "ReaderUse", 0) in found
    assert ("key", ("states", 1, "patch", "keys", "data"), "data", 1) in found  # enabled: true may be turned off


def test_key_grant_and_base_statement_mutants_edit_the_file_data() -> None:
    made = {(m.site.path, m.operator): m for m in mutants(DATA)}
    disabled = apply_mutant(DATA, made[(("keys", "data"), "disable-key")])
    assert disabled["keys"]["data"]["enabled"] is False and "enabled" not in DATA["keys"]["data"]
    deleted = made[(("keys", "data", "grants", "g"), "delete-grant")]
    assert deleted.value is REMOVE and "g" not in apply_mutant(DATA, deleted)["keys"]["data"]["grants"]
    loose = apply_mutant(DATA, made[(("keys", "data", "grants", "g"), "drop-grant-constraints")])
    assert "constraints" not in loose["keys"]["data"]["grants"]["g"]
    gone = apply_mutant(DATA, made[(("keys", "data", "policy", "Statement", 0), "delete-statement")])
    assert gone["keys"]["data"]["policy"]["Statement"] == []


def test_a_patch_entry_that_merges_is_mutated_as_a_merge_patch_difference() -> None:
    site = ("states", 1, "patch", "keys", "data", "policy", "Statement", "ReaderUse")
    made = {(m.operator, m.detail): m for m in mutants(DATA) if m.site.path == site}
    mutated = apply_mutant(DATA, made[("principal-any", "AWS: user:reader -> *")])
    document = merge_patch(merge_patch({"keys": DATA["keys"]}, DATA["states"][0]["patch"]), mutated["states"][1]["patch"])
    statement = document["keys"]["data"]["policy"]["Statement"][1]
    assert statement == {"Sid": "ReaderUse", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"],
                         "Resource": "*"}
    assert made[("delete-statement", "")].value is None  # null removes the statement from this state on


def test_merge_diff_round_trips() -> None:
    before = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    after = {"a": 1, "b": {"c": 5}, "f": "x"}
    assert merge_patch(before, merge_diff(before, after)) == after
