"""Every shipped scenario and state, exported once per format for the export tests, and the
scenarios of tests/export/data (an organization managed here and from another account, SCPs and
RCPs, VPC endpoints of both kinds) that no shipped scenario covers yet."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from orchestrator.export import Export, export_state
from orchestrator.loader import LoadedScenario, load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
DATA = sorted((Path(__file__).resolve().parent / "data").glob("*.yaml"))
#: A data file whose name a shipped scenario takes is the shipped one's to cover.
SCENARIOS += [path for path in DATA if path.name not in {shipped.name for shipped in SCENARIOS}]


@lru_cache(maxsize=None)
def loaded(path: Path) -> LoadedScenario:
    return load_scenario(path)


def cases() -> list[tuple[Path, int, str]]:
    """(scenario file, state index, state name) for every shipped scenario and state."""
    return [(path, index, state.name) for path in SCENARIOS for index, state in enumerate(loaded(path).scenario.states)]


@lru_cache(maxsize=None)
def exported(path: Path, index: int, fmt: str) -> Export:
    return export_state(loaded(path), index, fmt)
