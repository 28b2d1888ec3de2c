"""The JSON Schema generated from the models; `schemas/scenario.schema.json` is its committed copy."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.model.scenario import Scenario

SCHEMA_ID = "https://orchestrate.dev/schemas/scenario.schema.json"


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema


def scenario_schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"
