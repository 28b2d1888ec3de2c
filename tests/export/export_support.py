"""Every shipped scenario and state, exported once per format for the export tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from orchestrator.export import Export, export_state
from orchestrator.loader import LoadedScenario, load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@lru_cache(maxsize=None)
def loaded(path: Path) -> LoadedScenario:
    return load_scenario(path)


def cases() -> list[tuple[Path, int, str]]:
    """(scenario file, state index, state name) for every shipped scenario and state."""
    return [(path, index, state.name) for path in SCENARIOS for index, state in enumerate(loaded(path).scenario.states)]


@lru_cache(maxsize=None)
def exported(path: Path, index: int, fmt: str) -> Export:
    return export_state(loaded(path), index, fmt)
