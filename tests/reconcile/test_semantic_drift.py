"""Drift's access section: the state's access matrix decided on the desired state against the
same matrix decided on the world as read, one line per cell that differs ("tester gained
kms:Decrypt on key:data (by statement OutOfBand)"); a gained cell widens access. Applied with the
library, changed out of band with the backend's own clients, read by `orchestrate drift` in the
same embedded world (open_backend is replaced, as in test_preflight)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import LoadedScenario, load_scenario
from orchestrator.reconcile.apply import apply_state
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"
TESTER = "arn:aws:iam::123456789012:user/tester"
#: The seed scenario with a bucket (SSE-S3) and a seeded object, so that S3 cells exist.
WITH_BUCKET = SEED.read_text().replace("\ntables:\n", """
buckets:
  docs:
    objects:
      - {key: readme.txt, body: "hello"}

tables:
""", 1)


def applied(backend: EmbeddedBackend, path: Path, index: int = 0) -> tuple[LoadedScenario, str]:
    """The state applied; the scenario and its key's ARN."""
    loaded = load_scenario(path)
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    apply_state(ctx, loaded.desired[index], loaded.scenario.states[index].name)
    return loaded, ctx.known["key:data"]


def drift(capsys: pytest.CaptureFixture[str], path: Path, state: str, code: int = 2) -> dict[str, Any]:
    assert main(["drift", str(path), "--state", state, "--output", "json"]) == code
    return json.loads(capsys.readouterr().out)


def edit_key_policy(backend: EmbeddedBackend, key_arn: str, edit: Any) -> None:
    kms = backend.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    policy["Statement"] = edit(policy["Statement"])
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))


def words(report: dict[str, Any]) -> list[str]:
    return sorted(entry["words"] for entry in report["access"])


def test_an_applied_world_has_no_access_drift_and_keeps_the_envelope(backend: EmbeddedBackend,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    applied(backend, SEED)
    report = drift(capsys, SEED, "without-key-grant", code=0)
    assert list(report) == ["format_version", "scenario", "state", "in_sync", "differences", "access", "widens_access"]
    assert (report["format_version"], report["in_sync"], report["access"], report["widens_access"]) == ("1", True, [], False)
    assert main(["drift", str(SEED), "--state", "without-key-grant", "--no-color"]) == 0
    assert capsys.readouterr().out.strip() == "In sync with state without-key-grant: no drift."


def test_an_inline_s3_star_policy_gains_every_s3_cell_and_widens(backend: EmbeddedBackend, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "with-bucket.yaml"
    path.write_text(WITH_BUCKET)
    applied(backend, path)
    backend.client("iam").put_user_policy(UserName="tester", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    report = drift(capsys, path, "without-key-grant")
    assert report["widens_access"] is True and report["in_sync"] is False
    gained = {(e["resource"], e["action"]) for e in report["access"]}
    assert ("bucket:docs", "s3:ListBucket") in gained and ("object:docs/readme.txt", "s3:GetObject") in gained
    assert all(e["principal"] == "tester" and e["change"] == "GAINED" and e["widens_access"] for e in report["access"])
    assert "tester gained s3:GetObject on object:docs/readme.txt (by statement 0 of tester/inline/everything)" in words(report)
    # the property difference stays as it was
    assert [(d["Resource"], d["PropertyPath"], d["DifferenceType"]) for d in report["differences"]] == [
        ("iam_user_access.tester", "inline_policies.everything", "ADD")]


def test_an_out_of_band_key_statement_is_named_in_what_tester_gained(backend: EmbeddedBackend,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _, key_arn = applied(backend, SEED)
    edit_key_policy(backend, key_arn, lambda statements: statements + [
        {"Sid": "OutOfBand", "Effect": "Allow", "Principal": {"AWS": TESTER}, "Action": "kms:Decrypt", "Resource": "*"}])
    report = drift(capsys, SEED, "without-key-grant")
    assert "tester gained kms:Decrypt on key:data (by statement OutOfBand)" in words(report)
    assert "tester gained dynamodb:GetItem on table:orders (by statement OutOfBand)" in words(report)
    assert report["widens_access"] is True
    [entry] = [e for e in report["access"] if e["action"] == "kms:Decrypt"]
    assert (entry["expected"]["label"], entry["actual"]["label"], [s["sid"] for s in entry["by"]]) == (
        "denied (key-policy)", "allowed", ["OutOfBand"])
    assert main(["drift", str(SEED), "--state", "without-key-grant", "--no-color"]) == 2
    text = capsys.readouterr().out
    # kms:Decrypt and the 7 table calls that need it (BatchGetItem included; DescribeTable does not)
    assert "Access: 8 cells differ from the desired state, 8 gained." in text
    assert "  GAINED tester gained kms:Decrypt on key:data (by statement OutOfBand)  [widens access]" in text.splitlines()


def test_a_removed_statement_is_access_lost_and_widens_nothing(backend: EmbeddedBackend,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _, key_arn = applied(backend, SEED, index=1)  # with-key-grant: TesterDecrypt
    edit_key_policy(backend, key_arn, lambda statements: [s for s in statements if s.get("Sid") != "TesterDecrypt"])
    report = drift(capsys, SEED, "with-key-grant")
    assert "tester lost kms:Decrypt on key:data (denied by key-policy)" in words(report)
    assert {e["change"] for e in report["access"]} == {"LOST"} and report["widens_access"] is False
    [removed] = report["differences"]
    assert (removed["DifferenceType"], removed["ExpectedValue"]["Sid"]) == ("REMOVE", "TesterDecrypt")


def test_the_admin_losing_the_key_loses_the_table(backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    _, key_arn = applied(backend, SEED)
    edit_key_policy(backend, key_arn, lambda statements: [s for s in statements if s.get("Sid") != "KeyAdministration"])
    report = drift(capsys, SEED, "without-key-grant")
    assert "admin lost dynamodb:GetItem on table:orders (denied by key-policy)" in words(report)
    assert "admin lost dynamodb:DescribeTable on table:orders (denied by key-policy)" not in words(report)
    assert report["widens_access"] is False


def test_a_grant_removed_out_of_band_is_access_lost(backend: EmbeddedBackend, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "with-grant.yaml"
    path.write_text(SEED.read_text().replace("    tags:\n      team: security\n", """    tags:
      team: security
    grants:
      tester-decrypt:
        grantee: user:tester
        operations: [Decrypt]
""", 1))
    _, key_arn = applied(backend, path)
    kms = backend.client("kms")
    for grant in kms.list_grants(KeyId=key_arn)["Grants"]:
        kms.revoke_grant(KeyId=key_arn, GrantId=grant["GrantId"])
    report = drift(capsys, path, "without-key-grant")
    assert "tester lost kms:Decrypt on key:data (denied by key-policy)" in words(report)
    assert "tester lost dynamodb:GetItem on table:orders (denied by key-policy)" in words(report)
    assert report["widens_access"] is False


def test_an_out_of_band_principal_star_is_the_public_gaining_access(backend: EmbeddedBackend,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24: the class rows of the matrix (analysis/access_classes.py) make a `Principal: "*"`
    added out of band an access change of its own, not only a `[widens access]` property."""
    _, key_arn = applied(backend, SEED)
    edit_key_policy(backend, key_arn, lambda statements: statements + [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}])
    report = drift(capsys, SEED, "without-key-grant")
    assert "anyone gained kms:Decrypt on key:data (public) (by statement Everyone)" in words(report)
    assert report["widens_access"] is True
