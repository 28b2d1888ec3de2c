"""External-access findings as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format,
Version 2.1.0, errata 01), as GitHub code scanning takes it ("SARIF support for code scanning"):
one run; `tool.driver` orchestrate with one rule per finding class; one result per finding, its
level (public: error; outside the organization or the account, new access: warning; undecided:
note), its message and a physical location at the statement's line and column in the scenario
file (`artifactLocation.uri` as given on the command line, relative to the checkout), and a
`partialFingerprints` entry so code scanning keeps a finding's identity across runs.

Shaped from `findings_json`'s document, so text, JSON and SARIF say the same findings."""

from __future__ import annotations

import hashlib
from typing import Any

from orchestrator.report.findings_text import finding_line

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "RULES", "render_sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html"

#: (rule id, short description, level) per finding class.
RULES: dict[str, tuple[str, str, str]] = {
    "public": ("ORC-PUBLIC", "Anyone (public) can reach the resource", "error"),
    "outside-organization": ("ORC-OUTSIDE-ORG", "A principal outside the organization can reach the resource",
                             "warning"),
    "outside-account": ("ORC-OUTSIDE-ACCOUNT", "A principal outside the resource's account can reach it", "warning"),
    "new-access": ("ORC-NEW-ACCESS", "A policy state grants access that the state before it did not", "warning"),
    "unknown": ("ORC-UNDECIDED", "Whether principals outside can reach the resource could not be decided", "note"),
}


def _rule(finding: dict[str, Any], new: bool) -> str:
    if finding["status"] != "violated":
        return "unknown"
    return "new-access" if new else finding["class"]


def _rules() -> list[dict[str, Any]]:
    return [{"id": rule_id, "name": cls.title().replace("-", ""), "shortDescription": {"text": text},
             "defaultConfiguration": {"level": level}, "helpUri": INFORMATION_URI}
            for cls, (rule_id, text, level) in RULES.items()]


def _result(data: dict[str, Any], finding: dict[str, Any], new: bool) -> dict[str, Any]:
    kind = _rule(finding, new)
    rule_id, _, level = RULES[kind]
    where = finding["location"]
    words = finding_line(data["file"], finding)
    message = words[0].split(": ", 1)[1] + "".join(f"\n{line.strip()}" for line in words[1:])
    if new:
        message = f"new in state {finding['state']}: {message}"
    identity = "|".join((kind, finding["state"], finding["resource"], finding["class"], finding["action"]))
    return {"ruleId": rule_id, "ruleIndex": list(RULES).index(kind), "level": level,
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": data["file"]},
                "region": {"startLine": where["line"], "startColumn": where["column"]}}}],
            "partialFingerprints": {"orchestrateFinding/v1": hashlib.sha256(identity.encode()).hexdigest()[:32]},
            "properties": {"state": finding["state"], "resource": finding["resource"], "class": finding["class"],
                           "action": finding["action"], "witness": finding["witness"]}}


def render_sarif(data: dict[str, Any], version: str) -> dict[str, Any]:
    """The SARIF log of `findings_json`'s document (`version`: orchestrate's)."""
    results = [_result(data, finding, False) for state in data["states"] for finding in state["findings"]]
    results += [_result(data, finding, True) for finding in data["new_access"]]
    driver = {"name": "orchestrate", "version": version, "informationUri": INFORMATION_URI, "rules": _rules()}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION,
            "runs": [{"tool": {"driver": driver}, "results": results,
                      "artifacts": [{"location": {"uri": data["file"]}}]}]}
