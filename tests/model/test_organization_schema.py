"""`organization:`, `vpc_endpoints:` and `vpc_endpoint:` in the JSON Schema (issue 23, items 1 and 3): the
committed schema accepts what the loader accepts, refuses the shapes the model refuses, and a state's
patch of the organization reaches its policies only (model/patch_schema.py PATCHABLE_FIELDS)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from test_strict_input import model_accepts  # the model's answer, as the generated-document test asks it


ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "scenario.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FIXTURE = ROOT / "tests" / "prove" / "data" / "organization-scp.yaml"


def fixture() -> dict[str, Any]:
    return yaml.safe_load(FIXTURE.read_text())


def test_the_fixture_is_valid_to_both() -> None:
    document = fixture()
    VALIDATOR.validate(document)
    assert model_accepts(document)


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node = changed
    for element in path[:-1]:
        node = node[element]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(("path", "value", "accepted"), [
    (("organization", "management"), "prod", True),
    (("organization", "management"), "not a name", False),
    (("organization", "units", "prod", "parent"), "workloads", True),
    (("organization", "units", "prod", "parent"), 7, False),
    (("organization", "scps", "NoKeyDeletion", "targets"), ["root", "ou:prod", "account:dev"], True),
    (("organization", "scps", "NoKeyDeletion", "targets"), ["ou-prod"], False),
    (("organization", "scps", "NoKeyDeletion", "targets"), "root", False),
    (("organization", "scps", "NoKeyDeletion", "color"), "blue", False),
    (("organization", "detach_full_aws_access"), ["ou:prod"], True),
    (("organization", "detach_full_aws_access"), [True], False),
    (("organization", "rcps", "OrgOnly", "document", "Statement"), [], False),
    (("organization",), None, True),
    (("vpc_endpoints", "s3-endpoint", "service"), "sqs", False),
    (("vpc_endpoints", "s3-endpoint", "vpc"), "vpc-0123456789abcdef0", True),
    (("vpc_endpoints", "s3-endpoint", "vpc"), "vpc-0123", False),
    (("vpc_endpoints", "s3-endpoint", "policy"), None, True),
    (("states", 0, "expectations", 0, "vpc_endpoint"), "other", True),
    (("states", 0, "expectations", 0, "vpc_endpoint"), 3, False),
])
def test_the_schema_and_the_model_agree(path: tuple[Any, ...], value: Any, accepted: bool) -> None:
    document = _set(fixture(), path, value)
    assert model_accepts(document) is accepted
    # vpc-0123 matches the schema's name branch; only the model tells it from a VPC id (a name does
    # not start with vpc-): the loader is the stricter of the two there, as with integral floats.
    if path[-1] == "vpc" and value == "vpc-0123":
        return
    assert VALIDATOR.is_valid(document) is accepted, list(VALIDATOR.iter_errors(document))[:1]


@pytest.mark.parametrize(("patch", "accepted"), [
    ({"organization": {"scps": {"NoKeyDeletion": {"targets": []}}}}, True),
    ({"organization": {"detach_full_aws_access": ["ou:prod"], "rcps": {"OrgOnly": {"document": {
        "Statement": {"EnforceOrgIdentities": {"Action": "s3:*"}}}}}}}, True),
    ({"organization": {"detach_full_aws_access": None}}, True),
    ({"vpc_endpoints": {"s3-endpoint": {"policy": None}}}, True),
    ({"organization": {"units": {"prod": {"accounts": []}}}}, False),
    ({"organization": {"management": "prod"}}, False),
    ({"organization": {"scps": {"NoKeyDeletion": None}}}, False),
    ({"organization": None}, False),
])
def test_a_patch_of_the_organization_reaches_its_policies_only(patch: dict[str, Any], accepted: bool) -> None:
    document = fixture()
    document["states"][1]["patch"] = patch
    assert VALIDATOR.is_valid(document) is accepted
