"""`orchestrate export`: writes the template (standard output or -o), exit 2 with one located
message and no traceback for a bad file, an unknown state or an unwritable path."""

from __future__ import annotations

from pathlib import Path

import hcl2
import yaml

from orchestrator.cli import main
from orchestrator.export.notes import Note

SCENARIO = str(Path(__file__).resolve().parents[2] / "scenarios" / "kms-dynamodb-access.yaml")


def test_cloudformation_to_standard_output(capsys) -> None:
    assert main(["export", SCENARIO, "--format", "cloudformation", "--state", "without-key-grant"]) == 0
    out, err = capsys.readouterr()
    template = yaml.safe_load(out)
    assert template["Metadata"]["Orchestrate"] == {"Scenario": "kms-dynamodb-access", "State": "without-key-grant"}
    assert "left out" in err


def test_terraform_to_a_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "main.tf"
    assert main(["export", SCENARIO, "--format", "terraform", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert "resource" in hcl2.loads(target.read_text())


def test_unknown_state_is_one_located_message(capsys) -> None:
    assert main(["export", SCENARIO, "--format", "terraform", "--state", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{SCENARIO}:1:1: no state named 'nope'") and "Traceback" not in err


def test_bad_file_is_one_located_message(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nstates: [\n")
    assert main(["export", str(broken), "--format", "cloudformation"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{broken}:") and "Traceback" not in err


def test_unwritable_output_path(tmp_path: Path, capsys) -> None:
    assert main(["export", SCENARIO, "--format", "terraform", "-o", str(tmp_path / "no" / "main.tf")]) == 2
    assert "cannot write the template" in capsys.readouterr().err


def test_format_is_required(capsys) -> None:
    assert main(["export", SCENARIO]) == 2


def test_note_covers_its_path_and_below() -> None:
    note = Note("dynamodb_table.orders", "items", "why")
    assert note.covers("dynamodb_table.orders", "items") and note.covers("dynamodb_table.orders", "items[0]")
    assert not note.covers("dynamodb_table.orders", "policy") and not note.covers("dynamodb_table.other", "items")
    assert Note("iam_user.analyst", "", "why").covers("iam_user.analyst", "")
