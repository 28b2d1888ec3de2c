"""Mutation testing of a scenario's expectations: run each mutant (orchestrator/analysis/mutants.py)
through the engine, offline, and score how many the expectations notice.

A mutant is KILLED when some expectation's verdict changes from the unmutated engine's verdict
(allowed or denied; the layer when the expectation names one, the error code when it names one):
the comparison is with the engine, not with `expect`, so an expectation the engine already
disagrees with (a model gap) does not skew the score; those are listed apart. A mutant that
changes no cell of the full access matrix (orchestrator/analysis/access.py) of any state is
EQUIVALENT (no expectation could kill it) and is not counted. One the loader refuses (AWS would
refuse the document: an Allow with NotPrincipal, a public table policy) is INVALID and not
counted either. Score = killed / (killed + survived).

For each survivor a suggestion: a matrix cell whose decision the mutant changes (the plainest:
the default request, a user before a role), written as an expectation of the scenario language,
validated, and named with the state to paste it in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.model.access import Cell, StateMatrix
from orchestrator.analysis.access import (cell_decider, column_of, expectation_for,
                                          state_matrix)
from orchestrator.analysis.mutants import Mutant, apply_mutant, mutants
from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.evaluate import Engine
from orchestrator.analysis.mutate_guarantees import GuaranteeChecks, GuaranteeKill, Widening, guarantee_yaml
from orchestrator.analysis.offline import OfflineEngine, offline_context
from orchestrator.loader import LoadedScenario
from orchestrator.loader.diagnostics import format_path
from orchestrator.loader.references import check_expectation
from orchestrator.loader.source import Positions, read_yaml
from orchestrator.loader.states import desired_states
from orchestrator.model.scenario import (EXPECTATION_ACTIONS, KEY_MANAGEMENT_ACTIONS, SESSION_FIELDS, DesiredState,
                                         Expectation)
from orchestrator.resources.context import RunContext
from orchestrator.resources.lockout import LockoutError

PREPARATION_FAILED = "PreparationFailed"
#: Actions whose allowed call orchestrate must undo (a write, a grant): a suggestion prefers a read.
SIDE_EFFECT_ACTIONS = KEY_MANAGEMENT_ACTIONS | frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "kms:CreateGrant",
                                 "s3:PutObject", "s3:DeleteObject", "dynamodb:CreateTable"})
REQUEST_FIELDS = ("via", *SESSION_FIELDS, "key", "item", "encryption_context", "source_ip", "secure_transport", "vpc_endpoint", "algorithm",
                  "offline", "retiring")


@dataclass(frozen=True)
class Kill:
    """The expectation that noticed the mutant: its state, index, and the verdicts before and after."""

    state: str
    index: int
    expectation: Expectation
    before: str
    after: str


@dataclass(frozen=True)
class CellChange:
    state: int
    before: Cell
    after: Cell


@dataclass(frozen=True)
class Suggestion:
    state: str
    yaml: str
    cell: str  # the cell's words: "tester kms:Decrypt key:data: denied (key-policy) -> allowed"
    section: str = "expectations"  # or guarantees (a mutant that lets in principals nobody named)


@dataclass
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | equivalent | invalid
    location: tuple[str, int, int]  # file, line, col of the site
    kill: Kill | None = None
    changes: list[CellChange] = field(default_factory=list)
    #: The state's guarantee that noticed the mutant (analysis/mutate_guarantees.py).
    guarantee_kill: GuaranteeKill | None = None
    suggestion: Suggestion | None = None
    problem: str | None = None  # invalid: what the loader refused
    embedded: str | None = None  # --embedded: killed | survived | error on the embedded backend

    @property
    def at(self) -> str:
        return ":".join(map(str, self.location))


@dataclass(frozen=True)
class Disagreement:
    """An expectation the unmutated engine already decides otherwise (a model gap, or a wrong expect)."""

    state: str
    index: int
    expectation: Expectation
    engine: str


@dataclass
class MutationReport:
    scenario: str
    file: str
    results: list[MutantResult]
    disagreements: list[Disagreement]

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def score(self) -> float:
        """killed / (killed + survived); 1.0 when no mutant counts (nothing to notice)."""
        killed, survived = self.count("killed"), self.count("survived")
        return killed / (killed + survived) if killed + survived else 1.0


@dataclass
class Baseline:
    """The unmutated scenario as the engine decides it; full matrices made when first needed."""

    loaded: LoadedScenario
    ctx: RunContext
    cells: list[list[Cell]]  # cells[state][expectation]
    #: One engine for the run: the unmutated states and every mutant ask it alike questions.
    engine: Engine = field(default_factory=service_engine)
    matrices: dict[int, StateMatrix] = field(default_factory=dict)
    checks: GuaranteeChecks | None = None

    def guarantees(self) -> GuaranteeChecks:
        """The guarantees and outside access of the unmutated states, decided when first needed."""
        if self.checks is None:
            self.checks = GuaranteeChecks(self.ctx, list(self.loaded.scenario.states), self.loaded.desired)
        return self.checks

    def matrix(self, index: int) -> StateMatrix:
        if index not in self.matrices:
            self.matrices[index] = full_matrix(self, index, self.loaded.desired[index])
        return self.matrices[index]


def baseline_of(loaded: LoadedScenario) -> Baseline:
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    engine = service_engine()
    cells = [expectation_cells(OfflineEngine.for_state(ctx, desired, engine), state.expectations)
             for desired, state in zip(loaded.desired, loaded.scenario.states, strict=True)]
    return Baseline(loaded, ctx, cells, engine)


def expectation_cells(engine: OfflineEngine, expectations: list[Expectation]) -> list[Cell]:
    decide = cell_decider(engine)
    return [decide(e.principal, column_of(engine.desired, e)) for e in expectations]


def full_matrix(baseline: Baseline, index: int, desired: DesiredState) -> StateMatrix:
    state = baseline.loaded.scenario.states[index]
    return state_matrix(OfflineEngine.for_state(baseline.ctx, desired, baseline.engine), state.name, state.expectations)


def decision(cell: Cell) -> tuple[bool, str | None, str | None]:
    return cell.allowed, cell.layer, cell.error


def verdict_changed(expectation: Expectation, before: Cell, after: Cell) -> bool:
    if before.allowed != after.allowed or (before.error == PREPARATION_FAILED) != (after.error == PREPARATION_FAILED):
        return True
    if expectation.layer is not None and before.layer != after.layer:
        return True
    return expectation.error is not None and before.error != after.error


# -- running the mutants ----------------------------------------------------------------------

#: Hears of each mutant as it is decided, with how many there are (orchestrator.report.progress).
OnMutant = Callable[[MutantResult, int], None]


def mutation_report(loaded: LoadedScenario, on_mutant: OnMutant | None = None) -> MutationReport:
    baseline = baseline_of(loaded)
    positions = read_yaml(loaded.path)[1]
    found = list(mutants(loaded.data))
    results = []
    for mutant in found:
        results.append(evaluate(baseline, mutant, located(loaded.path, positions, mutant)))
        if on_mutant:
            on_mutant(results[-1], len(found))
    return MutationReport(loaded.scenario.name, str(loaded.path), results, disagreements(baseline))


def located(file: Path, positions: Positions, mutant: Mutant) -> tuple[str, int, int]:
    mark = positions.locate(mutant.site.path, at_key=True)
    return str(file), mark.line, mark.col


def mutated_desired(loaded: LoadedScenario, mutant: Mutant) -> list[DesiredState] | str:
    """Each state's desired state with the mutant's edit, or the loader's first refusal."""
    data = apply_mutant(loaded.data, mutant)
    raw_states = data.get("states") or []
    states = [state.model_copy(update={"patch": (raw.get("patch") or {}) if isinstance(raw, dict) else {}})
              for state, raw in zip(loaded.scenario.states, raw_states, strict=True)]
    desired, problems = desired_states(data, states)
    if problems:
        return f"{problems[0].message} (at {format_path(problems[0].path)})"
    return desired


def evaluate(baseline: Baseline, mutant: Mutant, location: tuple[str, int, int]) -> MutantResult:
    desired = mutated_desired(baseline.loaded, mutant)
    if isinstance(desired, str):
        return MutantResult(mutant, "invalid", location, problem=desired)
    affected = [i for i, state in enumerate(desired) if state != baseline.loaded.desired[i]]
    try:
        kill = first_kill(baseline, desired, affected)
        changes = [] if kill is not None else matrix_changes(baseline, desired, affected)
    except LockoutError as error:  # apply refuses such a key policy before sending it
        return MutantResult(mutant, "invalid", location, problem=str(error))
    if kill is not None:
        return MutantResult(mutant, "killed", location, kill=kill)
    guarded = baseline.guarantees().kill(desired, affected)
    if guarded is not None:
        return MutantResult(mutant, "killed", location, guarantee_kill=guarded)
    suggestion = suggest(baseline, changes) if changes else None
    if suggestion is None:  # the symbolic engine is asked only when no expectation would do
        widened = baseline.guarantees().widening(mutant, apply_mutant(baseline.loaded.data, mutant), desired, affected)
        if not changes and widened is None:
            return MutantResult(mutant, "equivalent", location)
        suggestion = guarantee_suggestion(baseline, widened) if widened is not None else None
    return MutantResult(mutant, "survived", location, changes=changes, suggestion=suggestion)


def guarantee_suggestion(baseline: Baseline, widened: Widening) -> Suggestion:
    """A guarantee that the scenario keeps and the mutant breaks: nobody outside the account."""
    name = baseline.loaded.scenario.states[widened.state].name
    words = (f"anyone outside the account {', '.join(widened.actions)} {widened.resource}: denied for all -> allowed"
             f" (witness {widened.witness})")
    return Suggestion(name, guarantee_yaml(widened.resource, widened.actions), words, "guarantees")


def first_kill(baseline: Baseline, desired: list[DesiredState], affected: list[int]) -> Kill | None:
    states = baseline.loaded.scenario.states
    for index in affected:
        expectations = states[index].expectations
        after = expectation_cells(OfflineEngine.for_state(baseline.ctx, desired[index], baseline.engine), expectations)
        for number, (expectation, old, new) in enumerate(zip(expectations, baseline.cells[index], after, strict=True)):
            if verdict_changed(expectation, old, new):
                return Kill(states[index].name, number, expectation, old.label, new.label)
    return None


def matrix_changes(baseline: Baseline, desired: list[DesiredState], affected: list[int]) -> list[CellChange]:
    found = []
    for index in affected:
        before = baseline.matrix(index)
        after = full_matrix(baseline, index, desired[index])
        for slot, cell in after.cells.items():
            old = before.cells.get(slot)
            if old is not None and decision(old) != decision(cell):
                found.append(CellChange(index, old, cell))
    return found


def disagreements(baseline: Baseline) -> list[Disagreement]:
    found = []
    for state, cells in zip(baseline.loaded.scenario.states, baseline.cells, strict=True):
        for number, (expectation, cell) in enumerate(zip(state.expectations, cells, strict=True)):
            allowed = expectation.expect == "allowed"
            if cell.allowed != allowed or (expectation.layer is not None and not allowed and cell.layer != expectation.layer):
                found.append(Disagreement(state.name, number, expectation, cell.label))
    return found


# -- suggestions ------------------------------------------------------------------------------

def plainness(change: CellChange) -> tuple[bool, bool, bool, int, bool, int, str]:
    """Plainest first: an allow/deny flip, the default request, a user, the earliest state, a read."""
    column = change.before.column
    order = list(EXPECTATION_ACTIONS)
    return (change.before.allowed == change.after.allowed, column.variant != "",
            change.before.principal.startswith("role:"), change.state, column.action in SIDE_EFFECT_ACTIONS,
            order.index(column.action) if column.action in order else len(order), column.resource)


def suggest(baseline: Baseline, changes: list[CellChange]) -> Suggestion | None:
    for change in sorted(changes, key=plainness):
        if PREPARATION_FAILED in (change.before.error, change.after.error):
            continue
        desired = baseline.loaded.desired[change.state]
        entry = suggestion_entry(desired, change)
        text = expectation_yaml(entry)
        if valid_suggestion(desired, text, change):
            name = baseline.loaded.scenario.states[change.state].name
            words = f"{change.before.principal} {change.before.column.label()}: {change.before.label} -> {change.after.label}"
            return Suggestion(name, text, words)
    return None


def suggestion_entry(desired: DesiredState, change: CellChange) -> dict[str, Any]:
    """The cell as an expectation of its unmutated decision (what the scenario does, the mutant does not)."""
    before, after = change.before, change.after
    expectation = expectation_for(desired, before.principal, before.column)
    dumped = expectation.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    entry: dict[str, Any] = {"as": before.principal, "action": before.column.action, "resource": before.column.resource}
    entry |= {name: dumped[name] for name in REQUEST_FIELDS if name in dumped}
    entry["expect"] = "allowed" if before.allowed else "denied"
    if before.allowed == after.allowed and before.layer != after.layer and before.layer is not None:
        entry["layer"] = before.layer
    elif before.allowed == after.allowed and before.error is not None:
        entry["error"] = before.error
    return entry


def valid_suggestion(desired: DesiredState, text: str, change: CellChange) -> bool:
    """The YAML reads back as an expectation the loader accepts, of the same cell."""
    try:
        expectation = Expectation.model_validate(yaml.safe_load(text)[0])
    except ValueError:
        return False
    if check_expectation(desired, expectation, ()):
        return False
    return expectation.principal == change.before.principal and column_of(desired, expectation) == change.before.column


def expectation_yaml(entry: dict[str, Any]) -> str:
    """A list item in the shipped scenarios' style: one field a line, nested values in flow style."""
    lines = [f"{'- ' if n == 0 else '  '}{name}: {_flow(value)}" for n, (name, value) in enumerate(entry.items())]
    return "\n".join(lines) + "\n"


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


# -- the embedded backend, for certainty ------------------------------------------------------

Outcomes = dict[tuple[str, int], tuple[str, str | None, str | None]]


def embedded_outcomes(file: str) -> Outcomes | str:
    """Each expectation's actual outcome (actual, layer, error code) from apply on its own embedded
    backend, or why the run failed."""
    from orchestrator.backends.failures import describe_aws_error
    from orchestrator.loader import load_scenario
    from orchestrator.prove.runner import run_states
    from orchestrator.session import BackendChoice, backend_session

    loaded = load_scenario(file)
    try:
        with backend_session(loaded, BackendChoice(environment=False)) as ctx:
            result = run_states(ctx, loaded, len(loaded.scenario.states) - 1)
    except Exception as error:  # a mutant AWS would refuse to set up: invalid, not a crash
        return describe_aws_error(error)
    if result.error:
        return str(result.error)
    return {(verdict.state, verdict.index): (verdict.actual.word, verdict.layer, verdict.actual.code)
            for state in result.states for verdict in state.verdicts}


def embedded_kill(loaded: LoadedScenario, before: Outcomes, after: Outcomes) -> bool:
    """Killed on the embedded backend: an actual outcome changed (its layer or error code where the
    expectation names one)."""
    for state in loaded.scenario.states:
        for number, expectation in enumerate(state.expectations):
            old, new = before.get((state.name, number)), after.get((state.name, number))
            if old is None or new is None or old[0] != new[0]:
                return True
            if (expectation.layer is not None and old[1] != new[1]) or (expectation.error is not None and old[2] != new[2]):
                return True
    return False


def run_embedded(loaded: LoadedScenario, report: MutationReport, on_mutant: OnMutant | None = None) -> None:
    """Run every valid mutant with apply on its own embedded backend; the embedded verdict decides
    killed or survived (an equivalent mutant that survives there stays equivalent)."""
    import tempfile

    before = embedded_outcomes(str(loaded.path))
    if isinstance(before, str):
        raise ValueError(f"{loaded.path}: the unmutated scenario does not run on the embedded backend: {before}")
    valid = [(number, result) for number, result in enumerate(report.results) if result.status != "invalid"]
    with tempfile.TemporaryDirectory(prefix="orchestrate-mutate-") as folder:
        for number, result in valid:
            file = Path(folder) / f"mutant-{number}.yaml"
            file.write_text(yaml.safe_dump(apply_mutant(loaded.data, result.mutant), sort_keys=False), encoding="utf-8")
            settle_status(result, loaded, before, embedded_outcomes(str(file)))
            if on_mutant:
                on_mutant(result, len(valid))


def settle_status(result: MutantResult, loaded: LoadedScenario, before: Outcomes, after: Outcomes | str) -> None:
    """The embedded verdict decides; a mutant apply cannot make (AWS refused it) is invalid."""
    if isinstance(after, str):
        result.embedded, result.status, result.problem = "error", "invalid", f"on the embedded backend: {after}"
        return
    result.embedded = "killed" if embedded_kill(loaded, before, after) else "survived"
    if result.embedded == "killed" and result.status != "killed":
        result.status = "killed"
    elif result.embedded == "survived" and result.status == "killed":
        result.status = "survived"


# -- JSON -------------------------------------------------------------------------------------

def counts(report: MutationReport) -> dict[str, int]:
    statuses = ("killed", "survived", "equivalent", "invalid")
    return {"mutants": len(report.results), **{status: report.count(status) for status in statuses}}
