"""External-access findings as text: per state, each resource's open (class, action) cells with
the statement that opens them (file:line:col), its conditions and the witness; then the new access
each state grants over the one before it."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.report.words import counted

__all__ = ["render_text", "finding_line"]


def finding_line(file: str, finding: dict[str, Any]) -> list[str]:
    """`file:12:11: anyone (public ...) can s3:GetObject on bucket:site (statement "PublicRead")`, then
    its conditions and witness, indented."""
    where = finding["location"]
    statement = f' (statement "{where["statement"]}")' if where["statement"] else ""
    verb = "can" if finding["status"] == "violated" else "may (undecided)"
    lines = [f"{file}:{where['line']}:{where['column']}: {finding['principals']} {verb} {finding['action']}"
             f" on {finding['resource']}{statement}"]
    if finding["conditions"]:
        lines.append(f"    when: {json.dumps(finding['conditions'], sort_keys=True)}")
    witness = finding["witness"]
    if witness is not None:
        context = ", ".join(f"{key}={','.join(values)}" for key, values in witness["context"].items())
        via = f" through {witness['vpc_endpoint']}" if witness["vpc_endpoint"] else ""
        org = f", organization {witness['organization']}" if witness["organization"] else ""
        lines.append(f"    witness: {witness['caller']} (account {witness['account'] or 'none'}{org}){via}"
                     + (f" with {context}" if context else "") + ": allowed by the concrete engine")
    elif finding["reason"]:
        lines.append(f"    unknown: {finding['reason']}")
    return lines


def render_text(data: dict[str, Any]) -> str:
    file = data["file"]
    lines = [f"findings: {data['scenario']} ({counted(data['finding_count'], 'finding')})"]
    for state in data["states"]:
        lines.append(f"state {state['name']}: {counted(len(state['findings']), 'finding')}"
                     f" over {counted(len(state['resources']), 'resource')}")
        for finding in state["findings"]:
            lines += ["  " + line for line in finding_line(file, finding)]
    if data["new_access"]:
        lines.append(f"new access: {counted(len(data['new_access']), 'finding')} that a state adds over the one before it")
        for finding in data["new_access"]:
            lines += [f"  {finding['state']}: " + finding_line(file, finding)[0]]
    return "\n".join(lines) + "\n"
