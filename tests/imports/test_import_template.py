"""Reading CloudFormation templates: short-form tags as long forms, JSON and YAML alike, and one
located message for a template that cannot be read or is not CloudFormation (CloudFormation User
Guide, "Template anatomy", "Intrinsic function reference")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.imports.template import TemplateError, parse_text, read_template

SHORT = """
Resources:
  A:
    Type: AWS::IAM::User
    Properties:
      Ref: !Ref B
      Att: !GetAtt B.Arn
      AttList: !GetAtt [B, Arn]
      Sub: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
      SubVars: !Sub ["${X}-y", {X: !Ref B}]
      Join: !Join ["", [a, !Ref B]]
      If: !If [Cond, !Ref B, !Ref "AWS::NoValue"]
      Select: !Select [0, !Split [",", "a,b"]]
      Map: !FindInMap [M, K, V]
      Not: !Not [!Condition Cond]
      Equals: !Equals [a, b]
      Base64: !Base64 text
      Import: !ImportValue shared
"""
LONG = {
    "Ref": {"Ref": "B"},
    "Att": {"Fn::GetAtt": ["B", "Arn"]},
    "AttList": {"Fn::GetAtt": ["B", "Arn"]},
    "Sub": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
    "SubVars": {"Fn::Sub": ["${X}-y", {"X": {"Ref": "B"}}]},
    "Join": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
    "If": {"Fn::If": ["Cond", {"Ref": "B"}, {"Ref": "AWS::NoValue"}]},
    "Select": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
    "Map": {"Fn::FindInMap": ["M", "K", "V"]},
    "Not": {"Fn::Not": [{"Condition": "Cond"}]},
    "Equals": {"Fn::Equals": ["a", "b"]},
    "Base64": {"Fn::Base64": "text"},
    "Import": {"Fn::ImportValue": "shared"},
}


def test_short_form_tags_read_as_their_long_forms() -> None:
    body = parse_text("t.yaml", SHORT)
    assert body["Resources"]["A"]["Properties"] == LONG


def test_json_long_form_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": {"A": {"Type": "AWS::IAM::User", "Properties": LONG}}}))
    assert read_template(path).resources["A"]["Properties"] == LONG


def _error(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TemplateError) as caught:
        read_template(path)
    return str(caught.value)


@pytest.mark.parametrize("name, text, expected", [
    ("bad.json", '{"Resources": {\n  "A": [\n}', "bad.json:3:1: not valid JSON"),
    ("bad.yaml", "Resources:\n  A: [1, 2\n", "bad.yaml:3:1: YAML syntax error: "),
    ("tag.yaml", "Resources:\n  A: !Unknown x\n", "tag.yaml:2:6: the tag !Unknown is not a CloudFormation intrinsic function"),
    ("python.yaml", "Resources: !!python/object/apply:os.system [ls]\n", "python.yaml:1:12: the tag !!python/object/apply:os.system is not supported here"),
    ("scenario.yaml", "name: x\nstates: []\n", "scenario.yaml:1:1: not a CloudFormation template: no Resources section"),
    ("list.yaml", "- a\n", "list.yaml:1:1: not a CloudFormation template: the top level must be a mapping"),
    ("notype.yaml", "Resources:\n  A:\n    Properties: {}\n", "notype.yaml:2:3: resource 'A' has no Type (at Resources.A)"),
    ("alias.yaml", "x: &a {Type: AWS::IAM::User}\nResources:\n  A: *a\n",
     "alias.yaml:3:6: YAML aliases (*name) are not taken by CloudFormation"),
    ("deep.yaml", "Resources:\n  A: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml:2:1004: YAML syntax error: exceeded maximum nesting depth"),
    ("deep.json", '{"Resources": ' + "[" * 50000 + "]" * 50000 + "}", "deep.json:1:1: not valid JSON: nested too deeply"),
    ("props.yaml", "Resources:\n  A:\n    Type: AWS::IAM::User\n    Properties: [1]\n",
     "props.yaml:4:5: the Properties of 'A' must be a mapping"),
])
def test_unreadable_or_not_cloudformation_is_one_located_message(tmp_path: Path, name: str, text: str, expected: str) -> None:
    assert expected in _error(tmp_path, name, text)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        read_template(tmp_path / "absent.yaml")
    assert "cannot read the template" in str(caught.value)
