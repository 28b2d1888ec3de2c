"""Mutation testing end to end: survivors located in the file, suggestions that kill them,
equivalent mutants apart, the score, the command's exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.analysis.mutate import MutationReport, mutation_report, run_embedded
from orchestrator.report.mutate_json import report_json
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.model.scenario import Expectation

SCENARIO = """\
name: mutation-probe
users:
  admin:
    managed_policies: [AdministratorAccess]
  auditor: {}
keys:
  data:
    policy:
      Statement:
        - Sid: KeyAdministration
          Effect: Allow
          Principal: {AWS: "user:admin"}
          Action: "kms:*"
          Resource: "*"
        - Sid: AuditorDescribe
          Effect: Allow
          Principal: {AWS: "user:auditor"}
          Action: kms:DescribeKey
          Resource: key:data
states:
  - name: only
    expectations:
      - as: admin
        action: kms:DescribeKey
        resource: key:data
        expect: allowed
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "probe.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of needle's first character."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def results_of(report: MutationReport, label: str, status: str | None = None) -> dict[str, Any]:
    return {r.mutant.operator: r for r in report.results if r.mutant.site.label == label and status in (None, r.status)}


def test_an_untested_statement_survives_at_its_place_in_the_file(scenario: Path) -> None:
    report = mutation_report(load_scenario(scenario))
    line, col = where(SCENARIO, "Sid: AuditorDescribe")
    survivors = results_of(report, "AuditorDescribe", "survived")
    # principal-any changes no named principal's cell, yet lets in anyone outside the account: it
    # survives with a guarantee to paste (analysis/mutate_guarantees.py), no longer equivalent
    assert set(survivors) == {"delete-statement", "flip-effect", "principal-account", "action-wildcard", "principal-any"}
    assert survivors["principal-any"].suggestion.section == "guarantees"
    for result in survivors.values():
        assert result.at == f"{scenario}:{line}:{col}"
        assert result.mutant.site.policy == "key policy of key:data"
        assert result.suggestion is not None and result.suggestion.state == "only"
    deleted = survivors["delete-statement"].suggestion
    assert yaml.safe_load(deleted.yaml) == [{"as": "auditor", "action": "kms:DescribeKey", "resource": "key:data",
                                             "expect": "allowed"}]
    assert deleted.yaml.startswith("- as: auditor\n  action: kms:DescribeKey\n")
    Expectation.model_validate(yaml.safe_load(survivors["action-wildcard"].suggestion.yaml)[0])


def test_equivalent_mutants_are_listed_apart_and_not_counted(scenario: Path) -> None:
    report = mutation_report(load_scenario(scenario))
    equivalent = results_of(report, "AuditorDescribe", "equivalent")
    assert "resource-any" in equivalent  # a key policy's Resource is always the key itself
    assert equivalent["resource-any"].mutant.detail == "key:data -> *"
    killed, survived = report.count("killed"), report.count("survived")
    assert report.score == pytest.approx(killed / (killed + survived))
    assert report.count("equivalent") >= 1 and report.disagreements == []


def test_the_suggestion_pasted_into_the_state_kills_the_mutant(scenario: Path) -> None:
    before = mutation_report(load_scenario(scenario))
    suggestion = results_of(before, "AuditorDescribe", "survived")["delete-statement"].suggestion
    pasted = SCENARIO + "".join(f"      {line}\n" for line in suggestion.yaml.splitlines())
    scenario.write_text(pasted, encoding="utf-8")
    after = mutation_report(load_scenario(scenario))
    killed = results_of(after, "AuditorDescribe", "killed")
    assert {"delete-statement", "flip-effect", "principal-account"} <= set(killed)
    assert killed["delete-statement"].kill.index == 1 and killed["delete-statement"].kill.after.startswith("denied")
    assert after.score > before.score


def test_a_patch_statement_survives_where_the_patch_writes_it(tmp_path: Path) -> None:
    text = SCENARIO.replace("""        - Sid: AuditorDescribe
          Effect: Allow
          Principal: {AWS: "user:auditor"}
          Action: kms:DescribeKey
          Resource: key:data
""", "") + """  - name: later
    patch:
      keys:
        data:
          policy:
            Statement:
              AuditorDescribe: {Effect: Allow, Principal: {AWS: "user:auditor"}, Action: kms:DescribeKey, Resource: "*"}
"""
    path = tmp_path / "patched.yaml"
    path.write_text(text, encoding="utf-8")
    report = mutation_report(load_scenario(path))
    line, col = where(text, "AuditorDescribe:")
    survivor = results_of(report, "AuditorDescribe", "survived")["delete-statement"]
    assert survivor.at == f"{path}:{line}:{col}" and survivor.mutant.site.state == 1
    assert survivor.suggestion is not None and survivor.suggestion.state == "later"


def test_the_command_json_and_exit_codes(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", str(scenario), "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format_version"] == "1" and data["scenario"] == "mutation-probe" and data["backend"] == "engine"
    assert set(data["counts"]) == {"mutants", "killed", "survived", "equivalent", "invalid"}
    assert 0 < data["score"] < 1 and data["passed"] is True
    survivor = next(m for m in data["mutants"] if m["status"] == "survived" and m["operator"] == "delete-statement")
    assert survivor["statement"] == "AuditorDescribe" and survivor["at"] == f"{scenario}:{survivor['line']}:{survivor['col']}"
    assert survivor["path"] == "keys.data.policy.Statement[1]" and survivor["policy"] == "key policy of key:data"
    assert survivor["suggestion"]["state"] == "only" and survivor["changed_cells"]
    assert main(["mutate", str(scenario), "--min-score", "0.99"]) == 1
    assert "below --min-score 0.99" in capsys.readouterr().out


def test_bad_input_is_exit_2(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", str(tmp_path / "missing.yaml")]) == 2
    assert main(["mutate", str(scenario), "--min-score", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_text_names_survivors_with_their_suggestion(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", str(scenario)]) == 0
    out = capsys.readouterr().out
    line, col = where(SCENARIO, "Sid: AuditorDescribe")
    assert f"{scenario}:{line}:{col}: AuditorDescribe (key policy of key:data): delete-statement" in out
    assert "under `expectations:` of state only:" in out and "\n      - as: auditor\n" in out
    assert "Equivalent mutants" in out


def test_embedded_backend_agrees_on_two_mutants(scenario: Path) -> None:
    loaded = load_scenario(scenario)
    report = mutation_report(loaded)
    chosen = [r for r in report.results if r.mutant.site.label == "AuditorDescribe"
              and r.mutant.operator in ("delete-statement", "resource-any")]
    report.results = chosen
    offline = [r.status for r in chosen]
    run_embedded(loaded, report)
    assert [r.embedded for r in chosen] == ["survived", "survived"]
    assert [r.status for r in chosen] == offline
    assert report_json(report, ["only"], 0.0, "embedded")["counts"]["mutants"] == 2


def test_matrix_mutate_adds_the_score_per_scenario(scenario: Path) -> None:
    from orchestrator.cli import build_parser
    from orchestrator.matrix import aggregate
    from orchestrator.matrix.worker import mutation_summary

    assert build_parser().parse_args(["matrix", "--mutate"]).mutate is True
    summary = mutation_summary(load_scenario(scenario))
    assert set(summary) == {"score", "mutants", "killed", "survived", "equivalent", "invalid"}
    outcome = {"name": "mutation-probe", "file": str(scenario), "error": None, "seconds": 0.1, "mutation": summary,
               "report": {"passed": True, "summary": {"passed": 1, "failed": 0}, "states": []}}
    table = aggregate.markdown([outcome])
    assert "| mutation score |" in table and aggregate.mutation_words(outcome) in table


def test_role_session_verdicts_follow_their_session_policies(capsys: pytest.CaptureFixture[str]) -> None:
    """An expectation with session fields is decided as that session (its cell's variant): the
    bucket policy naming session:worker/auditor is what lets the auditor session, whose session
    policy keeps s3:GetObject only, put objects, so a mutant that names the account instead is
    killed by it (denied by the session policy); one that names anyone lets the reader session put."""
    path = Path(__file__).resolve().parents[2] / "scenarios" / "role-sessions.yaml"
    report = mutation_report(load_scenario(path))
    assert report.disagreements == []
    by = {(r.mutant.site.label, r.mutant.operator): r for r in report.results}
    named = by[("AuditorSessionPuts", "principal-account")]
    assert named.status == "killed" and named.kill is not None
    assert named.kill.expectation.session_name == "auditor"
    assert (named.kill.before, named.kill.after) == ("allowed", "denied (session-policy)")
    anyone = by[("AuditorSessionPuts", "principal-any")]
    assert anyone.status == "killed" and anyone.kill is not None
    assert anyone.kill.expectation.session_name == "reader"
    assert (anyone.kill.before, anyone.kill.after) == ("denied (session-policy)", "allowed")
    assert main(["mutate", str(path), "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["disagreements"] == [] and data["counts"]["killed"] == report.count("killed")


def test_a_mutant_that_empties_statement_is_invalid_not_killed(tmp_path: Path) -> None:
    """Deleting a lone statement leaves `Statement: []`, which AWS refuses (MalformedPolicyDocument):
    the loader refuses it too, so it is invalid, not killed by an engine denying an unreadable policy."""
    text = SCENARIO.replace("""        - Sid: AuditorDescribe
          Effect: Allow
          Principal: {AWS: "user:auditor"}
          Action: kms:DescribeKey
          Resource: key:data
""", "").replace("      Statement:\n        - Sid:", "      Statement:\n          Sid:")
    path = tmp_path / "lone.yaml"
    path.write_text(text, encoding="utf-8")
    report = mutation_report(load_scenario(path))
    [deleted] = [r for r in report.results if r.mutant.operator == "delete-statement"]
    assert deleted.status == "invalid" and "at least 1 item" in (deleted.problem or "")


def test_the_command_shows_progress_on_stderr_unless_quiet(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A long mutate is not silent: a flushed line per ten mutants decided (and the last), on stderr."""
    assert main(["mutate", str(scenario), "--output", "json"]) == 0
    captured = capsys.readouterr()
    total = json.loads(captured.out)["counts"]["mutants"]
    lines = captured.err.splitlines()
    assert len(lines) == -(-total // 10) and lines[-1].startswith(f"[{total}/{total}] mutants decided: ")
    assert "killed" in lines[-1] and lines[-1].endswith(" s")
    assert main(["mutate", str(scenario), "--output", "json", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_progress_counts_mutants_per_every_n() -> None:
    import io

    from orchestrator.report.progress import Progress

    stream = io.StringIO()
    progress = Progress(25, stream, False, every=10)
    for done in range(1, 26):
        progress.mutants_done({"killed": done, "survived": 0}, done / 10)
    assert stream.getvalue().splitlines() == ["[10/25] mutants decided: 10 killed in 1.0 s",
                                              "[20/25] mutants decided: 20 killed in 2.0 s",
                                              "[25/25] mutants decided: 25 killed in 2.5 s"]


GUARDRAIL_DATA = Path(__file__).resolve().parents[1] / "resources" / "data"


def test_guardrail_statements_are_mutated_and_killed_by_the_layer_that_caps() -> None:
    """An SCP's statements are mutation sites like a key policy's (issue 23): flipping the deny
    to an allow is noticed by the expectation the SCP denies, with the `scp` layer."""
    report = mutation_report(load_scenario(GUARDRAIL_DATA / "org-scp.yaml"))
    scp = results_of(report, "NoDeletion")
    assert {result.mutant.site.policy for result in scp.values()} == {"SCP NoKeyDeletion"}
    flipped = scp["flip-effect"]
    assert flipped.status == "killed" and flipped.kill.before == "denied (scp)" and flipped.kill.after == "allowed"


def test_a_suggestion_through_a_vpc_endpoint_names_it_and_kills_the_survivor(tmp_path: Path) -> None:
    """Without an expectation through the endpoint on a listing, widening the endpoint policy to
    s3:* survives; the suggestion sends its request through the endpoint (`vpc_endpoint`), and
    pasted into the state it kills the mutant."""
    text = (GUARDRAIL_DATA / "vpce-bucket.yaml").read_text(encoding="utf-8")
    last = next(line for line in text.splitlines() if "s3:ListBucket" in line and "vpc_endpoint" in line)
    path = tmp_path / "vpce.yaml"
    path.write_text(text.replace(last + "\n", ""), encoding="utf-8")
    survivor = results_of(mutation_report(load_scenario(path)), "ReadOnly", "survived")["action-wildcard"]
    suggested = yaml.safe_load(survivor.suggestion.yaml)[0]
    assert suggested["vpc_endpoint"] == "s3-endpoint" and suggested["expect"] == "denied"
    path.write_text(path.read_text(encoding="utf-8") + "".join(f"      {line}\n" for line in survivor.suggestion.yaml.splitlines()),
                    encoding="utf-8")
    assert results_of(mutation_report(load_scenario(path)), "ReadOnly")["action-wildcard"].status == "killed"
