"""Expectations are isolated: what orchestrate does to prepare a call (the probe ciphertext that a
kms:Decrypt needs, the principal's access key) never aborts the other verdicts; a failure to
prepare is that expectation's error verdict, saying what failed and why. A run that stops (a
state that cannot be reconciled) still reports the verdicts of the states before it, exit 3,
and `--output json` always prints the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import orchestrator.backends
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main

HEAD = """\
name: isolation
region: us-east-1
users:
  admin: {managed_policies: [AdministratorAccess]}
  tester: {}
keys:
  data:
    enabled: FIRST_ENABLED
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Admin, Effect: Allow, Principal: {AWS: "user:admin"}, Action: "kms:*", Resource: "*"}
        - {Sid: TesterUse, Effect: Allow, Principal: {AWS: "user:tester"}, Action: [kms:Decrypt, kms:DescribeKey], Resource: "*"}
states:
"""
DECRYPT_ALLOWED = """\
      - {as: tester, action: kms:Decrypt, resource: key:data, expect: allowed}
"""
DECRYPT_DENIED = """\
      - {as: tester, action: kms:Decrypt, resource: key:data, expect: denied, error: DisabledException, layer: key-state}
"""
DESCRIBE = """\
      - {as: tester, action: kms:DescribeKey, resource: key:data, expect: allowed}
"""


def scenario(tmp_path: Path, first_enabled: bool, first: str, second: str) -> str:
    text = HEAD.replace("FIRST_ENABLED", str(first_enabled).lower())
    text += "  - name: enabled\n    expectations:\n" + first
    text += "  - name: disabled\n    patch: {keys: {data: {enabled: false}}}\n    expectations:\n" + second
    path = tmp_path / "isolation.yaml"
    path.write_text(text)
    return str(path)


def verdicts(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(v["state"], v["action"], v["actual"], v["layer"] or "") for s in report["states"] for v in s["expectations"]]


def test_decrypt_allowed_then_denied_by_the_key_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, True, DECRYPT_ALLOWED, DECRYPT_DENIED)
    assert main(["apply", path, "--output", "json"]) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert verdicts(report) == [("enabled", "kms:Decrypt", "allowed", ""), ("disabled", "kms:Decrypt", "denied", "key-state")]
    assert report["states"][1]["expectations"][0]["error_code"] == "DisabledException"
    assert report["error"] is None


def test_a_later_decrypt_uses_a_ciphertext_made_while_the_key_was_enabled(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """No expectation of the first state touches the key: its probe is made right after the
    first state is applied all the same, because the second state decrypts."""
    path = scenario(tmp_path, True, DESCRIBE, DECRYPT_DENIED)
    assert main(["apply", path, "--output", "json"]) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert verdicts(report) == [("enabled", "kms:DescribeKey", "allowed", ""), ("disabled", "kms:Decrypt", "denied", "key-state")]


def test_a_probe_that_cannot_be_made_is_that_expectations_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The key is disabled from the first state: no ciphertext can ever be made under it."""
    path = scenario(tmp_path, False, DESCRIBE + DECRYPT_DENIED + DESCRIBE, DESCRIBE)
    assert main(["apply", path, "--output", "json", "--quiet"]) == 1  # --quiet: no progress lines on stderr
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert verdicts(report) == [("enabled", "kms:DescribeKey", "allowed", ""), ("enabled", "kms:Decrypt", "error", ""),
                                ("enabled", "kms:DescribeKey", "allowed", ""), ("disabled", "kms:DescribeKey", "allowed", "")]
    errored = report["states"][0]["expectations"][1]
    assert errored["problems"] == [errored["reason"]]
    assert errored["reason"].startswith("could not prepare kms:Decrypt: orchestrate's probe Encrypt under key:data"
                                        " failed with DisabledException: ")
    assert (errored["passed"], errored["predicted"], errored["error_code"]) == (False, None, "PreparationFailed")
    assert report["summary"] == {"expectations": 4, "passed": 3, "failed": 0, "errored": 1, "skipped": 0,
                                 "model_gaps": 0}
    assert report["access_changes"] == [] and captured.err == ""


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedBackend]:
    made = EmbeddedBackend("us-east-1")
    close = made.close
    monkeypatch.setattr(made, "close", lambda: None)  # lives on after the command, until the test ends
    monkeypatch.setattr(orchestrator.backends, "open_backend", lambda *args, **kwargs: made)
    yield made
    close()


def refuse(backend: EmbeddedBackend, operation: str, code: str, when: Any = lambda params: True) -> None:
    def observer(service: str, called: str, params: dict[str, Any]) -> None:
        if called == operation and when(params):
            raise ClientError({"Error": {"Code": code, "Message": f"{operation} refused for the test"}}, operation)

    backend.observe(observer)


def test_a_state_that_cannot_be_reconciled_keeps_the_verdicts_before_it(tmp_path: Path, backend: EmbeddedBackend,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, True, DECRYPT_ALLOWED + DESCRIBE, DECRYPT_DENIED)
    refuse(backend, "DisableKey", "KMSInternalException")
    assert main(["apply", path, "--output", "json", "--quiet"]) == 3  # --quiet: stderr holds the error alone
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert verdicts(report) == [("enabled", "kms:Decrypt", "allowed", ""), ("enabled", "kms:DescribeKey", "allowed", "")]
    message = "state disabled: AWS error KMSInternalException from DisableKey: DisableKey refused for the test"
    assert (report["error"], report["passed"], captured.err.strip()) == (message, False, message)
    # the principal's key was deleted all the same
    assert backend.client("iam").list_access_keys(UserName="tester")["AccessKeyMetadata"] == []


def test_a_principal_key_that_cannot_be_made_is_that_expectations_error(tmp_path: Path, backend: EmbeddedBackend,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, True, DESCRIBE, DESCRIBE)
    path_text = Path(path).read_text().replace(DESCRIBE, DESCRIBE + "      - {as: admin, action: kms:DescribeKey, resource: key:data, expect: allowed}\n", 1)
    Path(path).write_text(path_text)
    refuse(backend, "CreateAccessKey", "LimitExceeded", lambda params: params["UserName"] == "tester")
    assert main(["apply", path, "--output", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(v["principal"], v["actual"]) for s in report["states"] for v in s["expectations"]] == [
        ("tester", "error"), ("admin", "allowed"), ("tester", "error")]
    assert report["states"][0]["expectations"][0]["reason"] == (
        "could not prepare kms:DescribeKey: orchestrate's CreateAccessKey for user:tester failed with LimitExceeded:"
        " CreateAccessKey refused for the test")
