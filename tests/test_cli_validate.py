"""`orchestrate validate`: exit codes, JSON output, paths that are not scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_valid_folder_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "scenarios")]) == 0
    assert "kms-dynamodb-access.yaml: valid" in capsys.readouterr().out


def test_json_output_lists_errors_with_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstates:\n  - name: a\n    expectations: [{as: t, action: kms:Nope, resource: key:k, expect: allowed}]\n")
    assert main(["validate", "--output", "json", str(bad)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["format_version"] == "1" and report["valid"] is False
    assert "version" not in report
    [error] = report["errors"]
    assert (error["line"], error["path"]) == (4, "states[0].expectations[0].action")
    assert error["column"] > 1


def test_missing_path_and_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml"), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{tmp_path / 'nope.yaml'}: no such file or folder", f"{tmp_path}: the folder holds no scenario files (*.yaml, *.yml)"]


def test_one_bad_file_does_not_hide_the_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text("- not a mapping\n")
    (tmp_path / "good.yaml").write_text((ROOT / "scenarios" / "kms-dynamodb-access.yaml").read_text())
    assert main(["validate", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "good.yaml: valid" in captured.out
    assert "bad.yaml:1:1: the top level must be a mapping" in captured.err


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["frobnicate"]) == 2


def test_json_output_shares_the_envelope_of_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--output", "json", str(ROOT / "scenarios")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format_version"] == "1" and isinstance(report["format_version"], str)
    assert report["valid"] is True and report["errors"] == []
    assert len(report["scenarios"]) == len(list((ROOT / "scenarios").glob("*.yaml")))
