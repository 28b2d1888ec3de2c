"""The committed JSON Schema is the one the models generate, and it accepts every shipped scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import copy

import jsonschema
import pytest
import yaml

from orchestrator.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "scenario.schema.json"


def test_schema_command_prints_the_committed_schema() -> None:
    result = subprocess.run([sys.executable, "-m", "orchestrator.cli", "schema"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == COMMITTED.read_text(), "schemas/scenario.schema.json is stale: run `orchestrate schema > schemas/scenario.schema.json`"


def test_schema_validates_shipped_scenarios_and_rejects_a_bad_one() -> None:
    schema = json.loads(COMMITTED.read_text())
    # jsonschema.validate checks the schema against its metaschema at every call (~0.25 s each):
    # checked once here, then one validator for every document
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        validator.validate(yaml.safe_load(path.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"name": "x", "states": [{"name": "a"}], "keys": {"k": {"policy": {"Statement": {"Effect": "Maybe"}}}}})



def _check_jsonschema() -> str:
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]' brings it)")
    return str(tool)


def test_check_jsonschema_accepts_every_shipped_scenario() -> None:
    """The editor's view, by the ecosystem's own command-line checker (python-jsonschema's
    check-jsonschema reads YAML as yaml-language-server does): the committed schema, offline."""
    scenarios = sorted(map(str, (ROOT / "scenarios").glob("*.yaml")))
    done = subprocess.run([_check_jsonschema(), "--schemafile", str(COMMITTED), *scenarios],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_refuses_an_unknown_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "scenarios" / "kms-dynamodb-access.yaml").read_text().replace(
        "description: >-", "deletion_window_days_typo: 1\ndescription: >-", 1))
    done = subprocess.run([_check_jsonschema(), "--schemafile", str(COMMITTED), str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "deletion_window_days_typo" in done.stdout + done.stderr

SEED = yaml.safe_load((ROOT / "scenarios" / "kms-dynamodb-access.yaml").read_text())


def _with_patch(patch: dict) -> dict:
    scenario = copy.deepcopy(SEED)
    scenario["states"][1]["patch"] = patch
    return scenario


def _schema_errors(scenario: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text()))
    return [".".join(str(p) for p in error.absolute_path) for error in validator.iter_errors(scenario)]


def _written(tmp_path: Path, scenario: dict) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def _statement_patch(statement: object) -> dict:
    return {"keys": {"data": {"policy": {"Statement": statement}}}}


@pytest.mark.parametrize("patch", [
    _statement_patch({"TesterDecrypt": {"Effect": "allow", "Principal": {"AWS": "user:tester"}, "Action": "kms:Decrypt"}}),
    _statement_patch({"TesterDecrypt": {"Effect": "Allow", "Actions": "kms:Decrypt"}}),  # no such element
    _statement_patch({"Bad-Sid": {"Effect": "Allow"}}),  # Sids are alphanumeric
    _statement_patch([{"Sid": "Whole", "Principal": "*", "Action": "kms:*"}]),  # a list replaces whole: Effect needed
    {"keys": {"data": {"deletion_window_days": 3}}},
    {"keys": {"data": {"spec": "AES_256"}}},
    {"keys": {"data": None}},  # a state cannot remove an entity
    {"tables": {"orders": {"partition_key": {"type": "X"}}}},
    {"users": {"tester": {"groups": "not-a-list"}}},
    {"queues": {"q": {}}},  # not a section
])
def test_schema_refuses_a_patch_that_validate_refuses(patch: dict, tmp_path: Path) -> None:
    assert _schema_errors(_with_patch(patch)), patch
    with pytest.raises(ScenarioError):
        load_scenario(_written(tmp_path, _with_patch(patch)))


@pytest.mark.parametrize("patch", [
    _statement_patch({"KeyAdministration": None,  # null removes the statement with that Sid
                      "Reader": {"Effect": "Allow", "Principal": {"AWS": "user:tester"}, "Action": "kms:Decrypt",
                                 "Resource": "*"}}),
    _statement_patch({"KeyAdministration": {"Condition": {"Bool": {"aws:SecureTransport": True}}}}),  # merges
    _statement_patch({"KeyAdministration": {"Principal": {"AWS": ["user:admin", "user:tester"]}}}),
    {"keys": {"data": {"description": None, "tags": {"team": None, "owner": "me"}, "enabled": False}}},
    {"tables": {"orders": {"items": [{"order_id": "o-1"}], "encryption": "aws-owned"}}},
    {"users": {"tester": {"managed_policies": [], "permissions_boundary": None}}},
])
def test_schema_accepts_a_partial_patch(patch: dict, tmp_path: Path) -> None:
    assert _schema_errors(_with_patch(patch)) == [], patch
    load_scenario(_written(tmp_path, _with_patch(patch)))


def test_patch_schema_is_generated_for_every_section() -> None:
    schema = json.loads(COMMITTED.read_text())
    assert schema["$defs"]["State"]["properties"]["patch"] == {"$ref": "#/$defs/Patch"}
    assert set(schema["$defs"]["Patch"]["properties"]) == {"policies", "groups", "users", "keys", "tables", "roles", "buckets",
                                                          "account_public_access_block", "organization", "vpc_endpoints"}
    assert "required" not in schema["$defs"]["StatementPatch"]
