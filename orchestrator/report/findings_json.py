"""External-access findings as `orchestrate findings --output json` prints them; the text and SARIF
reports are shaped from this same document (one shape, three renderings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.analysis.finding_sites import Location
from orchestrator.analysis.findings import Finding, FindingsReport
from orchestrator.report.access_json import statement_json
from orchestrator.whoelse import Witness

__all__ = ["witness_json", "finding_json", "findings_json"]

Locate = Callable[[Finding], Location]


def witness_json(witness: Witness) -> dict[str, Any]:
    """The concrete request the concrete engine allowed: caller, account, context, statements."""
    return {"caller": witness.caller_arn, "account": witness.caller_account, "principal_type": witness.principal_type,
            "role": witness.role_arn, "organization": witness.org_id, "vpc_endpoint": witness.vpc_endpoint,
            "action": witness.action, "context": {key: list(values) for key, values in sorted(witness.context.items())},
            "tags": dict(witness.tags), "statements": [statement_json(ref) for ref in witness.statements]}


def finding_json(finding: Finding, locate: Locate, names: list[str]) -> dict[str, Any]:
    location = locate(finding)
    return {"state": names[finding.state], "resource": finding.resource, "class": finding.principal_class,
            "principals": finding.label, "action": finding.action, "status": finding.status,
            "public": finding.principal_class == "public",
            "conditions": location.conditions or {},
            "location": {"line": location.line, "column": location.column, "statement": location.statement},
            "witness": None if finding.witness is None else witness_json(finding.witness), "reason": finding.reason}


def findings_json(report: FindingsReport, locate: Locate) -> dict[str, Any]:
    """The report as `--output json` prints it (after "format_version")."""
    by_index = {state.state: state.name for state in report.states}
    names = [by_index.get(i, "") for i in range(max(by_index, default=-1) + 1)]
    states = [{"name": state.name, "resources": list(state.resources),
               "findings": [finding_json(finding, locate, names) for finding in state.findings]}
              for state in report.states]
    new = [finding_json(finding, locate, names) for finding in report.new]
    count = sum(len(state["findings"]) for state in states)
    return {"scenario": report.scenario, "file": report.file, "finding_count": count, "states": states,
            "new_access": new}
