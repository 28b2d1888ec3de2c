"""`orchestrate run`: apply, then destroy; a failing destroy must not hide the apply's error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.cli import main
from orchestrator.errors import RunFailure
from orchestrator.prove import runner
from orchestrator.reconcile import apply as reconcile_apply

SEED = str(Path(__file__).resolve().parents[2] / "scenarios" / "kms-dynamodb-access.yaml")


def _refused_destroy(*_: Any, **__: Any) -> None:
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no iam:DeleteUser"}}, "DeleteUser")


def test_a_failing_destroy_after_a_failed_apply_reports_both(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    real = runner.run_states

    def failing_run(*args: Any, **kwargs: Any) -> runner.RunResult:
        result = real(*args, **kwargs)
        result.error = RunFailure("backend", "AWS error KMSInternalException from PutKeyPolicy: boom", "state with-key-grant",
                                  "KMSInternalException")
        return result

    monkeypatch.setattr(runner, "run_states", failing_run)
    monkeypatch.setattr(reconcile_apply, "destroy", _refused_destroy)
    assert main(["run", SEED, "--no-color"]) == 3
    err = capsys.readouterr().err
    assert "KMSInternalException from PutKeyPolicy: boom" in err
    assert "AccessDenied from DeleteUser: no iam:DeleteUser" in err
    assert err.index("PutKeyPolicy") < err.index("DeleteUser"), "the apply's error comes first"
