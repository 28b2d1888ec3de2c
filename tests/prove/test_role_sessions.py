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
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "role-trust-account.yaml"


def run(path: Path) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    loaded = load_scenario(path)
    backend = EmbeddedBackend(loaded.scenario.region)
    seen: list[tuple[str, dict[str, Any]]] = []
    backend.observe(lambda service, operation, params: seen.append((operation, dict(params))))
    ctx = RunContext(backend, loaded.scenario.name)
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


# ---- issue 20, item 4: sessions as AWS makes them (scenarios/role-sessions.yaml) ----------------
SESSIONS = ROOT / "scenarios" / "role-sessions.yaml"


def test_sessions_scenario_proves_and_predicts_each_expectation() -> None:
    """IAM User Guide, "Session policies" and "Passing session tags in AWS STS": every verdict is
    AWS's (the gate's) and the engine's prediction agrees with it."""
    result, seen = run(SESSIONS)
    assert result.passed, [v.problems for v in result.verdicts]
    assert all(v.predicted is not None and v.predicted.allowed == v.actual.allowed for v in result.verdicts)
    assumed = {p["RoleSessionName"]: p for operation, p in seen if operation == "AssumeRole"}
    assert json.loads(assumed["reader"]["Policy"])["Statement"][0]["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert assumed["on-call"]["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert assumed["on-call"]["TransitiveTagKeys"] == ["team"]
    assert assumed["auditor"]["SourceIdentity"] == "alice"
    partner = [p for p in assumed.values() if p["RoleArn"].endswith(":role/partner")]
    assert [p["ExternalId"] for p in partner] == ["ticket-4711"]
    chained = [p for p in assumed.values() if p["RoleArn"].endswith(":role/target")]
    assert [p["DurationSeconds"] for p in chained] == [3600]


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SESSIONS.read_text()
    assert old in text
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def _partner(result: Any) -> Any:
    return next(v for v in result.states[0].verdicts if v.principal == "role:partner")


def test_a_wrong_external_id_cannot_assume_the_role(tmp_path: Path) -> None:
    """IAM User Guide, "Access to AWS accounts owned by third parties": sts:ExternalId is a
    condition of the AssumeRole request; another value refuses the session."""
    result, _ = run(_variant(tmp_path, "external_id: ticket-4711", "external_id: ticket-0000"))
    broken = _partner(result)
    assert broken.actual.code == "PreparationFailed" and "AccessDenied" in broken.reason


def test_session_tags_need_sts_tag_session_in_the_trust_policy(tmp_path: Path) -> None:
    """IAM User Guide, "Passing session tags in AWS STS": "the role trust policy must allow the
    sts:TagSession action"; STS names the action it refuses."""
    path = _variant(tmp_path, "Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]",
                    "Action: [sts:AssumeRole, sts:SetSourceIdentity]")
    result, _ = run(path)
    tagged = [v for v in result.states[0].verdicts if v.principal == "role:worker" and v.action == "s3:ListBucket"][1]
    assert tagged.actual.code == "PreparationFailed"
    assert "not authorized to perform: sts:TagSession" in tagged.reason


def test_a_source_identity_needs_sts_set_source_identity(tmp_path: Path) -> None:
    """IAM User Guide, "Monitor and control actions taken with assumed roles": setting a source
    identity needs sts:SetSourceIdentity in the trust policy."""
    path = _variant(tmp_path, "Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]",
                    "Action: [sts:AssumeRole, sts:TagSession]")
    result, _ = run(path)
    auditor = result.states[0].verdicts[3]
    assert auditor.actual.code == "PreparationFailed"
    assert "sts:SetSourceIdentity" in auditor.reason


def test_a_bucket_policy_naming_the_role_is_limited_by_the_session_policy(tmp_path: Path) -> None:
    """IAM User Guide, "Session policies": a resource-based policy naming the role ARN is limited
    by the session policy; naming the session ARN is not (the shipped scenario's auditor)."""
    path = _variant(tmp_path, "Principal: {AWS: session:worker/auditor}", "Principal: {AWS: role:worker}")
    text = path.read_text().replace("""        description: the bucket policy names this session, so its session policy does not limit that grant
        action: s3:PutObject
        resource: object:shared-docs/by-auditor.txt
        expect: allowed""", """        action: s3:PutObject
        resource: object:shared-docs/by-auditor.txt
        expect: denied
        layer: session-policy""")
    path.write_text(text)
    result, _ = run(path)
    assert result.passed, [v.problems for v in result.verdicts]


def test_managed_session_policies_limit_too(tmp_path: Path) -> None:
    """AssumeRole's PolicyArns (moto 5.2 drops them; moto_extensions.install_session_facts keeps
    them): an AWS managed session policy that allows only reads denies a put."""
    path = _variant(tmp_path, """      - as: role:worker
        description: without session policies, the role's identity policy decides
        action: s3:PutObject
        resource: object:shared-docs/by-worker.txt
        expect: allowed""", """      - as: role:worker
        session_policy_arns: [AmazonS3ReadOnlyAccess]
        action: s3:PutObject
        resource: object:shared-docs/by-worker.txt
        expect: denied
        layer: session-policy""")
    result, seen = run(path)
    assert result.passed, [v.problems for v in result.verdicts]
    assert any(p.get("PolicyArns") == [{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}]
               for operation, p in seen if operation == "AssumeRole")


@pytest.mark.parametrize("old, new, where", [
    ("      - as: role:partner\n        external_id: ticket-4711\n", "      - as: role:partner\n        external_id: ticket-4711\n"
     "        session_policy_arns: [policy:ghost]\n", "session_policy_arns"),
    ("        via: role:hop\n", "        via: role:nowhere\n", "via"),
    ("        via: role:hop\n        duration_seconds: 3600\n", "        via: role:hop\n        duration_seconds: 7200\n",
     "duration_seconds"),
    ("        session_tags: {team: ops}\n        transitive_tags: [team]\n",
     "        session_tags: {team: ops}\n        transitive_tags: [project]\n", "transitive_tags"),
])
def test_session_fields_are_validated_where_they_are(tmp_path: Path, old: str, new: str, where: str) -> None:
    from orchestrator.loader import ScenarioError

    path = _variant(tmp_path, old, new)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert where in str(raised.value)


def test_session_fields_apply_only_to_role_sessions(tmp_path: Path) -> None:
    from orchestrator.loader import ScenarioError

    path = tmp_path / "scenario.yaml"
    path.write_text((ROOT / "scenarios" / "bucket-policy-deny-one.yaml").read_text().replace(
        "      - as: reader\n", "      - as: reader\n        session_name: nope\n", 1))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert "session_name shapes a role session" in str(raised.value)
