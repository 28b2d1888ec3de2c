"""pytest plugin (entry point `pytest11`): `pytest scenarios/` collects each scenario file with one
item per expectation, named `STATE/PRINCIPAL/ACTION/RESOURCE` so that `-k` selects them, and one
per guarantee, named `STATE/guarantee#N/RESOURCE` (skipped when its verdict is unknown).

A scenario runs once per process, on the embedded backend, when its first item runs; every item
then reads its own verdict. Under pytest-xdist each worker that receives items of a file runs that
file once. Files are collected when they carry the scenario schema modeline or sit in a folder
named `scenarios`.

`--mutate` adds each scenario's mutation score (`orchestrate mutate`, decided by the engine) to its
items' user properties (`orchestrate_mutation`, so JUnit XML carries it) and a line per scenario to
the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import ProofError

MODELINE_MARK = "scenario.schema.json"
RESULTS = pytest.StashKey[dict[str, Any]]()
MUTATION_PROPERTY = "orchestrate_mutation"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orchestrate")
    group.addoption("--mutate", action="store_true", default=False,
                    help="orchestrate: add each scenario's mutation score to the report (orchestrate mutate, offline)")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per scenario with its mutation score, from the items' user properties (so it works
    under pytest-xdist, where the scores are computed in the workers)."""
    if not config.getoption("mutate", False):
        return
    scores: dict[str, dict[str, Any]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == MUTATION_PROPERTY:
                    scores[value["file"]] = value
    if scores:
        terminalreporter.section("orchestrate mutation scores")
        for file, value in sorted(scores.items()):
            terminalreporter.write_line(f"{file}: mutation score {value['score']:.2f} ({value['killed']} of"
                                        f" {value['killed'] + value['survived']} killed, {value['equivalent']} equivalent)")


def _is_scenario(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    if path.parent.name == "scenarios":
        return True
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return "yaml-language-server" in first and MODELINE_MARK in first


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from orchestrator.loader import ScenarioError
        from orchestrator.loader import load_scenario

        try:
            loaded = load_scenario(self.path)
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        for state_index, state in enumerate(loaded.scenario.states):
            for number, expectation in enumerate(state.expectations):
                name = f"{state.name}/{expectation.principal}/{expectation.action}/{expectation.resource}"
                if sum(1 for e in state.expectations if (e.principal, e.action, e.resource) == (expectation.principal, expectation.action, expectation.resource)) > 1:
                    name += f"#{number}"
                yield ExpectationItem.from_parent(self, name=name, state_index=state_index, number=number)
            for number, guarantee in enumerate(state.guarantees):
                yield GuaranteeItem.from_parent(self, name=f"{state.name}/guarantee#{number + 1}/{guarantee.resource}",
                                                state_index=state_index, number=number)


class ExpectationFailed(ProofError):
    """An expectation's verdict did not pass: the item fails with the verdict (repr_failure shows it)."""


class ExpectationItem(pytest.Item):
    def __init__(self, *, state_index: int, number: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state_index = state_index
        self.number = number

    def runtest(self) -> None:
        outcome = _scenario_outcome(self.config, str(self.path))
        if "mutation" in outcome:
            self.user_properties.append((MUTATION_PROPERTY, {"file": str(self.path), **outcome["mutation"]}))
        verdict = outcome["report"]["states"][self.state_index]["expectations"][self.number]
        if verdict.get("skipped"):
            pytest.skip(verdict["reason"])
        if not verdict["passed"]:
            raise ExpectationFailed(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExpectationFailed):
            verdict = excinfo.value.args[0]
            lines = [f"{verdict['principal']} {verdict['action']} {verdict['resource']} in state {verdict['state']}:",
                     f"  expected {verdict['expected']}, actual {verdict['actual']}, predicted {verdict['predicted']}",
                     f"  reason: {verdict['reason']}"]
            if verdict["error_code"]:
                lines.append(f"  error: {verdict['error_code']}")
            lines += [f"  problem: {problem}" for problem in verdict["problems"]]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.name}"


class GuaranteeFailed(ProofError):
    """A guarantee decided otherwise than its `expect` (the item fails with its verdict)."""


class GuaranteeItem(ExpectationItem):
    """A state's guarantee: passes when decided as it expects (proved, or violated with its
    witness when it says `expect: violated`), fails otherwise, skips when unknown (nothing was
    verified, nor refuted: as in the JUnit report)."""

    def runtest(self) -> None:
        from orchestrator.report.tally import guarantee_kind

        outcome = _scenario_outcome(self.config, str(self.path))
        guarantee = outcome["report"]["states"][self.state_index]["guarantees"][self.number]
        kind = guarantee_kind(guarantee)
        if kind == "skipped":
            pytest.skip(f"unknown: {guarantee['reason']}")
        if kind == "failed":
            raise GuaranteeFailed(guarantee)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GuaranteeFailed):
            from orchestrator.report.guarantees import guarantee_case_name

            guarantee = excinfo.value.args[0]
            state = self.name.partition("/")[0]
            lines = [f"{guarantee_case_name(state, guarantee)}:",
                     f"  expected {guarantee['expect']}, decided {guarantee['verdict']}"]
            if guarantee["reason"]:
                lines.append(f"  reason: {guarantee['reason']}")
            witness = guarantee.get("witness")
            if witness:
                lines.append(f"  witness: {witness['caller']} {witness['action']}"
                             + "".join(f"; {statement}" for statement in witness["statements"]))
            return "\n".join(lines)
        return super().repr_failure(excinfo, style)


def _scenario_outcome(config: pytest.Config, file: str) -> dict[str, Any]:
    """Run the scenario once per process; later items read the cached outcome (report, mutation)."""
    results = config.stash.setdefault(RESULTS, {})
    if file not in results:
        from orchestrator.matrix.worker import Target, run_one

        outcome = run_one(file, Target(mutate=bool(config.getoption("mutate", False))))
        if outcome["error"]:
            raise RuntimeError(f"{file}: the scenario could not run: {outcome['error']}")
        results[file] = outcome
    return results[file]
