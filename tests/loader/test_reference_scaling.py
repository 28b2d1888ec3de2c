"""The loader's reference checks grow with the scenario, not with its square (issue 21): the names
of every entity (loader/references.py, entity_names) are gathered once per desired state and
handed to each expectation's check, not gathered again for each expectation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.loader import ScenarioError, load_scenario, references, states
from orchestrator.model.scenario import DesiredState


def _scenario(expectations: int) -> str:
    lines = ["name: scaling", "users:", "  reader: {}", "tables:"]
    lines += [f"  table{i}: {{partition_key: {{name: id, type: S}}}}" for i in range(20)]
    lines += ["states:", "  - name: s", "    expectations:"]
    lines += [f"      - {{as: reader, action: dynamodb:GetItem, resource: table:table{i % 20}, key: {{id: x}}, expect: denied}}"
              for i in range(expectations)]
    return "\n".join(lines) + "\n"


def _builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, expectations: int) -> int:
    """How many times loading a scenario with this many expectations gathers the entity names."""
    calls = []
    original = references.entity_names

    def counting(desired: DesiredState) -> Any:
        calls.append(desired)
        return original(desired)

    monkeypatch.setattr(references, "entity_names", counting)
    monkeypatch.setattr(states, "entity_names", counting, raising=False)
    path = tmp_path / f"scaling-{expectations}.yaml"
    path.write_text(_scenario(expectations))
    load_scenario(path)
    return len(calls)


def test_entity_names_are_gathered_once_per_state_not_per_expectation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    one, many = _builds(monkeypatch, tmp_path, 1), _builds(monkeypatch, tmp_path, 200)
    assert many == one, f"{many} builds for 200 expectations, {one} for one: entity names gathered per expectation"
    assert one <= 4


def test_a_name_no_entity_has_is_still_reported_with_the_known_names(tmp_path: Path) -> None:
    path = tmp_path / "ghost.yaml"
    path.write_text(_scenario(2).replace("resource: table:table1,", "resource: table:ghost,"))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message, = [d.message for d in raised.value.diagnostics]
    assert message.startswith("'table:ghost' names no table of this scenario (known: table0, table1, table10, ")
