"""`guarantees:` in the model and the committed JSON Schema (issue 24, item 1): both accept the same
guarantees and refuse the same shapes (exactly one of `only` / `no_access_from`, the outsiders by
name, principal references by form); what needs the scenario's names is the loader's
(tests/loader/test_guarantee_checks.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_strict_input import VALUES, model_accepts

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "scenario.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

BASE = yaml.safe_load("""\
name: guarded
users: {admin: {}}
keys:
  data:
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
states:
  - name: s
    guarantees:
      - {resource: key:data, actions: [kms:Decrypt], only: [user:admin]}
""")


def with_guarantee(**fields: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    guarantee = document["states"][0]["guarantees"][0]
    for name, value in fields.items():
        if value is ...:
            guarantee.pop(name, None)
        else:
            guarantee[name] = value
    return document


@pytest.mark.parametrize(("fields", "valid"), [
    ({}, True),
    ({"only": []}, True),
    ({"only": ["user:admin", "role:r", "session:r/nightly", "account:home", "account:partner", "orchestrate"]}, True),
    ({"only": ..., "no_access_from": "outside-account"}, True),
    ({"only": ..., "no_access_from": "outside-organization"}, True),
    ({"only": ..., "no_access_from": "public"}, True),
    ({"only": None, "no_access_from": "public"}, True),  # null is absent to both
    ({"description": "the data stays home"}, True),
    ({"only": ...}, False),
    ({"only": None}, False),
    ({"no_access_from": "public"}, False),
    ({"no_access_from": "anywhere", "only": ...}, False),
    ({"actions": []}, False),
    ({"actions": "kms:Decrypt"}, False),
    ({"actions": ["kms:Frobnicate"]}, False),
    ({"only": ["admin"]}, False),
    ({"only": ["group:readers"]}, False),
    ({"only": ["session:r/x"]}, False),  # a RoleSessionName has at least 2 characters
    ({"only": "user:admin"}, False),
    ({"resource": "queue:q"}, False),
    ({"expect": "denied"}, False),
])
def test_the_model_and_the_schema_agree(fields: dict[str, Any], valid: bool) -> None:
    document = with_guarantee(**fields)
    assert model_accepts(document) is valid
    assert VALIDATOR.is_valid(document) is valid, list(VALIDATOR.iter_errors(document))[:2]


SLOTS = ["resource", "actions", "only", "no_access_from", "description"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SLOTS), st.one_of(st.just(...), VALUES)), min_size=1, max_size=3))
def test_generated_guarantees_are_judged_alike(changes: list[tuple[str, Any]]) -> None:
    document = with_guarantee(**dict(changes))
    assert model_accepts(document) == VALIDATOR.is_valid(document), (document, list(VALIDATOR.iter_errors(document))[:2])


def test_the_schema_says_what_a_state_holds() -> None:
    state = SCHEMA["$defs"]["State"]["properties"]
    assert state["guarantees"]["items"] == {"$ref": "#/$defs/Guarantee"}
    guarantee = SCHEMA["$defs"]["Guarantee"]
    assert guarantee["additionalProperties"] is False and guarantee["required"] == ["resource", "actions"]
    assert [branch["required"] for branch in guarantee["oneOf"]] == [["only"], ["no_access_from"]]
