"""plan / apply / drift / destroy as commands on the embedded default, and the AWS account guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto import mock_aws

from orchestrator.backends.aws import AwsBackend
from orchestrator.backends.base import BackendError
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")


def test_plan_on_a_fresh_world_lists_creations_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SEED, "--no-color"]) == 2
    out = capsys.readouterr().out
    assert "+ kms_key.data" in out and "+ dynamodb_table.orders" in out
    assert "Plan: 6 to create." in out


def test_plan_json_is_versioned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SEED, "--output", "json"]) == 2
    plan = json.loads(capsys.readouterr().out)
    assert plan["format_version"] == "1" and plan["state"] == "without-key-grant"
    assert {c["address"] for c in plan["changes"] if c["action"] == "create"} >= {"iam_user.tester", "kms_key.data"}


def test_apply_reports_each_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "State without-key-grant" in out and '+ "Sid": "TesterDecrypt"' in out


def test_drift_of_an_empty_world_is_every_resource_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", SEED, "--output", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "with-key-grant"
    assert {d["DifferenceType"] for d in report["differences"]} == {"MISSING"}


def test_unknown_state_is_invalid_input_and_an_error_for_plan(capsys: pytest.CaptureFixture[str]) -> None:
    """plan's 2 means changes (Terraform's -detailed-exitcode): invalid input is its 1."""
    assert main(["plan", SEED, "--state", "nope"]) == 1
    assert "no state named 'nope'" in capsys.readouterr().err


def test_invalid_scenario_is_exit_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstates: []\n")
    assert main(["apply", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:2:9: a scenario needs at least one state" in err and "Traceback" not in err


def test_unreachable_endpoint_is_an_infrastructure_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--endpoint-url", "http://127.0.0.1:9"]) == 3
    assert capsys.readouterr().err == "cannot reach http://127.0.0.1:9: connection refused\n"


@mock_aws
def test_aws_target_refuses_another_account() -> None:
    backend = AwsBackend("us-east-1")
    with pytest.raises(BackendError) as caught:
        backend.guard("999999999999")
    assert str(caught.value) == "refusing to act: the credentials are for account 123456789012, the scenario expects account 999999999999"
    with pytest.raises(BackendError, match="without an account guard"):
        backend.guard(None)
    backend.guard("123456789012")
