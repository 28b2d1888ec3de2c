"""Each CloudFormation resource type mapped to the scenario models ("Resource and property
reference" of each type); what orchestrate does not declare is skipped with a note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.imports import scenario_from_template
from orchestrator.imports.template import read_template

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def rich() -> tuple[dict[str, Any], Any]:
    return scenario_from_template(read_template(DATA / "rich.yaml"), "us-east-1")


def test_users_take_tags_names_managed_policies_groups_and_inline_policies(rich: tuple[dict[str, Any], Any]) -> None:
    scenario, _ = rich
    assert scenario["users"]["reader"] == {"tags": {"team": "data"}, "managed_policies": ["policy:read"], "groups": ["analysts"]}
    assert scenario["users"]["Caller"]["inline_policies"]["assume"]["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]   # a JSON string document


def test_groups_and_managed_policies(rich: tuple[dict[str, Any], Any]) -> None:
    scenario, _ = rich
    assert scenario["groups"]["analysts"]["inline_policies"]["describe"]["Statement"][0]["Resource"] == "key:Key"
    statements = scenario["policies"]["read"]["document"]["Statement"]
    assert statements[0]["Resource"] == ["bucket:reports-2024", "object:reports-2024/*"]
    assert statements[1]["Resource"] == "table:orders"
    assert statements[2]["Effect"] == "Allow"   # Fn::If on a condition that holds


def test_roles_keep_path_trust_session_and_aws_managed_policies_with_their_path(rich: tuple[dict[str, Any], Any]) -> None:
    scenario, _ = rich
    role = scenario["roles"]["reader-role"]
    assert role["path"] == "/data/"
    assert role["max_session_seconds"] == 7200
    assert role["trust_policy"]["Statement"][0]["Principal"] == {"AWS": "account"}
    assert role["managed_policies"] == ["policy:read", "service-role/AWSLambdaBasicExecutionRole"]


def test_keys_tables_and_buckets(rich: tuple[dict[str, Any], Any]) -> None:
    scenario, _ = rich
    key = scenario["keys"]["Key"]   # no KeyPolicy: KMS's default key policy
    assert key["policy"]["Statement"][0]["Principal"] == {"AWS": "account"}
    table = scenario["tables"]["orders"]
    assert table["partition_key"] == {"name": "id", "type": "S"} and table["sort_key"] == {"name": "at", "type": "N"}
    assert (table["billing_mode"], table["read_capacity"], table["write_capacity"]) == ("PROVISIONED", 5, 5)
    assert table["encryption"] == "aws-managed"
    assert table["policy"]["Statement"][0]["Principal"] == {"AWS": "user:reader"}
    bucket = scenario["buckets"]["reports-2024"]   # BucketName Reports_2024 fitted to S3's rules
    assert (bucket["encryption"], bucket["bucket_key"]) == ("key:Key", True)
    assert bucket["policy"]["Statement"][0]["Resource"] == ["bucket:reports-2024", "object:reports-2024/*"]
    assert bucket["policy"]["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_seed_key_alias_and_table_key() -> None:
    scenario, imported = scenario_from_template(read_template(DATA / "seed.yaml"), "us-east-1")
    key = scenario["keys"]["DataKey"]
    assert key["aliases"] == ["alias/orders-data"]
    assert key["tags"] == {"team": "security"}
    assert [s["Sid"] for s in key["policy"]["Statement"]] == ["KeyAdministration", "RootAdministersOnly"]  # Sids made alphanumeric
    assert key["policy"]["Statement"][0]["Principal"] == {"AWS": "user:admin"}
    assert scenario["tables"]["orders"]["encryption"] == "key:DataKey"
    assert scenario["users"]["admin"] == {"managed_policies": ["AdministratorAccess"]}
    assert imported.skipped == [("Queue", "AWS::SQS::Queue")]


def test_orchestrate_tags_name_entities_and_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""
Resources:
  KeyData:
    Type: AWS::KMS::Key
    Properties:
      Tags: [{Key: orchestrate:name, Value: data}, {Key: orchestrate:scenario, Value: demo}, {Key: team, Value: x}]
  UserTester:
    Type: AWS::IAM::UserToGroupAddition
    Properties: {GroupName: nobody, Users: [tester]}
""")
    scenario, imported = scenario_from_template(read_template(path), "us-east-1")
    assert scenario["name"] == "demo"
    assert scenario["keys"]["data"]["tags"] == {"team": "x"}
    assert any("nobody" in note for note in imported.notes)


def test_a_resource_the_model_refuses_is_left_out_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""
Resources:
  Hmac:
    Type: AWS::KMS::Key
    Properties: {KeySpec: HMAC_256, KeyUsage: ENCRYPT_DECRYPT}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      SSESpecification: {SSEEnabled: true, KMSMasterKeyId: !Ref Hmac}
  Condemned:
    Type: AWS::IAM::User
    Condition: Never
Conditions:
  Never: !Equals [a, b]
""")
    scenario, imported = scenario_from_template(read_template(path), "us-east-1")
    assert "keys" not in scenario and "users" not in scenario
    assert scenario["tables"]["Table"]["encryption"] == "aws-managed"
    assert any(note.startswith("keys.Hmac: not imported, the model refuses it: Value error, key usage") for note in imported.notes)
    assert "Condemned: not imported: its condition Never is false" in imported.notes
