"""Buckets against `orchestrate serve` as a real process, shared by separate commands (run in this
process): the three bucket scenarios pass with no model gap (in bucket-policy-deny-one a Deny
naming intern denies intern only: moto's own bucket-policy check is off, moto_extensions.install_s3_bucket_policy_off);
plan then shows nothing to do; a bucket policy and a default encryption changed out of band are
drift; apply repairs them; destroy leaves no bucket."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SSE_KMS = str(ROOT / "scenarios" / "s3-sse-kms.yaml")
ACCOUNT = str(ROOT / "scenarios" / "bucket-policy-account.yaml")
DENY_ONE = str(ROOT / "scenarios" / "bucket-policy-deny-one.yaml")
PUBLIC = str(ROOT / "scenarios" / "public-bucket.yaml")  # anonymous requests, bucket- and account-level blocks
CLI = [sys.executable, "-m", "orchestrator.cli"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    process = subprocess.Popen(CLI + ["serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    match = re.search(r"http://127\.0\.0\.1:(\d+)", process.stdout.readline())
    assert match
    yield f"http://127.0.0.1:{match[1]}"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)


def orchestrate(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A command against the served world, in this process (serve is the real process here; the
    commands as processes of their own are test_serve_end_to_end's): its exit code and output."""
    run_id = [] if "--run-id" in args else ["--run-id", "e2e"]
    argv = list(args) + ["--endpoint-url", endpoint, "--no-color"] + run_id
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def s3(endpoint: str) -> object:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=DEFAULT_ADMIN.access_key_id, aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)


@pytest.mark.parametrize(("path", "run_id"), [(ACCOUNT, "bucket"), (SSE_KMS, "s3-sse"), (DENY_ONE, "denyon"),
                                             (PUBLIC, "public")],
                         ids=["bucket-policy-account", "s3-sse-kms", "bucket-policy-deny-one", "public-bucket"])
def test_the_bucket_scenarios_pass_against_serve_with_no_model_gap(endpoint: str, path: str, run_id: str) -> None:
    applied = orchestrate(endpoint, "apply", path, "--output", "json", "--run-id", run_id)
    report = json.loads(applied.stdout)
    verdicts = [v for state in report["states"] for v in state["expectations"]]
    assert applied.returncode == 0, [v for v in verdicts if not v["passed"]]
    assert [v for v in verdicts if v["model_gap"]] == [] and all(v["predicted"] for v in verdicts)


def test_plan_drift_repair_and_destroy_through_serve(endpoint: str) -> None:
    assert orchestrate(endpoint, "apply", SSE_KMS).returncode == 0
    planned = orchestrate(endpoint, "plan", SSE_KMS, "--state", "with-bucket-key")
    assert planned.returncode == 0 and "no changes" in planned.stdout, planned.stdout + planned.stderr

    client = s3(endpoint)
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "OutOfBand", "Effect": "Allow", "Principal": "*",
                                                      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::e2e-reports/*"}]}
    client.put_bucket_policy(Bucket="e2e-reports", Policy=json.dumps(policy))  # type: ignore[attr-defined]
    client.put_bucket_encryption(Bucket="e2e-reports", ServerSideEncryptionConfiguration={  # type: ignore[attr-defined]
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    drifted = orchestrate(endpoint, "drift", SSE_KMS)
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    assert "s3_bucket.reports.policy" in drifted.stdout and "OutOfBand" in drifted.stdout
    assert "s3_bucket.reports.encryption" in drifted.stdout and "[widens access]" in drifted.stdout

    assert orchestrate(endpoint, "apply", SSE_KMS).returncode == 0
    assert orchestrate(endpoint, "drift", SSE_KMS).returncode == 0

    destroyed = orchestrate(endpoint, "destroy", SSE_KMS)
    assert destroyed.returncode == 0, destroyed.stderr
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]  # type: ignore[attr-defined]
    assert "e2e-reports" not in names
