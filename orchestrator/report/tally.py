"""One count of a run for every report that shows one: the progress line, the summary line, the
Markdown table, the JSON summary and the JUnit totals all say the same numbers in the same words.

An expectation *passed*, *failed* (a wrong outcome: the service answered, not as expected),
*errored* (no access decision: the call could not be prepared, or AWS answered something other
than allowed or denied) or was *skipped* (not called: the backend cannot make the call it
describes, and its reason says why; it fails nothing). A scenario that could not run to its end counts once more as errored:
JUnit reports it as a testcase of its own, `(scenario)`, with an `<error>`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0

    @property
    def tests(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.passed + other.passed, self.failed + other.failed, self.errored + other.errored,
                     self.skipped + other.skipped)


def verdict_kind(verdict: dict[str, Any]) -> str:
    """`passed`, `failed`, `errored` or `skipped`, of a verdict of the JSON report (report/run_json.py)."""
    if verdict.get("skipped"):
        return "skipped"
    if verdict["actual"] == "error":
        return "errored"
    return "passed" if verdict["passed"] else "failed"


def of_verdicts(verdicts: Iterable[dict[str, Any]], run_error: str | None = None) -> Tally:
    kinds = [verdict_kind(v) for v in verdicts]
    return Tally(kinds.count("passed"), kinds.count("failed"), kinds.count("errored") + (1 if run_error else 0),
                 kinds.count("skipped"))


def guarantee_kind(guarantee: dict[str, Any]) -> str:
    """A guarantee of the JSON report as a test: `passed` (decided as it expects), `failed` (decided
    otherwise), `skipped` (unknown: nothing was verified, nor refuted)."""
    if guarantee["verdict"] == "unknown":
        return "skipped"
    return "passed" if guarantee["passed"] else "failed"


def of_guarantees(guarantees: Iterable[dict[str, Any]]) -> Tally:
    kinds = [guarantee_kind(g) for g in guarantees]
    return Tally(kinds.count("passed"), kinds.count("failed"), 0, kinds.count("skipped"))


def of_report(report: dict[str, Any] | None, run_error: str | None = None) -> Tally:
    """A scenario's count from its JSON report (None when it could not run) and its run's error:
    its expectations and its guarantees (each a JUnit testcase: `guarantee_kind`)."""
    states = (report or {}).get("states", [])
    return (of_verdicts((v for state in states for v in state["expectations"]), run_error)
            + of_guarantees(g for state in states for g in state.get("guarantees", [])))


def total(tallies: Iterable[Tally]) -> Tally:
    return sum(tallies, Tally())


def words(tally: Tally, always: bool = False) -> str:
    """`3 passed`, `3 passed, 1 failed`, `3 passed, 1 failed, 1 errored`: zero counts after passed
    are left out, unless `always` (skipped is said only when some were)."""
    said = [f"{tally.passed} passed"]
    if tally.failed or always:
        said.append(f"{tally.failed} failed")
    if tally.errored or always:
        said.append(f"{tally.errored} errored")
    if tally.skipped:
        said.append(f"{tally.skipped} skipped")
    return ", ".join(said)
