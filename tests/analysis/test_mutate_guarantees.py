"""Mutants that let in principals nobody named (analysis/mutate_guarantees.py): with a guarantee in
the state, the guarantee kills them; without one, they survive with a guarantee ready to paste."""
from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.analysis.mutate import mutation_report
from orchestrator.analysis.mutate_guarantees import resource_of
from orchestrator.loader import load_scenario
from orchestrator.model.scenario import Guarantee

SCENARIO = """\
name: guarded-key
region: us-east-1
users:
  reader: {}
keys:
  data:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Reader, Effect: Allow, Principal: {AWS: user:reader}, Action: "kms:Decrypt", Resource: "*"}
        - {Sid: Admin, Effect: Allow, Principal: {AWS: orchestrate}, Action: "kms:*", Resource: "*"}
states:
  - name: only
    expectations:
      - {as: reader, action: kms:Decrypt, resource: key:data, expect: allowed}
"""
GUARANTEE = """\
    guarantees:
      - {resource: key:data, actions: [kms:Decrypt], no_access_from: outside-account}
"""


def _principal_any(tmp_path: Path, text: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    report = mutation_report(load_scenario(path))
    (found,) = [r for r in report.results if r.mutant.operator == "principal-any" and r.mutant.site.label == "Reader"]
    return found


def test_without_a_guarantee_it_survives_and_a_guarantee_is_suggested(tmp_path: Path) -> None:
    result = _principal_any(tmp_path, SCENARIO)
    assert result.status == "survived" and result.changes == []
    suggestion = result.suggestion
    assert suggestion is not None and suggestion.section == "guarantees" and suggestion.state == "only"
    (entry,) = yaml.safe_load(suggestion.yaml)
    guarantee = Guarantee.model_validate(entry)  # ready to paste: the language takes it
    assert (guarantee.resource, guarantee.actions, guarantee.no_access_from) == ("key:data", ["kms:Decrypt"], "outside-account")
    assert "witness arn:aws:" in suggestion.cell


def test_the_suggested_guarantee_kills_it(tmp_path: Path) -> None:
    result = _principal_any(tmp_path, SCENARIO + GUARANTEE)
    assert result.status == "killed" and result.kill is None
    assert result.guarantee_kill is not None and result.guarantee_kill.state == "only"
    assert "kms:Decrypt on key:data" in result.guarantee_kill.words


def test_the_resource_of_a_site() -> None:
    assert resource_of("key policy of key:data") == "key:data"
    assert resource_of("trust policy of role:deploy") == "role:deploy"
    assert resource_of("inline policy read of user:reader") is None


def test_the_solver_is_asked_only_about_mutants_that_may_reach_an_outsider(tmp_path: Path, monkeypatch) -> None:
    import orchestrator.analysis.mutate_guarantees as module

    asked: list[tuple[str, ...]] = []
    real = module.decide
    monkeypatch.setattr(module, "decide", lambda question: asked.append(question.actions) or real(question))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    report = mutation_report(load_scenario(path))
    by_operator = {(r.mutant.site.label, r.mutant.operator): r for r in report.results}
    # the reader's statement widened to kms:* for the reader alone changes what the reader may do (an
    # expectation kills or suggests), but no outsider's: the solver never hears of it
    assert by_operator[("Reader", "action-wildcard")].status in ("killed", "survived")
    assert by_operator[("Reader", "principal-any")].suggestion is not None
    # asked: kms:Decrypt closed before, then open on the principal-any mutant; nothing else
    assert asked and set(asked) == {("kms:Decrypt",)}
