"""The committed JSON Schema is the one the models generate, and it accepts every shipped scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "scenario.schema.json"


def test_schema_command_prints_the_committed_schema() -> None:
    result = subprocess.run([sys.executable, "-m", "orchestrator.cli", "schema"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == COMMITTED.read_text(), "schemas/scenario.schema.json is stale: run `orchestrate schema > schemas/scenario.schema.json`"


def test_schema_validates_shipped_scenarios_and_rejects_a_bad_one() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(COMMITTED.read_text())
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "states": [{"name": "a"}], "keys": {"k": {"policy": {"Statement": {"Effect": "Maybe"}}}}}, schema)
