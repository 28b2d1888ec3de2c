"""Where a finding stands in the scenario file: the statement that let its witness in, at its line
and column (as `mutate` places its mutants: `mutants.sites` and the loader's positions), and that
statement's conditions (the conditions under which the finding holds).

A statement is looked for in the resource's own policy (key, bucket or table policy, a role's trust
policy): by its Sid in the latest patch of the state or before it, else in the base document; by its
index in the base document when it has no Sid. A witness let in by no statement of the resource's
policy (a grant, the account delegating to IAM) stands at the resource itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.analysis.findings import Finding
from orchestrator.analysis.mutants import RESOURCE_POLICIES, Site, sites, value_at
from orchestrator.authz.engine.inputs import StatementRef
from orchestrator.loader.builder import Positions

__all__ = ["Location", "FindingSites"]

#: The engine's kinds of the policies a resource holds itself.
_OWN_POLICY_KINDS = frozenset({"key", "resource", "trust"})
_SECTIONS = {"key": "keys", "table": "tables", "bucket": "buckets", "role": "roles"}


@dataclass(frozen=True)
class Location:
    line: int
    column: int
    #: The statement's Sid or #N, or None: the finding stands at the resource.
    statement: str | None = None
    #: The statement's Condition block as written ({} when it has none).
    conditions: Any = None


class FindingSites:
    """The statement sites of one scenario file, looked up per finding."""

    def __init__(self, data: dict[str, Any], positions: Positions) -> None:
        self.data = data
        self.positions = positions
        self.sites = sites(data)

    def locate(self, finding: Finding) -> Location:
        kind, _, name = finding.resource.partition(":")
        policy = _policy_name(kind, name)
        for ref in _allowing(finding):
            site = self._site(policy, finding.state, ref)
            if site is not None:
                mark = self.positions.locate(site.path, at_key=True)
                statement = value_at(self.data, site.path)
                conditions = statement.get("Condition", {}) if isinstance(statement, dict) else {}
                return Location(mark.line, mark.col, site.label, conditions)
        mark = self.positions.locate((_SECTIONS.get(kind, kind + "s"), name), at_key=True)
        return Location(mark.line, mark.col)

    def _site(self, policy: str, state: int, ref: StatementRef) -> Site | None:
        mine = [site for site in self.sites if site.policy == policy and (site.state is None or site.state <= state)]
        if ref.sid:
            named = [site for site in mine if site.label == ref.sid]
            named.sort(key=lambda site: -1 if site.state is None else site.state)
            return named[-1] if named else None
        base = [site for site in mine if site.state is None]
        return base[ref.index] if 0 <= ref.index < len(base) and base[ref.index].label == f"#{ref.index + 1}" else None


def _policy_name(kind: str, name: str) -> str:
    if kind == "role":
        return f"trust policy of role:{name}"
    section = _SECTIONS.get(kind, kind + "s")
    return f"{RESOURCE_POLICIES.get(section, kind)} of {kind}:{name}"


def _allowing(finding: Finding) -> list[StatementRef]:
    """The Allow statements of the resource's own policy that the witness's decision names."""
    if finding.witness is None:
        return []
    return [ref for ref in finding.witness.statements if ref.effect == "Allow" and ref.policy_kind in _OWN_POLICY_KINDS]
