"""Progress that CI can read: a line per finished state or scenario, a live counter on a terminal,
nothing with --quiet, and never inside a machine document on stdout."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.prove.assertions import Outcome, Verdict
from orchestrator.prove.runner import StateResult
from orchestrator.reconcile.plan import Plan
from orchestrator.report.progress import CLEAR_LINE, Progress, tally

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
VIA = ROOT / "scenarios" / "kms-via-service.yaml"
LINE = re.compile(r"^\[(\d+)/(\d+)\] (.+): (\d+ passed(?:, \d+ failed)?(?:, \d+ errored)?|errored \(.*\)) in \d+\.\d s$")


def verdict(passed: bool = True, errored: bool = False) -> Verdict:
    made = Verdict("s", 0, "tester", "kms:Decrypt", "key:data", "allowed", Outcome(passed, errored=errored), None, None, "")
    made.problems = [] if passed else ["expected allowed, was denied"]
    return made


def state(name: str, *verdicts: Verdict) -> StateResult:
    return StateResult(name, Plan(name), list(verdicts))


def outcome(name: str, error: str | None = None, *actuals: str) -> dict[str, Any]:
    expectations = [{"passed": actual == "allowed", "actual": actual} for actual in actuals]
    report = None if error else {"states": [{"expectations": expectations}]}
    return {"file": f"{name}.yaml", "name": name, "report": report, "error": error, "seconds": 1.44}


def test_tally_leaves_out_zero_counts_after_passed() -> None:
    assert [tally(0, 0), tally(3, 0), tally(3, 1), tally(3, 0, 2), tally(1, 1, 1)] == [
        "0 passed", "3 passed", "3 passed, 1 failed", "3 passed, 2 errored", "1 passed, 1 failed, 1 errored"]


def test_not_a_terminal_one_flushed_line_per_state() -> None:
    stream = io.StringIO()
    progress = Progress(2, stream, is_tty=False)
    progress.state_done(state("without-key-grant", verdict()), 0.42)
    progress.state_done(state("with-key-grant", verdict(), verdict(False), verdict(False, errored=True)), 1.25)
    progress.finish()
    assert stream.getvalue() == ("[1/2] state without-key-grant: 1 passed in 0.4 s\n"
                                 "[2/2] state with-key-grant: 1 passed, 1 failed, 1 errored in 1.2 s\n")


def test_not_a_terminal_one_line_per_scenario() -> None:
    stream = io.StringIO()
    progress = Progress(3, stream, is_tty=False)
    progress.scenario_done(outcome("seed", None, *["allowed"] * 12))
    progress.scenario_done(outcome("via", None, "allowed", "denied", "error"))
    progress.scenario_done(outcome("gone", "cannot reach http://127.0.0.1:9: connection refused\nmore"))
    assert stream.getvalue().splitlines() == ["[1/3] seed: 12 passed in 1.4 s", "[2/3] via: 1 passed, 1 failed, 1 errored in 1.4 s",
                                              "[3/3] gone: errored (cannot reach http://127.0.0.1:9: connection refused) in 1.4 s"]


def test_on_a_terminal_a_live_counter_on_one_line_cleared_at_the_end() -> None:
    stream = io.StringIO()
    with Progress(2, stream, is_tty=True) as progress:
        progress.scenario_done(outcome("seed", None, "allowed"))
        progress.scenario_done(outcome("via", None, "allowed", "denied"))
    text = stream.getvalue()
    assert "\n" not in text
    assert text == (CLEAR_LINE + "[1/2] seed: 1 passed in 1.4 s" + CLEAR_LINE + "[2/2] via: 1 passed, 1 failed in 1.4 s"
                    + CLEAR_LINE)
    assert text.count("\r") == 3 and text.endswith("\r\x1b[K"), "the last write erases the counter"


def test_on_a_terminal_the_counter_fits_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *args: os.terminal_size((20, 5)))
    stream = io.StringIO()
    Progress(1, stream, is_tty=True).scenario_done(outcome("a-very-long-scenario-name", None, "allowed"))
    shown = stream.getvalue().removeprefix(CLEAR_LINE)
    assert len(shown) == 19 and shown.endswith("…")


def test_the_counter_is_cleared_when_the_run_raises() -> None:
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt), Progress(2, stream, is_tty=True) as progress:
        progress.state_done(state("one", verdict()), 0.1)
        raise KeyboardInterrupt
    assert stream.getvalue().endswith(CLEAR_LINE)


@pytest.mark.parametrize("is_tty", [False, True])
def test_quiet_prints_nothing(is_tty: bool) -> None:
    stream = io.StringIO()
    with Progress(2, stream, is_tty=is_tty, quiet=True) as progress:
        progress.state_done(state("one", verdict()), 0.1)
        progress.scenario_done(outcome("seed", None, "allowed"))
    assert stream.getvalue() == "" and progress.done == 2


def test_apply_prints_a_line_per_state_in_order_before_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--no-color"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line for line in lines if LINE.match(line)] == lines[:2], "the progress lines come first, then the report"
    assert re.fullmatch(r"\[1/2\] state without-key-grant: 2 passed in \d+\.\d s", lines[0])
    assert re.fullmatch(r"\[2/2\] state with-key-grant: 1 passed in \d+\.\d s", lines[1])
    assert "[1/2]" not in captured.err


def test_apply_state_counts_only_the_states_it_walks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--state", "without-key-grant"]) == 0
    assert re.match(r"\[1/1\] state without-key-grant: 2 passed in ", capsys.readouterr().out)


def test_apply_json_keeps_stdout_a_document_and_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--output", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["format_version"] == "1"
    assert [line.split(":")[0] for line in captured.err.splitlines()] == ["[1/2] state without-key-grant",
                                                                          "[2/2] state with-key-grant"]


def test_apply_quiet_prints_only_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--quiet", "--output", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["passed"] is True and captured.err == ""
    assert main(["run", SEED, "--quiet", "--no-color"]) == 0
    assert not any(LINE.match(line) for line in capsys.readouterr().out.splitlines())


def test_run_prints_the_progress_lines_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SEED, "--no-color"]) == 0
    assert capsys.readouterr().out.startswith("[1/2] state without-key-grant: 2 passed in ")


@pytest.fixture()
def two_scenarios(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.yaml")
    shutil.copy(VIA, folder / "via.yaml")
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_matrix_prints_a_line_per_scenario_as_it_finishes(two_scenarios: Path, jobs: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(two_scenarios), "--jobs", jobs]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:6] for line in lines[:2]] == ["[1/2] ", "[2/2] "]
    assert all(LINE.match(line) for line in lines[:2]), lines
    assert sorted(line.split(":")[0][6:] for line in lines[:2]) == ["kms-dynamodb-access", "kms-via-service"]
    assert [line.split(":")[0].split()[-1] for line in lines[2:4]] == ["kms-dynamodb-access", "kms-via-service"], \
        "the aggregate keeps the order of files whichever finished first"
    assert lines[-1] == "2 scenarios: 13 passed, 0 failed, 0 errored"  # 7 expectations, 6 guarantees


def test_matrix_json_keeps_stdout_a_document_and_progress_on_stderr(two_scenarios: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(two_scenarios), "--jobs", "2", "--output", "json"]) == 0
    captured = capsys.readouterr()
    assert [s["name"] for s in json.loads(captured.out)["scenarios"]] == ["kms-dynamodb-access", "kms-via-service"]
    assert [line[:5] for line in captured.err.splitlines()] == ["[1/2]", "[2/2]"]


def test_matrix_quiet_prints_only_the_summary(two_scenarios: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(two_scenarios), "--jobs", "1", "--quiet", "--output", "markdown"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("### orchestrate scenario matrix") and captured.err == ""
