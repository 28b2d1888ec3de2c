"""Every shipped scenario is valid, carries the schema modeline, and round-trips through the model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.loader import load_scenario
from orchestrator.model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../schemas/scenario.schema.json"


def test_at_least_five_scenarios_ship() -> None:
    assert len(SCENARIOS) >= 5
    assert (ROOT / "scenarios" / "kms-dynamodb-access.yaml") in SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_modeline_points_at_the_schema(path: Path) -> None:
    assert path.read_text().splitlines()[0] == MODELINE


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_load_and_dump_is_equivalent(path: Path) -> None:
    original = yaml.safe_load(path.read_text())
    loaded = load_scenario(path)
    dumped = loaded.scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == original
    again = Scenario.model_validate(yaml.safe_load(yaml.safe_dump(dumped)))
    assert again == loaded.scenario


def test_seed_scenario_encodes_the_exercise() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
    first, second = loaded.scenario.states[:2]
    read = [e for e in first.expectations if e.principal == "tester" and e.action == "dynamodb:GetItem"]
    assert [e.expect for e in read] == ["denied"]
    assert [e.expect for e in second.expectations if e.principal == "tester"] == ["allowed"]
    # The second state's key policy grants tester kms:Decrypt; the first does not.
    sids = [[s.sid for s in d.keys["data"].policy.statements()] for d in loaded.desired]
    assert sids == [["KeyAdministration"], ["KeyAdministration", "TesterDecrypt"]]
    assert loaded.desired[0].tables["orders"].key_name() == "data"
