"""Before a run against an endpoint, one harmless request by a user with no policy asks whether the
endpoint enforces IAM (backends/endpoint.py enforcement_problem): moto's own server does not, and
apply says so plainly (exit 3, nothing applied, nothing left, no secret shown); `orchestrate
serve` does; --no-enforcement-check skips the question. One plain moto server for the module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.wsgi import GatedMotoServer
from orchestrator.backends.endpoint import CHECK_USER_PREFIX, DEFAULT_ADMIN, EndpointBackend, enforcement_problem
from orchestrator.backends.moto_world import MotoWorld
from orchestrator.cli import main

SEED = str(Path(__file__).resolve().parents[2] / "scenarios" / "kms-dynamodb-access.yaml")


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def iam(url: str) -> Any:
    return boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=DEFAULT_ADMIN.access_key_id,
                        aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)


def check_users(url: str) -> list[str]:
    return [u["UserName"] for u in iam(url).list_users()["Users"] if u["UserName"].startswith(CHECK_USER_PREFIX)]


def test_apply_refuses_an_endpoint_that_enforces_no_iam(plain_moto: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["apply", SEED, "--endpoint-url", plain_moto, "--no-color"])
    out, err = capsys.readouterr()
    assert code == 3, err
    assert out == ""
    assert "enforces no IAM" in err and "dynamodb:ListTables" in err and "orchestrate serve" in err
    assert "INITIAL_NO_AUTH_ACTION_COUNT" in err and "--no-enforcement-check" in err
    assert "Secret" not in err and "AKIA" not in err
    assert check_users(plain_moto) == []  # the throwaway user and its key are gone
    assert boto3.client("dynamodb", endpoint_url=plain_moto, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x").list_tables()["TableNames"] == []  # nothing applied


def test_the_check_can_be_skipped(plain_moto: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["destroy", SEED, "--endpoint-url", plain_moto])  # destroy makes no check
    assert code == 0
    capsys.readouterr()
    main(["apply", SEED, "--endpoint-url", plain_moto, "--state", "without-key-grant", "--no-enforcement-check",
          "--quiet", "--no-color"])
    out, err = capsys.readouterr()
    assert "enforces no IAM" not in err
    assert out.startswith("Scenario kms-dynamodb-access on the endpoint backend")  # the run went on
    assert main(["destroy", SEED, "--endpoint-url", plain_moto]) == 0


def test_a_gated_endpoint_passes_and_keeps_nothing() -> None:
    server = GatedMotoServer("127.0.0.1", 0, Gate("us-east-1", MotoWorld())).start()
    try:
        backend = EndpointBackend("us-east-1", server.endpoint_url)
        try:
            assert enforcement_problem(backend) is None
            assert check_users(server.endpoint_url) == []
        finally:
            backend.close()
    finally:
        server.stop()


def test_a_check_user_a_killed_check_left_is_deleted_by_the_next(plain_moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from orchestrator.backends import endpoint

    admin = iam(plain_moto)
    admin.create_user(UserName=f"{CHECK_USER_PREFIX}left", Path=endpoint.CHECK_PATH)
    admin.create_access_key(UserName=f"{CHECK_USER_PREFIX}left")
    backend = EndpointBackend("us-east-1", plain_moto)
    monkeypatch.setattr(endpoint, "CHECK_LEFT_AFTER", timedelta(0))  # as if it were minutes old
    try:
        assert enforcement_problem(backend) is not None
    finally:
        backend.close()
    assert check_users(plain_moto) == []


def test_a_check_user_whose_process_is_gone_is_deleted_at_once_a_running_ones_kept(plain_moto: str) -> None:
    """SIGKILL during the check (the kill tests' apply) leaves its user: the next check on this
    machine deletes it at once, its process being gone; a running check's user is left alone."""
    import subprocess
    import sys

    from orchestrator.backends import endpoint

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    host = endpoint._this_host()
    dead, running = (f"{CHECK_USER_PREFIX}{host}-{gone}-0000", f"{CHECK_USER_PREFIX}{host}-{os.getppid()}-0000")
    admin = iam(plain_moto)
    for name in (dead, running):
        admin.create_user(UserName=name, Path=endpoint.CHECK_PATH)
        admin.create_access_key(UserName=name)
    backend = EndpointBackend("us-east-1", plain_moto)
    try:
        assert enforcement_problem(backend) is not None
    finally:
        backend.close()
    assert check_users(plain_moto) == [running]
    admin.delete_access_key(UserName=running, AccessKeyId=admin.list_access_keys(UserName=running)["AccessKeyMetadata"][0]["AccessKeyId"])
    admin.delete_user(UserName=running)
