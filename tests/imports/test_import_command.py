"""`orchestrate import TEMPLATE [-o FILE]`: the output validates, unknown types are noted (a comment
at the top and on stderr), bad input is one located message, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.imports.writer import MODELINE_PREFIX, SCHEMA_FILE

DATA = Path(__file__).parent / "data"


def test_import_writes_a_scenario_that_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed.yaml"
    assert main(["import", str(DATA / "seed.yaml"), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith(MODELINE_PREFIX)
    assert "PROPOSED by orchestrate's engine" in text
    assert "# Skipped (resource types orchestrate does not declare): Queue (AWS::SQS::Queue)" in text
    err = capsys.readouterr().err
    assert "skipped resources of types orchestrate does not declare: Queue (AWS::SQS::Queue)" in err
    assert main(["validate", str(out)]) == 0
    assert "valid (1 state, 10 expectations)" in capsys.readouterr().out


def test_import_prints_to_standard_output_without_o(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(DATA / "rich.yaml"), "--region", "eu-west-1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{MODELINE_PREFIX}{SCHEMA_FILE}\n")
    assert "region: eu-west-1" in captured.out
    assert "Fn (AWS::Lambda::Function)" in captured.err


def test_the_rich_output_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rich.yaml"
    assert main(["import", str(DATA / "rich.yaml"), "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0


@pytest.mark.parametrize("text, message", [
    ('{"Resources": ', ":1:15: not valid JSON: Expecting value"),
    ("Resources:\n  A: {Type: [\n", ":3:1: YAML syntax error"),
    ("name: seed\nstates: [{name: s}]\n", ":1:1: not a CloudFormation template"),
])
def test_bad_input_is_exit_2_with_one_located_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      text: str, message: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    out = tmp_path / "out.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and f"{path}{message}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_an_output_that_cannot_be_written_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing" / "seed.yaml"
    assert main(["import", str(DATA / "seed.yaml"), "-o", str(out)]) == 2
    assert f"{out}: cannot write the scenario: No such file or directory" in capsys.readouterr().err
