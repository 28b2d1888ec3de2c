"""`--run-id` and the names in a scenario file, checked against AWS's name rules before anything
is made (issue 21, item 4): exit 2, the rule named, no backend call; a valid run id still works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import orchestrator.session
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
BAD_RUN_IDS = ["a/b", "a b", "ü", ";", "$(id)", "r" * 200]


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records (and refuses) every attempt to open a backend."""
    opened: list[str] = []

    def refused(*_: Any, **__: Any) -> None:
        opened.append("backend")
        raise AssertionError("a backend was opened")

    monkeypatch.setattr(orchestrator.session, "backend_session", refused)
    return opened


@pytest.mark.parametrize("run_id", BAD_RUN_IDS)
@pytest.mark.parametrize("command", ["apply", "run", "plan", "drift", "destroy"])
def test_a_run_id_aws_would_refuse_is_exit_2_before_any_backend_call(
        command: str, run_id: str, no_backend: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, SCENARIO, "--run-id", run_id]) == (1 if command in ("plan", "drift") else 2)  # their 2: changes
    err = capsys.readouterr().err
    assert "would make names AWS refuses (nothing was made)" in err and "Traceback" not in err
    assert "is not a valid IAM user name" in err and "(IAM API Reference, CreateUser)" in err
    assert no_backend == []


def test_access_observed_checks_the_run_id_too(no_backend: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", SCENARIO, "--observed", "--run-id", "a/b"]) == 2
    assert "is not a valid" in capsys.readouterr().err and no_backend == []


def test_the_refusal_names_each_rule_and_each_entity(capsys: pytest.CaptureFixture[str], no_backend: list[str]) -> None:
    assert main(["apply", SCENARIO, "--run-id", "a b"]) == 2
    err = capsys.readouterr().err
    assert "users.tester: 'a b-tester' is not a valid IAM user name: ' ' not allowed" in err
    assert "tables.orders: 'a b-orders' is not a valid DynamoDB table name" in err
    assert "keys.data.aliases[0]: 'alias/a b-orders-data' is not a valid KMS alias name" in err


def test_a_refused_run_id_makes_nothing_in_the_world(backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    for run_id in BAD_RUN_IDS:
        assert main(["apply", SCENARIO, "--run-id", run_id, "--quiet"]) == 2
    iam, kms = backend.client("iam"), backend.client("kms")
    assert iam.list_users()["Users"] == [] and backend.client("dynamodb").list_tables()["TableNames"] == []
    assert [a for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")] == []


def test_a_valid_run_id_still_applies_and_destroys(backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = "ci-" + "7" * 54  # the longest for which ci-777...-tester keeps to IAM's 64 characters
    assert main(["apply", SCENARIO, "--run-id", run_id, "--quiet"]) == 0
    users = sorted(u["UserName"] for u in backend.client("iam").list_users()["Users"])
    assert f"{run_id}-tester" in users and max(len(u) for u in users) == 64
    assert main(["destroy", SCENARIO, "--run-id", run_id]) == 0
    assert main(["apply", SCENARIO, "--run-id", run_id + "7", "--quiet"]) == 2


def test_matrix_checks_each_scenarios_run_id_before_anything_runs(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import orchestrator.commands.matrix as matrix

    monkeypatch.setattr(matrix, "run_one", lambda *_: pytest.fail("a scenario ran"))
    assert main(["matrix", SCENARIO, "--jobs", "1", "--run-id", "a;b"]) == 2
    err = capsys.readouterr().err
    assert "--run-id 'a;b' (as 'a;b-" in err and "is not a valid IAM user name" in err


def test_names_in_the_file_that_aws_refuses_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "names.yaml"
    path.write_text("name: bad,name\nusers:\n  a,b: {}\nbuckets:\n  xn--site: {}\n  my..site: {}\n"
                    "states:\n  - name: s\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1:7: 'bad,name' is not a valid tag value (orchestrate:scenario): ',' not allowed" in err
    assert f"{path}:3:3: 'a,b' is not a valid tag value (orchestrate:name)" in err and "(at users.a,b)" in err
    assert f"{path}:5:3: 'xn--site' is not a valid S3 bucket name: 'xn--' is reserved" in err
    assert f"{path}:6:3: 'my..site' is not a valid S3 bucket name: two adjacent periods" in err


def test_matrix_on_a_shared_endpoint_checks_the_run_id_it_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Without --run-id, matrix still prefixes `mx-XXXXXX-` on a shared endpoint: a 60-character user
    name that fits IAM's 64 alone does not fit with it."""
    import orchestrator.commands.matrix as matrix

    monkeypatch.setattr(matrix, "run_one", lambda *_: pytest.fail("a scenario ran"))
    path = tmp_path / "long.yaml"
    path.write_text(f"name: long\nusers:\n  {'u' * 60}: {{}}\nstates:\n  - name: s\n")
    assert main(["validate", str(path)]) == 0
    assert main(["matrix", str(path), "--jobs", "1", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "the run id 'mx-" in err and "70 characters, where 1 to 64 are allowed" in err
