"""`orchestrate serve` as a real process on a free loopback port, shared by separate commands:
apply; plan shows nothing to do; an out-of-band key policy change is drift; apply repairs it;
destroy leaves no table and the key pending deletion."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
CLI = [sys.executable, "-m", "orchestrator.cli"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    process = subprocess.Popen(
        CLI + ["serve", "--port", "0", "--verbose"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert match, line + (process.stderr.read() if process.poll() is not None else "")
    yield f"http://127.0.0.1:{match[1]}"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert re.search(r"^\S+ dynamodb:CreateTable on .+: allowed by admin, 200 in [\d.]+ ms$", err, re.M), \
        "--verbose logs one line per request: who, what, on what, the decision, its layer, status, ms"
    assert "HTTP/1.1" not in err and "\x1b" not in err, "werkzeug's own request log is silenced"


def orchestrate(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + list(args) + ["--endpoint-url", endpoint, "--no-color"], capture_output=True, text=True, timeout=120)


def admin(endpoint: str, service: str) -> object:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=DEFAULT_ADMIN.access_key_id, aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)


def test_serve_shares_one_world_between_commands(endpoint: str) -> None:
    applied = orchestrate(endpoint, "apply", SEED)
    assert applied.returncode == 0, applied.stderr
    planned = orchestrate(endpoint, "plan", SEED, "--state", "with-key-grant")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "no changes" in planned.stdout

    kms = admin(endpoint, "kms")
    [key_id] = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    policy["Statement"].append({"Sid": "OutOfBand", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))

    drifted = orchestrate(endpoint, "drift", SEED)
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    assert "ADD kms_key.data.policy.Statement" in drifted.stdout and "OutOfBand" in drifted.stdout
    assert "[widens access]" in drifted.stdout
    as_json = json.loads(orchestrate(endpoint, "drift", SEED, "--output", "json").stdout)
    [difference] = as_json["differences"]
    assert (difference["DifferenceType"], difference["ActualValue"]["Sid"], difference["WidensAccess"]) == ("ADD", "OutOfBand", True)

    assert orchestrate(endpoint, "apply", SEED).returncode == 0
    assert orchestrate(endpoint, "drift", SEED).returncode == 0

    destroyed = orchestrate(endpoint, "destroy", SEED)
    assert destroyed.returncode == 0, destroyed.stderr
    assert admin(endpoint, "dynamodb").list_tables()["TableNames"] == []
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert admin(endpoint, "iam").list_users()["Users"] == []
