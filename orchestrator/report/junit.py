"""JUnit XML: one testsuite per scenario, one testcase per expectation (state, principal, action,
resource); failures carry expected, actual and the reason. Built from the versioned JSON report,
so that worker processes can hand back plain data."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from typing import Any

from orchestrator.report.output import Output


def testcase_name(state: str, principal: str, action: str, resource: str) -> str:
    return f"{state} / {principal} {action} {resource}"


def suite_element(report: dict[str, Any] | None, name: str, seconds: float = 0.0, error: str | None = None) -> ElementTree.Element:
    """report is run_json's output, or None when the scenario could not run (error says why)."""
    verdicts = [v for state in (report or {}).get("states", []) for v in state["expectations"]]
    failures = sum(not v["passed"] for v in verdicts)
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(verdicts) or 1), failures=str(failures),
                                errors="1" if error else "0", time=f"{seconds:.3f}")
    if error:
        case = ElementTree.SubElement(suite, "testcase", classname=name, name="(scenario)")
        ElementTree.SubElement(case, "error", message=error.splitlines()[0] if error else "").text = error
    for verdict in verdicts:
        case = ElementTree.SubElement(suite, "testcase", classname=name,
                                      name=testcase_name(verdict["state"], verdict["principal"], verdict["action"], verdict["resource"]),
                                      time=f"{verdict['settle_seconds']:.3f}")
        if not verdict["passed"]:
            failure = ElementTree.SubElement(case, "failure", message="; ".join(verdict["problems"]))
            failure.text = f"expected {verdict['expected']}, actual {verdict['actual']}; reason: {verdict['reason']}"
    return suite


def junit_text(suites: Iterable[ElementTree.Element]) -> str:
    root = ElementTree.Element("testsuites")
    for suite in suites:
        root.append(suite)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8") + "\n"


def write_junit(target: Output, suites: Iterable[ElementTree.Element]) -> None:
    """Whole or not at all (report/output.py); OutputError when it cannot be written."""
    target.write_text(junit_text(suites))
