"""Access keys made for principals are deleted even when a run fails midway, and never appear
in any output, report or log."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import orchestrator.prove.principals
from orchestrator.backends.base import Credentials
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.resources.context import RunContext
from orchestrator.prove.runner import run_states

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"


class Boom(Exception):
    pass


def test_keys_are_deleted_when_the_run_fails_midway() -> None:
    loaded = load_scenario(SEED)
    backend = EmbeddedBackend(loaded.scenario.region)
    try:
        made: list[str] = []

        def fail_on_second_principal_call(service: str, operation: str, params: dict[str, Any]) -> None:
            if operation == "CreateAccessKey":
                made.append(params["UserName"])
            if operation == "GetItem" and len(made) == 2:
                raise Boom("network went away")

        backend.observe(fail_on_second_principal_call)
        with pytest.raises(Boom):
            run_states(RunContext(backend, loaded.scenario.name), loaded, len(loaded.scenario.states) - 1)
        assert made == ["tester", "admin"]
        iam = backend.client("iam")
        for user in made:
            assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    finally:
        backend.close()


def test_keys_appear_in_no_output_report_or_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    made: list[Credentials] = []
    real = orchestrator.prove.principals.PrincipalKeys.credentials

    def recording(self: Any, user: str) -> Credentials:
        credentials = real(self, user)
        if credentials not in made:
            made.append(credentials)
        return credentials

    monkeypatch.setattr(orchestrator.prove.principals.PrincipalKeys, "credentials", recording)
    caplog.set_level(logging.INFO)
    changed = tmp_path / "seed.yaml"
    changed.write_text(SEED.read_text().replace("expect: denied", "expect: allowed", 1))  # a failing run
    junit = tmp_path / "junit.xml"
    texts = []
    for output in ("text", "json"):
        assert main(["apply", str(changed), "--output", output, "--junit", str(junit)]) == 1
        captured = capsys.readouterr()
        texts += [captured.out, captured.err, junit.read_text()]
    texts.append(caplog.text)
    assert len(made) >= 2
    secrets = [c.secret_access_key for c in made] + [c.access_key_id for c in made]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert "secret" not in repr(made[0]).lower()
    json.loads(texts[3])  # the JSON report is whole
