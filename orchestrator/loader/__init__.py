"""Loading scenario files: YAML with positions, the model, cross-references, policy states.

Every problem in a file is reported at once, as `file:line:col: message (at field.path)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.loader.diagnostics import Diagnostic, ScenarioError, format_path
from orchestrator.loader.source import Positions, SourceError, read_yaml
from orchestrator.loader.states import desired_states
from orchestrator.loader.validation import Problem, problems_from
from orchestrator.model.scenario import DesiredState, Scenario

SCENARIO_SUFFIXES = (".yaml", ".yml")

__all__ = ["Diagnostic", "LoadedScenario", "ScenarioError", "discover", "format_path", "load_all", "load_scenario"]


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    data: dict[str, Any]
    scenario: Scenario
    desired: list[DesiredState]  # one per state, in order
    #: Where each node of the file starts: kept so that a report can point at an expectation's line.
    positions: Positions = field(default_factory=Positions)

    def expectation_mark(self, state: int, index: int) -> tuple[int, int]:
        """The 1-based line and column where expectation `index` of state `state` starts."""
        mark = self.positions.locate(("states", state, "expectations", index))
        return mark.line, mark.col

    def guarantee_mark(self, state: int, index: int) -> tuple[int, int]:
        """The 1-based line and column where guarantee `index` of state `state` starts."""
        mark = self.positions.locate(("states", state, "guarantees", index))
        return mark.line, mark.col

    def state_index(self, name: str | None) -> int:
        """The index of a named state; the last state when name is None."""
        if name is None:
            return len(self.scenario.states) - 1
        for index, state in enumerate(self.scenario.states):
            if state.name == name:
                return index
        known = ", ".join(state.name for state in self.scenario.states)
        raise ScenarioError([Diagnostic(str(self.path), 1, 1, f"no state named {name!r} (states: {known})")])


def load_scenario(path: Path | str) -> LoadedScenario:
    """Load and check one scenario file; raises ScenarioError with every problem found."""
    path = Path(path)
    file = str(path)
    try:
        data, positions = read_yaml(path)
    except SourceError as error:
        raise ScenarioError([error.diagnostic]) from None
    except OSError as error:
        raise ScenarioError([Diagnostic(file, 1, 1, f"cannot read the file: {error.strerror or error}")]) from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ScenarioError([Diagnostic(file, 1, 1, f"the top level must be a mapping of scenario fields (name, states, ...), not {kind}")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_located(file, positions, problems_from(error, data))) from None
    desired, problems = desired_states(data, scenario.states)
    problems += _unique_state_names(scenario) + _name_problems(scenario, desired)
    if problems:
        raise ScenarioError(_located(file, positions, problems))
    return LoadedScenario(path, data, scenario, desired, positions)


def _unique_state_names(scenario: Scenario) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, state in enumerate(scenario.states):
        if state.name in seen:
            problems.append(Problem(("states", index, "name"), f"state name {state.name!r} is used twice"))
        seen.add(state.name)
    return problems


def _name_problems(scenario: Scenario, desired: list[DesiredState]) -> list[Problem]:
    """The names the file gives that AWS would refuse once made (model/names.py): what the model's
    patterns cannot say (a bucket name's reserved prefixes, a comma in a name that is also a tag value)."""
    from orchestrator.model.names import name_problems

    return [Problem(p.path, p.words(), at_key=p.path != ("name",)) for p in name_problems(scenario.name, desired, None)]


def _located(file: str, positions: Positions, problems: list[Problem]) -> list[Diagnostic]:
    diagnostics = []
    for problem in problems:
        mark = positions.locate(problem.path, at_key=problem.at_key)
        diagnostics.append(Diagnostic(file, mark.line, mark.col, problem.message, problem.path))
    return diagnostics


def discover(paths: list[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Scenario files named directly or found (recursively) in folders, sorted per folder."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file())
            if not found:
                problems.append(Diagnostic(name, 0, 0, "the folder holds no scenario files (*.yaml, *.yml)"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(name, 0, 0, "no such file or folder"))
    return files, problems


def load_all(paths: list[str]) -> tuple[list[LoadedScenario], list[Diagnostic]]:
    files, diagnostics = discover(paths)
    loaded = []
    for file in files:
        try:
            loaded.append(load_scenario(file))
        except ScenarioError as error:
            diagnostics += error.diagnostics
    return loaded, diagnostics
