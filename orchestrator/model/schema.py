"""The JSON Schema generated from the models; `schemas/scenario.schema.json` is its committed copy."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.model.patch_schema import PATCH_ROOT, patch_definitions
from orchestrator.model.scenario import DesiredState, Scenario

SCHEMA_ID = "https://orchestrate.dev/schemas/scenario.schema.json"


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    _check_patches(schema)
    return schema


def _check_patches(schema: dict[str, Any]) -> None:
    """`states[].patch` validated by the patch schema derived from the same models (patch_schema.py)."""
    schema["$defs"].update(patch_definitions(schema, [s for s in DesiredState.model_fields if s != "accounts"]))
    schema["$defs"]["State"]["properties"]["patch"] = {"$ref": f"#/$defs/{PATCH_ROOT}"}


def scenario_schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"
