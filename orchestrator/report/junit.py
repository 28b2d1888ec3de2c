"""JUnit XML: one testsuite per scenario, one testcase per expectation. Built from the versioned
JSON report, so that worker processes can hand back plain data.

What CI history keys on, and what it shows (the shape junitparser, pytest and the JUnit 5
reporting read; https://github.com/testmoapp/junitxml):
- a testcase's `classname` is the scenario and its `name` is unique within the suite and the same
  from run to run: the state, then `principal action resource`; where two expectations of a state
  share those, the expectation's own words (its `description`) follow in parentheses, and where
  they are still the same, its number in the state (`#2`). A name depends on the file alone,
  never on the order in which expectations finished.
- `file` and `line` are where the expectation starts in its scenario file.
- a wrong outcome is a `<failure>`; an expectation that was not called (skipped: the backend
  cannot make its call) is a `<skipped message="REASON">`; an expectation that got no access decision (the call could not
  be prepared, or AWS answered with another error) is an `<error type="CODE">`, and so is a
  scenario that could not run to its end (`(scenario)`, typed by the AWS error code when AWS's
  answer stopped it, else `InfrastructureFailure`).
- each guarantee is a testcase too (`STATE / guarantee WORDS`): a `<failure>` when decided
  otherwise than it expects, `<skipped>` when unknown (not verified: not a pass).
- the totals (tests, failures, errors, skipped) are report/tally.py's: the numbers of the summary
  line and the progress lines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable
from typing import Any

from orchestrator.report.output import Output
from orchestrator.report.guarantees import guarantee_case_name
from orchestrator.report.tally import Tally, guarantee_kind, of_report, total, verdict_kind

SCENARIO_CASE = "(scenario)"
#: backends/failures.describe_aws_error's words: the AWS error code that stopped a scenario.
_AWS_CODE = re.compile(r"AWS error ([A-Za-z0-9_.]+)")


def testcase_name(state: str, principal: str, action: str, resource: str) -> str:
    return f"{state} / {principal} {action} {resource}"


def case_names(verdicts: list[dict[str, Any]]) -> list[str]:
    """Unique names for one suite's verdicts, in their order (the module's docstring says how)."""
    names = [testcase_name(v["state"], v["principal"], v["action"], v["resource"]) for v in verdicts]
    shared = Counter(names)
    names = [f"{name} ({v['description']})" if shared[name] > 1 and v.get("description") else name
             for name, v in zip(names, verdicts)]
    shared = Counter(names)
    return [f"{name} #{v['index'] + 1}" if shared[name] > 1 else name for name, v in zip(names, verdicts)]


def suite_element(report: dict[str, Any] | None, name: str, seconds: float = 0.0, error: str | None = None,
                  file: str | None = None) -> ElementTree.Element:
    """report is run_json's output, or None when the scenario could not run (error says why);
    file is the scenario's path where the report does not say it."""
    verdicts = [v for state in (report or {}).get("states", []) for v in state["expectations"]]
    file = file or (report or {}).get("file") or None
    suite = ElementTree.Element("testsuite", name=name)
    guarantees = [(state["name"], g) for state in (report or {}).get("states", []) for g in state.get("guarantees", [])]
    _set_totals(suite, of_report(report, error), seconds)
    if file:
        suite.set("file", file)
    if error:
        case = ElementTree.SubElement(suite, "testcase", classname=name, name=SCENARIO_CASE, **({"file": file} if file else {}))
        found = _AWS_CODE.search(error)
        ElementTree.SubElement(case, "error", type=found.group(1) if found else "InfrastructureFailure",
                               message=error.splitlines()[0]).text = error
    for verdict, case_name in zip(verdicts, case_names(verdicts)):
        case = ElementTree.SubElement(suite, "testcase", classname=name, name=case_name, time=f"{verdict['settle_seconds']:.3f}")
        if file:
            case.set("file", file)
        if verdict.get("line"):
            case.set("line", str(verdict["line"]))
        _outcome(case, verdict)
    for state, guarantee in guarantees:
        case = ElementTree.SubElement(suite, "testcase", classname=name, name=guarantee_case_name(state, guarantee),
                                      time=f"{guarantee.get('seconds', 0.0):.3f}")
        if file:
            case.set("file", file)
        if guarantee.get("line"):
            case.set("line", str(guarantee["line"]))
        _guarantee_outcome(case, guarantee)
    return suite


def _guarantee_outcome(case: ElementTree.Element, guarantee: dict[str, Any]) -> None:
    """Nothing when decided as expected; `<failure>` when decided otherwise (a violation's witness
    in its text); `<skipped message>` when unknown: not verified, so not a pass."""
    kind = guarantee_kind(guarantee)
    if kind == "skipped":
        ElementTree.SubElement(case, "skipped", message=f"unknown: {guarantee['reason']}")
    elif kind == "failed":
        witness = guarantee.get("witness")
        text = f"expected {guarantee['expect']}, {guarantee['verdict']}; {guarantee['reason']}"
        if witness:
            text += f"; witness: {witness['caller']} {witness['action']}"
        ElementTree.SubElement(case, "failure", message=f"guarantee {guarantee['verdict']}, expected {guarantee['expect']}").text = text


def _outcome(case: ElementTree.Element, verdict: dict[str, Any]) -> None:
    """Nothing for a pass; `<failure>` for a wrong outcome; `<error type>` for no access decision;
    `<skipped message>` for no call."""
    kind = verdict_kind(verdict)
    if kind == "passed":
        return
    if kind == "skipped":
        ElementTree.SubElement(case, "skipped", message=verdict["reason"])
        return
    message = "; ".join(verdict["problems"])
    if kind == "errored":
        details = verdict.get("error_message") or verdict["reason"]
        ElementTree.SubElement(case, "error", type=verdict.get("error_code") or "error", message=message).text = (
            f"expected {verdict['expected']}, no access decision: {details}")
        return
    ElementTree.SubElement(case, "failure", message=message).text = (
        f"expected {verdict['expected']}, actual {verdict['actual']}; reason: {verdict['reason']}")


def _set_totals(element: ElementTree.Element, counts: Tally, seconds: float) -> None:
    element.set("tests", str(counts.tests))
    element.set("failures", str(counts.failed))
    element.set("errors", str(counts.errored))
    element.set("skipped", str(counts.skipped))
    element.set("time", f"{seconds:.3f}")


def junit_text(suites: Iterable[ElementTree.Element]) -> str:
    root = ElementTree.Element("testsuites")
    for suite in suites:
        root.append(suite)
    counts = total(Tally(*_suite_counts(suite)) for suite in root)
    _set_totals(root, counts, sum(float(s.get("time", 0)) for s in root))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8") + "\n"


def _suite_counts(suite: ElementTree.Element) -> tuple[int, int, int, int]:
    """Passed, failed, errored and skipped, from a suite's totals."""
    failed, errored, skipped = (int(suite.get(name, 0)) for name in ("failures", "errors", "skipped"))
    return int(suite.get("tests", 0)) - failed - errored - skipped, failed, errored, skipped


def write_junit(target: Output, suites: Iterable[ElementTree.Element]) -> None:
    """Whole or not at all (report/output.py); OutputError when it cannot be written."""
    target.write_text(junit_text(suites))
