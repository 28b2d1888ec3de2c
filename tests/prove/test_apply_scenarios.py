"""`orchestrate apply` runs every shipped scenario end to end on the embedded default."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["apply", str(path), "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    failed = [v for s in report["states"] for v in s["expectations"] if not v["passed"]]
    assert code == 0, failed
    assert report["summary"]["failed"] == 0 and report["summary"]["expectations"] > 0
    assert report["summary"]["model_gaps"] == 0
    guarantees = [g for s in report["states"] for g in s["guarantees"]]
    assert guarantees and [g for g in guarantees if not g["passed"]] == []


#: Shipped violations, each replayed as a real call that is allowed (issue 24): a bucket policy made
#: public, a grant to another account, a trust policy naming another account without
#: sts:ExternalId, Principal "*" under a condition that does not close it, a bucket policy naming an
#: account outside the organization.
VIOLATIONS = {"public-bucket": "public-read", "cross-account-table": "key-granted-instead",
              "role-trust-account": "partner-trusted-without-external-id",
              "key-policy-principal-org-id": "any-account-by-tag", "rcp-bucket-org-only": "bucket-policy-only"}


@pytest.mark.parametrize("name, state", VIOLATIONS.items())
def test_each_shipped_violation_is_replayed_as_an_allowed_call(name: str, state: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(ROOT / "scenarios" / f"{name}.yaml"), "--output", "json", "--state", state]) == 0
    [found] = [g for s in json.loads(capsys.readouterr().out)["states"] if s["name"] == state for g in s["guarantees"]
               if g["expect"] == "violated"]
    assert found["verdict"] == "violated" and found["witness"]["caller"]
    assert found["replay"]["outcome"] == "allowed", found["replay"]


def test_seed_denies_then_allows_for_the_key_policy_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(SEED), "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    first, second = report["states"]
    [denied] = [v for v in first["expectations"] if v["principal"] == "tester"]
    assert (denied["actual"], denied["layer"], denied["error_code"]) == ("denied", "key-policy", "AccessDeniedException")
    assert "kms:Decrypt" in denied["reason"] and "key policy" in denied["reason"]
    [allowed] = second["expectations"]
    assert (allowed["actual"], allowed["predicted"]) == ("allowed", "allowed")
    assert report["access_changes"] == [
        {"state": "with-key-grant", "principal": "tester", "action": "dynamodb:GetItem", "resource": "table:orders", "change": "gained"}
    ]


def test_a_wrong_expectation_fails_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED.read_text().replace("expect: denied", "expect: allowed", 1)
    changed = tmp_path / "seed.yaml"
    changed.write_text(text)
    assert main(["apply", str(changed), "--no-color"]) == 1
    out = capsys.readouterr().out
    failure = out[out.index("FAIL"):]
    assert "expected allowed, actual denied" in failure
    assert "kms:Decrypt" in failure and "denied by the key policy" in failure
    assert "decided by: key-policy" in failure
    assert "1 failed" in out.splitlines()[-1]


def test_state_option_stops_after_that_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(SEED), "--state", "without-key-grant", "--output", "json"]) == 0
    assert [s["name"] for s in json.loads(capsys.readouterr().out)["states"]] == ["without-key-grant"]


def test_junit_has_one_testcase_per_expectation_and_guarantee(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED.read_text().replace("expect: denied", "expect: allowed", 1)
    changed = tmp_path / "seed.yaml"
    changed.write_text(text)
    junit = tmp_path / "report.xml"
    assert main(["apply", str(changed), "--junit", str(junit), "--output", "json"]) == 1
    capsys.readouterr()
    [suite] = ElementTree.parse(junit).getroot()
    cases = suite.findall("testcase")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("kms-dynamodb-access", "7", "1")
    assert cases[0].get("name") == "without-key-grant / tester dynamodb:GetItem table:orders"
    assert cases[3].get("name") == "without-key-grant / guarantee no access from outside-account: kms:Decrypt on key:data"
    failure = cases[0].find("failure")
    assert failure is not None and "expected allowed, actual denied" in (failure.text or "")


def test_expected_layer_and_error_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED.read_text().replace("layer: key-policy", "layer: explicit-deny").replace("error: AccessDeniedException", "error: DisabledException")
    changed = tmp_path / "seed.yaml"
    changed.write_text(text)
    assert main(["apply", str(changed), "--output", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    problems = report["states"][0]["expectations"][0]["problems"]
    assert problems == ["expected error DisabledException, was AccessDeniedException", "expected the explicit-deny to decide, was key-policy"]


def test_run_destroys_after_apply_even_when_an_expectation_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import orchestrator.reconcile.apply

    real_destroy = orchestrator.reconcile.apply.destroy
    destroyed: list[str] = []

    def spy(ctx, desired, progress=None):  # type: ignore[no-untyped-def]
        plan = real_destroy(ctx, desired, progress)
        destroyed.extend(c.address for c in plan.changes)
        return plan

    monkeypatch.setattr(orchestrator.reconcile.apply, "destroy", spy)
    assert main(["run", str(SEED), "--no-color"]) == 0
    assert "3 passed, 0 failed" in capsys.readouterr().out
    assert {"kms_key.data", "dynamodb_table.orders", "iam_user.tester"} <= set(destroyed)
    destroyed.clear()
    changed = tmp_path / "seed.yaml"
    changed.write_text(SEED.read_text().replace("expect: denied", "expect: allowed", 1))
    assert main(["run", str(changed), "--no-color"]) == 1
    assert "kms_key.data" in destroyed


def test_the_callers_own_boto3_clients_are_gated_on_the_embedded_backend() -> None:
    """Any boto3 client made while the embedded backend lives meets the gate, not only ours."""
    import boto3

    from orchestrator.backends.embedded import EmbeddedBackend
    from orchestrator.loader import load_scenario
    from orchestrator.resources.context import RunContext
    from orchestrator.prove.runner import run_states

    loaded = load_scenario(SEED)
    backend = EmbeddedBackend(loaded.scenario.region)
    try:
        run_states(RunContext(backend, loaded.scenario.name), loaded, 0)
        key = backend.client("iam").create_access_key(UserName="tester")["AccessKey"]
        own = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                           aws_secret_access_key=key["SecretAccessKey"])
        with pytest.raises(Exception) as caught:
            own.get_item(TableName="orders", Key={"order_id": {"S": "o-1001"}})
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"  # type: ignore[attr-defined]
    finally:
        backend.close()
