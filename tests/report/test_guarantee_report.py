"""A state's guarantees in apply's report (report/guarantees.py): proved, violated with its witness
and its real call, or unknown with the reason, in text, JSON and JUnit; a guarantee decided against
its `expect` fails the run, unknown neither passes nor fails it (JUnit: skipped)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from orchestrator.authz.engine.inputs import StatementRef
from orchestrator.cli import main
from orchestrator.model.scenario import Guarantee
from orchestrator.prove.guarantees import GuaranteeResult, Replay, undecided
from orchestrator.prove.runner import RunResult, StateResult
from orchestrator.reconcile.plan import Plan
from orchestrator.report.guarantees import guarantee_json, guarantee_words
from orchestrator.report.junit import suite_element
from orchestrator.report.run_json import run_json
from orchestrator.report.run_text import render_run
from orchestrator.report.style import Style
from orchestrator.whoelse import Witness

ONLY = Guarantee.model_validate({"resource": "table:orders", "actions": ["dynamodb:GetItem", "dynamodb:Query"],
                                 "only": ["user:admin", "role:reader"]})
NOBODY = Guarantee.model_validate({"resource": "key:data", "actions": ["kms:ScheduleKeyDeletion"], "only": []})
PUBLIC = Guarantee.model_validate({"resource": "key:data", "actions": ["kms:Decrypt"], "no_access_from": "public"})
SHOWN = Guarantee.model_validate({"resource": "key:data", "actions": ["kms:Decrypt"], "no_access_from": "public",
                                  "expect": "violated"})
WITNESS = Witness("anonymous", "", "Anonymous", "kms:Decrypt", {"aws:SourceIp": ("10.0.0.1",)},
                  statements=(StatementRef("key", "key policy arn:k", "Open", 0, "Allow"),))


def violated(guarantee: Guarantee) -> GuaranteeResult:
    return GuaranteeResult(guarantee, "violated", "kms:Decrypt is allowed by the key policy", WITNESS,
                           {"kms:Decrypt": "violated"}, 0.25, Replay("allowed", "the real call was allowed"))


def result() -> RunResult:
    return RunResult("guarded", "embedded", [
        StateResult("s", Plan("s"), guarantees=[GuaranteeResult(ONLY, "proved"), undecided(NOBODY, "solver timeout")]),
        StateResult("t", Plan("t"), guarantees=[violated(SHOWN)])])


def test_the_words_of_each_form() -> None:
    assert guarantee_words(ONLY) == "only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders"
    assert guarantee_words(NOBODY) == "only nobody may kms:ScheduleKeyDeletion on key:data"
    assert guarantee_words(PUBLIC) == "no access from public: kms:Decrypt on key:data"


def test_text_marks_each_verdict_and_shows_the_witness() -> None:
    lines = render_run(result(), Style(False)).splitlines()
    assert "  PROVED guarantee: only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders" in lines
    assert "  UNKNOWN guarantee: only nobody may kms:ScheduleKeyDeletion on key:data" in lines
    assert "       reason: solver timeout" in lines
    assert "  VIOLATED (as intended) guarantee: no access from public: kms:Decrypt on key:data" in lines
    assert "       witness: anonymous (account none) kms:Decrypt; context: aws:SourceIp=10.0.0.1" in lines
    assert '       let in by: statement "Open" (#1) of key policy arn:k' in lines
    assert "       real call: allowed: the real call was allowed" in lines
    assert lines[-1] == "0 passed, 0 failed; 3 guarantees: 1 proved, 1 violated, 1 unknown"


def test_a_violation_not_expected_fails_the_run() -> None:
    failing = RunResult("guarded", "embedded", [StateResult("t", Plan("t"), guarantees=[violated(PUBLIC)])])
    assert not failing.passed
    text = render_run(failing, Style(False))
    assert "  FAIL (violated, expected proved) guarantee: no access from public: kms:Decrypt on key:data" in text
    assert text.splitlines()[-1].endswith("; 1 guarantee: 1 violated (1 failed)")
    assert result().passed  # unknown and an intended violation fail nothing


def test_json_gives_each_its_verdict_witness_and_replay() -> None:
    report = run_json(result())
    assert [len(state["guarantees"]) for state in report["states"]] == [2, 1]
    [shown] = report["states"][1]["guarantees"]
    assert shown == guarantee_json(violated(SHOWN))
    assert (shown["verdict"], shown["expect"], shown["passed"]) == ("violated", "violated", True)
    assert shown["witness"] == {"caller": "anonymous", "account": "", "principal_type": "Anonymous", "action": "kms:Decrypt",
                                "context": {"aws:SourceIp": ["10.0.0.1"]}, "tags": {}, "org_id": None, "vpc_endpoint": None,
                                "statements": ['statement "Open" (#1) of key policy arn:k']}
    assert shown["replay"] == {"outcome": "allowed", "reason": "the real call was allowed", "code": None}
    assert report["guarantees"] == {"guarantees": 3, "proved": 1, "violated": 1, "unknown": 1, "failed": 0}
    assert report["passed"] is True


def test_junit_fails_a_wrong_verdict_and_skips_an_unknown() -> None:
    run = result()
    run.states.append(StateResult("u", Plan("u"), guarantees=[violated(PUBLIC)]))
    suite = suite_element(run_json(run), "guarded")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    assert list(cases["s / guarantee only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders"]) == []
    [skipped] = list(cases["s / guarantee only nobody may kms:ScheduleKeyDeletion on key:data"])
    assert skipped.tag == "skipped" and skipped.get("message") == "unknown: solver timeout"
    [failure] = list(cases["u / guarantee no access from public: kms:Decrypt on key:data"])
    assert failure.tag == "failure" and "witness: anonymous kms:Decrypt" in (failure.text or "")
    assert ElementTree.tostring(suite)


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


def test_apply_decides_a_violated_guarantee_replays_its_witness_and_fails(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The trust policy trusts the account: any of its users whose identity policy allows
    sts:AssumeRole may assume the role (IAM User Guide, "Cross-account policy evaluation logic"),
    so `only: []` is violated, and the witness, made a throwaway user, really assumes it."""
    path = tmp_path / "guarded.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    assert main(["apply", str(path), "--output", "json", "--quiet"]) == 1
    [state] = json.loads(capsys.readouterr().out)["states"]
    [found] = state["guarantees"]
    assert (found["resource"], found["verdict"], found["passed"]) == ("role:reader", "violated", False)
    assert found["witness"]["action"] == "sts:AssumeRole" and found["replay"]["outcome"] == "allowed"


def test_an_intended_violation_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "guarded.yaml"
    path.write_text(SCENARIO.replace("only: []}", "only: [], expect: violated}"), encoding="utf-8")
    assert main(["apply", str(path), "--output", "json", "--quiet"]) == 0
    [state] = json.loads(capsys.readouterr().out)["states"]
    assert state["guarantees"][0]["verdict"] == "violated"
