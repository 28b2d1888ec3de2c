"""Exit codes from one enum (orchestrator/exit_codes.py; issue 22, item 2): plan and drift follow
Terraform's -detailed-exitcode (0 no changes, 1 error, invalid input included, 2 changes); every
other command keeps 2 for invalid input."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import build_parser, main
from orchestrator.exit_codes import MEANINGS, ExitCode, describe, invalid_input

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")


@pytest.fixture
def invalid(tmp_path: Path) -> str:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstates: []\n")
    return str(bad)


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_invalid_input_is_1_for_plan_and_drift(command: str, invalid: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, invalid]) == 1
    assert "bad.yaml:2:9: a scenario needs at least one state" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["apply", "run", "destroy", "export", "access", "mutate"])
def test_invalid_input_stays_2_for_the_other_commands(command: str, invalid: str) -> None:
    argv = [command, invalid] + (["--format", "terraform"] if command == "export" else [])
    assert main(argv) == 2


@pytest.mark.parametrize("command, code", [("plan", 1), ("drift", 1), ("apply", 2), ("validate", 2)])
def test_bad_usage_is_the_commands_invalid_input(command: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, SEED, "--no-such-option"]) == code
    assert f"orchestrate {command}: unknown option '--no-such-option'." in capsys.readouterr().err


def test_an_unknown_command_is_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plna", SEED]) == 2


def test_plan_and_drift_exit_2_on_changes_then_0_after_apply(backend: EmbeddedBackend,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SEED]) == ExitCode.CHANGES == 2
    assert main(["drift", SEED]) == 2
    assert main(["apply", SEED, "--quiet"]) == 0
    assert main(["plan", SEED]) == ExitCode.OK == 0
    assert main(["drift", SEED]) == 0
    assert main(["plan", SEED, "--state", "nope"]) == ExitCode.ERROR == 1


def test_every_command_says_what_its_codes_mean() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == set(MEANINGS)
    assert describe("plan").startswith("0 no changes (the world is in the last state, where apply leaves it),"
                                       " 1 error (invalid input, unknown state, backend unreadable), 2 changes")
    assert describe("drift").startswith("0 in sync, 1 error")
    for command in ("plan", "drift"):
        assert invalid_input(command) is ExitCode.ERROR and "invalid input" in MEANINGS[command][ExitCode.ERROR]
    assert invalid_input("apply") is ExitCode.INVALID and "invalid input" in MEANINGS["apply"][ExitCode.INVALID]
