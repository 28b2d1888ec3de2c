"""Expectations `as: role:NAME` run as a session of the role (orchestrator/prove/sessions.py),
and `sts:AssumeRole` is itself an expectation action.

AWS STS API Reference, "AssumeRole": DurationSeconds 900 s at least; the session's principal is
arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. Session credentials are never printed.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.prove.runner import run_states
from orchestrator.resources.context import Context

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "role-trust-account.yaml"


def run(path: Path) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    loaded = load_scenario(path)
    backend = EmbeddedBackend(loaded.scenario.region)
    seen: list[tuple[str, dict[str, Any]]] = []
    backend.observe(lambda service, operation, params: seen.append((operation, dict(params))))
    ctx = Context(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    try:
        return run_states(ctx, loaded, len(loaded.scenario.states) - 1), seen
    finally:
        backend.close()


def test_sessions_are_assumed_by_the_via_user_for_the_shortest_duration() -> None:
    result, seen = run(SCENARIO)
    assert result.passed, [v.problems for v in result.verdicts]
    assumed = [params for operation, params in seen if operation == "AssumeRole"]
    assert assumed and {p["DurationSeconds"] for p in assumed} == {900}
    assert {p["RoleArn"] for p in assumed} == {"arn:aws:iam::123456789012:role/data/reader"}
    sessions = [v for v in result.verdicts if v.principal == "role:reader"]
    assert sessions and all(v.predicted is not None and v.predicted.allowed for v in sessions)


def test_the_report_never_carries_session_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(SCENARIO), "--output", "json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["summary"]["model_gaps"] == 0
    assert not re.search(r"\b(ASIA|AKIA)[A-Z0-9]{16}\b", out)
    assert "SessionToken" not in out and "SecretAccessKey" not in out


def test_a_session_that_cannot_be_assumed_is_the_expectation_error(tmp_path: Path) -> None:
    text = SCENARIO.read_text().replace("        via: named\n", "        via: caller\n", 1)
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    result, _ = run(path)
    [broken] = [v for v in result.states[0].verdicts if v.principal == "role:reader"]
    assert broken.actual.errored and broken.actual.code == "PreparationFailed"
    assert "AssumeRole for role:reader via user:caller failed with AccessDenied" in broken.reason
    assert result.states[1].verdicts[-1].passed  # the next state's session (caller now allowed) is made


def test_without_via_orchestrate_assumes_the_role_when_the_trust_policy_delegates_to_the_account(tmp_path: Path) -> None:
    text = SCENARIO.read_text().replace("        via: named\n", "", 1)
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    result, seen = run(path)
    assert result.states[0].verdicts[2].actual.allowed
    assert result.states[0].verdicts[2].passed


def test_a_lagging_backend_retries_assume_role_until_the_role_has_propagated(monkeypatch) -> None:
    """IAM User Guide, "Changes that I make are not always immediately visible": a just-created
    role refuses AssumeRole for a while. A backend that lags retries AccessDenied; one that does
    not answers at once."""
    from types import SimpleNamespace

    from botocore.exceptions import ClientError

    import orchestrator.prove.sessions as sessions_module
    from orchestrator.prove.sessions import RoleSessions
    from orchestrator.resources.propagation import until_propagated

    refusals: list[int] = []

    class Sts:
        def assume_role(self, **_: object) -> dict:
            if len(refusals) < 2:
                refusals.append(1)
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not yet"}}, "AssumeRole")
            return {"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t"}}

    slept: list[float] = []
    monkeypatch.setattr(sessions_module, "until_propagated",
                        lambda ctx, call, **options: until_propagated(ctx, call, sleep=slept.append, **options))
    for lagging, expected in ((True, 2), (False, None)):
        refusals.clear()
        backend = SimpleNamespace(eventually_consistent=lagging, client=lambda *_: Sts())
        ctx = SimpleNamespace(backend=backend, account_id=lambda *_: "123456789012",
                              arn=lambda ref: f"arn:aws:iam::123456789012:{ref}")
        sessions = RoleSessions(ctx, SimpleNamespace(credentials=lambda _: None, mark=SimpleNamespace(session="s1")))  # type: ignore[arg-type]
        if expected is None:
            try:
                sessions.credentials("reader", None)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "AccessDenied"
            else:
                raise AssertionError("a backend that does not lag must not retry")
        else:
            assert sessions.credentials("reader", None).access_key_id == "ASIA" and len(refusals) == expected
    assert slept == [1.0, 2.0]
