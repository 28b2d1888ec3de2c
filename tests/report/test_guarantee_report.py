"""A state's guarantees in apply's report (report/guarantees.py): this version decides none, so each
is `unknown`, "not decided by this version", in text and JSON, never proved, and neither passes nor
fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.model.scenario import Guarantee
from orchestrator.prove.runner import RunResult, StateResult
from orchestrator.reconcile.plan import Plan
from orchestrator.report.guarantees import guarantee_json, guarantee_words
from orchestrator.report.run_json import run_json
from orchestrator.report.run_text import render_run
from orchestrator.report.style import Style

ONLY = Guarantee.model_validate({"resource": "table:orders", "actions": ["dynamodb:GetItem", "dynamodb:Query"],
                                 "only": ["user:admin", "role:reader"]})
NOBODY = Guarantee.model_validate({"resource": "key:data", "actions": ["kms:ScheduleKeyDeletion"], "only": []})
PUBLIC = Guarantee.model_validate({"resource": "key:data", "actions": ["kms:Decrypt"], "no_access_from": "public"})


def result() -> RunResult:
    return RunResult("guarded", "embedded", [StateResult("s", Plan("s"), guarantees=[ONLY, NOBODY]),
                                             StateResult("t", Plan("t"), guarantees=[PUBLIC])])


def test_the_words_of_each_form() -> None:
    assert guarantee_words(ONLY) == "only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders"
    assert guarantee_words(NOBODY) == "only nobody may kms:ScheduleKeyDeletion on key:data"
    assert guarantee_words(PUBLIC) == "no access from public: kms:Decrypt on key:data"


def test_text_says_unknown_for_each_and_counts_them() -> None:
    text = render_run(result(), Style(False))
    assert "  UNKNOWN guarantee: only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders:" \
           " not decided by this version" in text.splitlines()
    assert text.count("UNKNOWN guarantee") == 3
    assert text.splitlines()[-1] == "0 passed, 0 failed; 3 guarantees unknown (not decided by this version)"
    assert "proved" not in text


def test_json_gives_each_its_verdict_and_reason_and_the_run_still_passes() -> None:
    report = run_json(result())
    assert [len(state["guarantees"]) for state in report["states"]] == [2, 1]
    assert report["states"][1]["guarantees"] == [guarantee_json(PUBLIC)] == [
        {"resource": "key:data", "actions": ["kms:Decrypt"], "only": None, "no_access_from": "public",
         "verdict": "unknown", "reason": "not decided by this version"}]
    assert report["passed"] is True and report["summary"]["expectations"] == 0


def test_a_run_without_guarantees_says_nothing_of_them() -> None:
    plain = RunResult("plain", "embedded", [StateResult("s", Plan("s"))])
    assert "guarantee" not in render_run(plain, Style(False))
    assert run_json(plain)["states"][0]["guarantees"] == []


SCENARIO = """\
name: guarded
roles:
  reader:
    trust_policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: sts:AssumeRole}]}
states:
  - name: s
    guarantees:
      - {resource: role:reader, actions: [sts:AssumeRole], only: []}
"""


def test_apply_reports_the_declared_guarantees_as_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "guarded.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    assert main(["apply", str(path), "--output", "json", "--quiet"]) == 0
    [state] = json.loads(capsys.readouterr().out)["states"]
    assert [(g["resource"], g["verdict"], g["reason"]) for g in state["guarantees"]] == [
        ("role:reader", "unknown", "not decided by this version")]
