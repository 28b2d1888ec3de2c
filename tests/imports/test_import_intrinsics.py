"""Intrinsic functions resolved where they name template resources (CloudFormation User Guide,
"Intrinsic function reference", "Pseudo parameters reference"): into scenario references where
policies take them, into text elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.imports.intrinsics import Entity, Resolver, Unresolved, entity_named, to_reference, to_text

ENTITIES = {"DataKey": Entity("key", "data"), "Admin": Entity("user", "admin"), "Orders": Entity("table", "orders"),
            "Reports": Entity("bucket", "reports"), "Reader": Entity("role", "reader"), "Read": Entity("policy", "read"),
            "Team": Entity("group", "team")}
BODY: dict[str, Any] = {"Parameters": {"Env": {"Type": "String", "Default": "prod"}, "NoDefault": {"Type": "String"}},
                        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                                       "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}},
                        "Mappings": {"M": {"K": {"V": "mapped"}}}}


def resolver() -> Resolver:
    return Resolver(BODY, ENTITIES, "eu-west-1", "stack")


@pytest.mark.parametrize("value, reference", [
    ({"Fn::GetAtt": ["DataKey", "Arn"]}, "key:data"),
    ({"Fn::GetAtt": ["Admin", "Arn"]}, "user:admin"),
    ({"Fn::GetAtt": ["Reader", "Arn"]}, "role:reader"),
    ({"Fn::GetAtt": ["Orders", "Arn"]}, "table:orders"),
    ({"Fn::GetAtt": ["Reports", "Arn"]}, "bucket:reports"),
    ({"Ref": "Read"}, "policy:read"),                              # a managed policy's Ref is its ARN
    ({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, "account"),
    ({"Ref": "AWS::AccountId"}, "account"),
    ({"Fn::Sub": "${Reports.Arn}/*"}, "object:reports/*"),
    ({"Fn::Sub": "arn:aws:s3:::${Reports}/in/*"}, "object:reports/in/*"),
    ({"Fn::Sub": "arn:aws:s3:::${Reports}"}, "bucket:reports"),
    ({"Fn::Join": [":", ["arn:aws:dynamodb", {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, {"Fn::Sub": "table/${Orders}"}]]},
     "table:orders"),
    ({"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/${DataKey}"}, "key:data"),
    ({"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:user/people/${Admin}"}, "user:admin"),
    ({"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"}, "table:orders"),
    ({"Fn::Sub": ["arn:aws:iam::${Acct}:role/${R}", {"Acct": {"Ref": "AWS::AccountId"}, "R": {"Ref": "Reader"}}]}, "role:reader"),
])
def test_resources_of_the_template_become_references(value: Any, reference: str) -> None:
    known = frozenset(f"{e.kind}:{e.name}" for e in ENTITIES.values())
    assert to_reference(resolver().resolve(value), known) == reference


def test_text_elsewhere_names_what_the_template_knows() -> None:
    r = resolver()
    assert to_text(r.resolve({"Fn::Sub": "dynamodb.${AWS::Region}.${AWS::URLSuffix}"})) == "dynamodb.eu-west-1.amazonaws.com"
    assert to_text(r.resolve({"Fn::Sub": "${Orders.Arn}/index/*"})) == "arn:aws:dynamodb:*:*:table/orders/index/*"
    assert to_reference(r.resolve({"Fn::Sub": "${Orders.Arn}/index/*"})) == "arn:aws:dynamodb:*:*:table/orders/index/*"
    assert to_text(r.resolve({"Ref": "AWS::AccountId"})) == "*"
    assert to_text(r.resolve({"Ref": "Admin"})) == "admin"
    assert r.resolve({"Fn::Sub": "${!Literal}-${AWS::StackName}"}) == "${Literal}-stack"


def test_parameters_conditions_and_functions() -> None:
    r = resolver()
    assert r.resolve({"Ref": "Env"}) == "prod"
    assert r.resolve({"Fn::If": ["IsProd", "yes", "no"]}) == "yes"
    assert r.resolve({"Fn::If": ["IsDev", "yes", "no"]}) == "no"
    assert r.resolve({"A": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}, "B": 1}) == {"B": 1}
    assert r.resolve([{"Ref": "AWS::NoValue"}, "kept"]) == ["kept"]
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert r.resolve({"Fn::FindInMap": ["M", "K", "V"]}) == "mapped"
    assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}) == "a-prod"


@pytest.mark.parametrize("value", [{"Fn::ImportValue": "x"}, {"Ref": "NoDefault"}, {"Ref": "Elsewhere"},
                                   {"Fn::GetAtt": ["Admin", "UserId"]}, {"Fn::GetAZs": ""}])
def test_what_the_template_does_not_give_is_unresolved(value: Any) -> None:
    with pytest.raises(Unresolved):
        resolver().resolve(value)


def test_an_unresolvable_statement_is_left_out_with_a_note() -> None:
    r = resolver()
    policy = r.resolve({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": {"Fn::ImportValue": "x"}},
                                      {"Sid": "OrchestrateKeyManagement", "Effect": "Allow", "Principal": {"AWS": {"Ref": "NoDefault"}},
                                       "Action": "kms:*", "Resource": "*"},
                                      {"Sid": "B", "Effect": "Allow", "Action": "*", "Resource": "*"}]})
    assert [s["Sid"] for s in policy["Statement"]] == ["B"]
    assert r.notes == ["statement A left out of a policy: Fn::ImportValue (its value is not known from the template)"]


def test_properties_name_entities_by_token_arn_or_physical_name() -> None:
    r = resolver()
    physical = {"admin-user": "admin"}
    assert entity_named(r.resolve({"Ref": "Admin"}), "user", physical) == "admin"
    assert entity_named(r.resolve({"Fn::GetAtt": ["Admin", "Arn"]}), "user", physical) == "admin"
    assert entity_named("admin-user", "user", physical) == "admin"
    assert entity_named("arn:aws:iam::111122223333:user/admin-user", "user", physical) == "admin"
    assert entity_named(r.resolve({"Ref": "Admin"}), "group", physical) is None


def test_the_stack_account_under_a_string_condition_is_noted() -> None:
    from orchestrator.imports.documents import document

    r = resolver()
    policy = document({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                                      "Condition": {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}},
                                                    "ArnLike": {"aws:PrincipalArn": {"Fn::GetAtt": ["Admin", "Arn"]}}}}]}, r)
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "*"},
                                                   "ArnLike": {"aws:PrincipalArn": "user:admin"}}
    assert len(r.notes) == 1 and "StringEquals condition names the stack's account" in r.notes[0]
