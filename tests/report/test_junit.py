"""JUnit that CI history can trust (issue 22, item 3): read back with junitparser, as CI tools read
it, the names are unique and stable within a suite, each case points at its expectation's file and
line, an errored expectation is an `<error type>` and a wrong outcome a `<failure>`, and the totals
are the numbers of the summary line and the progress lines, in the same words. GitHub annotations
carry line and column, and escape their properties as the runner reads them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml

from orchestrator.cli import main
from orchestrator.matrix.aggregate import github_annotations, workflow_command
from orchestrator.prove import runner
from orchestrator.report.junit import case_names, junit_text, suite_element

ROOT = Path(__file__).resolve().parents[2]
GRANT = ROOT / "scenarios" / "kms-grant.yaml"
VIA = ROOT / "scenarios" / "kms-via-service.yaml"
PREPARATION = "could not prepare kms:Decrypt: orchestrate's CreateAccessKey for user:admin failed with LimitExceeded: too many"


@pytest.fixture()
def admin_decrypt_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """admin's kms:Decrypt (kms-via-service) gets no access decision: its preparation fails."""
    real = runner.ready_to_observe

    def ready(ctx: Any, keys: Any, desired: Any, expectation: Any, state: str, number: int, *rest: Any) -> Any:
        if expectation.principal == "admin" and expectation.action == "kms:Decrypt":
            return runner.errored(expectation, state, number, "PreparationFailed", PREPARATION)
        return real(ctx, keys, desired, expectation, state, number, *rest)

    monkeypatch.setattr(runner, "ready_to_observe", ready)


@pytest.fixture()
def scenarios(tmp_path: Path) -> Path:
    """kms-grant (a state with three `reader kms:Decrypt key:data`) and kms-via-service with its
    tester's kms:Decrypt expected allowed: a wrong outcome."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(GRANT, folder / "grant.yaml")
    (folder / "via.yaml").write_text(VIA.read_text().replace("expect: denied", "expect: allowed", 1))
    return folder


def cases(xml: JUnitXml) -> list[tuple[Any, Any]]:
    return [(suite, case) for suite in xml for case in suite]


def test_junit_read_back_with_junitparser_is_what_the_summary_and_progress_say(
        scenarios: Path, tmp_path: Path, admin_decrypt_errors: None, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "junit.xml"
    assert main(["matrix", str(scenarios), "--jobs", "1", "--junit", str(target)]) == 1
    out = capsys.readouterr().out.splitlines()
    xml = JUnitXml.fromfile(str(target))

    for suite in xml:  # unique names within each suite; the three of kms-grant told apart by their own words
        names = [case.name for case in suite]
        assert len(names) == len(set(names)) == suite.tests, names
    grant = [case.name for suite, case in cases(xml) if "reader kms:Decrypt key:data" in case.name and "granted /" in case.name]
    assert grant == ["granted / reader kms:Decrypt key:data (the grant's constraint is met exactly)",
                     "granted / reader kms:Decrypt key:data (another encryption context does not meet EncryptionContextEquals)",
                     "granted / reader kms:Decrypt key:data (no encryption context at all does not meet it either)"]

    for suite, case in cases(xml):  # each case at its expectation: the line where `- as:` opens it
        file, line = case._elem.get("file"), int(case._elem.get("line"))
        assert file in (str(scenarios / "grant.yaml"), str(scenarios / "via.yaml")), file
        opening = ("- resource:",) if " / guarantee " in case.name else ("- as:", "- {as:")
        assert Path(file).read_text().splitlines()[line - 1].lstrip().startswith(opening), (case.name, line)

    results = {case.name: case.result for suite, case in cases(xml) if case.result}
    errored = results["via-dynamodb-only / admin kms:Decrypt key:data"]
    assert [type(r) for r in errored] == [Error] and errored[0].type == "PreparationFailed"
    assert PREPARATION in errored[0].message
    wrong = results["via-dynamodb-only / tester kms:Decrypt key:data"]
    assert [type(r) for r in wrong] == [Failure] and "expected allowed, was denied" in wrong[0].message
    assert len(results) == 2

    tests, failures, errors = xml.tests, xml.failures, xml.errors
    assert (tests, failures, errors, xml.skipped) == (sum(s.tests for s in xml), 1, 1, 0)
    assert out[-1] == f"2 scenarios: {tests - failures - errors} passed, {failures} failed, {errors} errored"
    progress = [line for line in out if line.startswith("[")]
    # its two guarantees pass beside its expectations (report/tally.py counts both)
    assert progress[-1].startswith("[2/2] kms-via-service: 4 passed, 1 failed, 1 errored in ")
    assert "kms-via-service: 4 passed, 1 failed, 1 errored (" in "\n".join(out)  # the scenario's own line


def test_apply_says_errored_where_its_progress_and_junit_do(tmp_path: Path, admin_decrypt_errors: None,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "junit.xml"
    assert main(["apply", str(VIA), "--junit", str(target)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^\[1/1\] state via-dynamodb-only: 3 passed, 1 errored in ", out, re.M), out
    assert out.rstrip().splitlines()[-1] == "3 passed, 0 failed, 1 errored; 2 guarantees: 2 proved"
    [suite] = JUnitXml.fromfile(str(target))
    assert (suite.tests, suite.failures, suite.errors) == (6, 0, 1)  # 4 expectations, 2 guarantees


def verdict(state: str, index: int, description: str | None = None, action: str = "kms:Decrypt") -> dict[str, Any]:
    return {"state": state, "index": index, "principal": "reader", "action": action, "resource": "key:data",
            "description": description, "line": 10 + index, "col": 9, "expected": "allowed", "actual": "allowed",
            "passed": True, "reason": "allowed", "problems": [], "settle_seconds": 0.0, "error_code": None}


def test_case_names_own_words_then_number_only_where_still_needed() -> None:
    verdicts = [verdict("s", 0, "one"), verdict("s", 1, "two"), verdict("s", 2), verdict("s", 3), verdict("s", 4, action="kms:Encrypt"),
                verdict("t", 0, "same"), verdict("t", 1, "same")]
    assert case_names(verdicts) == [
        "s / reader kms:Decrypt key:data (one)", "s / reader kms:Decrypt key:data (two)",
        "s / reader kms:Decrypt key:data #3", "s / reader kms:Decrypt key:data #4", "s / reader kms:Encrypt key:data",
        "t / reader kms:Decrypt key:data (same) #1", "t / reader kms:Decrypt key:data (same) #2"]
    assert case_names(list(reversed(verdicts))) == list(reversed(case_names(verdicts))), "not the order they finished in"


def test_a_scenario_that_could_not_finish_is_one_typed_error_in_the_totals() -> None:
    report = {"file": "x.yaml", "states": [{"expectations": [verdict("s", 0)]}]}
    error = "state s: AWS error ThrottlingException from PutKeyPolicy: Rate exceeded"
    xml = JUnitXml.fromstring(junit_text([suite_element(report, "x", 1.0, error),
                                          suite_element(None, "y", 0.5, "cannot reach http://127.0.0.1:9", "y.yaml")]))
    assert (xml.tests, xml.failures, xml.errors) == (3, 0, 2)
    [[x_error, _], [y_error]] = [[case.result[0] if case.result else None for case in suite] for suite in xml]
    assert (x_error.type, y_error.type) == ("ThrottlingException", "InfrastructureFailure")


def test_workflow_command_escapes_properties_and_message_as_the_runner_reads_them() -> None:
    assert workflow_command("error", "50% done\r\nnext: a, b", file="a,b.yaml", line=3, col=9, title="x: y, z") == (
        "::error file=a%2Cb.yaml,line=3,col=9,title=x%3A y%2C z::50%25 done%0D%0Anext: a, b")
    assert workflow_command("error", "m", file="f.yaml", line=None) == "::error file=f.yaml::m"


def test_annotations_point_at_the_expectation() -> None:
    failed = verdict("s", 2) | {"actual": "denied", "passed": False, "problems": ["expected allowed, was denied"]}
    errored = verdict("s", 3) | {"actual": "error", "passed": False, "problems": ["could not prepare"], "error_code": "PreparationFailed"}
    outcome = {"file": "x.yaml", "name": "x", "error": None,
               "report": {"states": [{"name": "s", "expectations": [verdict("s", 0), failed, errored]}]}}
    assert github_annotations([outcome]).splitlines() == [
        "::error file=x.yaml,line=12,col=9,title=x s%3A reader kms%3ADecrypt key%3Adata failed::expected allowed, was denied — allowed",
        "::error file=x.yaml,line=13,col=9,title=x s%3A reader kms%3ADecrypt key%3Adata errored::could not prepare — allowed"]


def test_errored_is_an_error_and_a_wrong_outcome_a_failure_each_at_its_line() -> None:
    failed = verdict("s", 1) | {"actual": "denied", "passed": False, "problems": ["expected allowed, was denied"]}
    errored = verdict("s", 2, action="kms:Encrypt") | {"actual": "error", "passed": False, "problems": ["the call failed: x"],
                                                       "error_code": "CallFailed", "error_message": "the call failed: x"}
    report = {"file": "x.yaml", "states": [{"expectations": [verdict("s", 0, action="kms:Sign"), failed, errored]}]}
    [suite] = JUnitXml.fromstring(junit_text([suite_element(report, "x")]))
    found = [(case._elem.get("file"), case._elem.get("line"), [type(r).__name__ for r in case.result]) for case in suite]
    assert found == [("x.yaml", "10", []), ("x.yaml", "11", ["Failure"]), ("x.yaml", "12", ["Error"])]
    assert [case for case in suite][2].result[0].type == "CallFailed"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 1, 1, 0)


def test_a_skipped_verdict_is_a_skipped_case_counted_apart_from_the_others() -> None:
    """A skip (prove/runner.py skip_reason) is `<skipped message>`, in the suite's and the root's
    `skipped` totals, and neither a failure nor an error."""
    def verdict(index: int, **kind: Any) -> dict[str, Any]:
        return {"state": "s", "index": index, "principal": "reader", "action": "s3:GetObject", "resource": f"object:b/{index}",
                "expected": "allowed", "actual": "allowed", "passed": True, "reason": "why", "problems": [],
                "settle_seconds": 0.0, **kind}

    report = {"states": [{"expectations": [verdict(0), verdict(1, actual="skipped", passed=False, skipped=True,
                                                                  reason="only from inside its VPC")]}]}
    xml = JUnitXml.fromstring(junit_text([suite_element(report, "vpce")]))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (2, 0, 0, 1)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (2, 0, 0, 1)
    skipped = [case for case in suite if case.is_skipped]
    assert len(skipped) == 1 and skipped[0].result[0].message == "only from inside its VPC"
