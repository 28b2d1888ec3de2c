"""Expectation context (issue 11, item 7): `encryption_context` on direct KMS calls, and
`source_ip` / `secure_transport` on the embedded backend and `orchestrate serve`, proved with real
calls and predicted with the same context (0 model gaps); refused up front with --target aws."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.serve import spawned
from orchestrator.cli import main

SCENARIO = Path(__file__).parent / "data" / "expectation-context.yaml"
# What each expectation of the scenario must meet, in order (see its comments).
EXPECTED = ["allowed", "denied", "denied", "allowed", "denied", "allowed", "denied", "allowed", "denied"]


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for state in report["states"] for v in state["expectations"]]


def check_report(code: int, out: str) -> None:
    report = json.loads(out)
    found = verdicts(report)
    assert code == 0, [v for v in found if not v["passed"]]
    assert [v["actual"] for v in found] == EXPECTED
    assert all(v["passed"] for v in found)
    assert all(v["predicted"] is not None for v in found)
    assert [v for v in found if v["model_gap"]] == []


def test_on_the_embedded_backend(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(SCENARIO), "--output", "json"])
    check_report(code, capsys.readouterr().out)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`orchestrate serve --port 0`; its port is on the first line it prints."""
    with (tmp_path / "serve.log").open("w") as log, spawned(log) as url:
        yield url


def test_against_orchestrate_serve(served: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code = main(["run", str(SCENARIO), "--endpoint-url", served, "--output", "json"])
    out = capsys.readouterr().out
    check_report(code, out)
    assert json.loads(out)["backend"] == "endpoint"


@pytest.mark.parametrize("command", ["apply", "plan", "run"])
def test_refused_on_real_aws_before_the_backend_opens(command: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    def no_backend(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the backend was opened")

    monkeypatch.setattr("orchestrator.backends.open_backend", no_backend)
    code = main([command, str(SCENARIO), "--target", "aws"])
    err = capsys.readouterr().err
    assert code == (1 if command == "plan" else 2)  # plan's 2 means changes
    assert "Traceback" not in err
    # the first expectation that chooses one, located at its field
    line = next(n for n, text in enumerate(SCENARIO.read_text().splitlines(), 1) if "source_ip:" in text)
    assert re.search(rf"expectation-context\.yaml:{line}:\d+: source_ip can be chosen only on the embedded backend", err), err
    assert "(at states[0].expectations[0].source_ip)" in err
    assert err.count("\n") == 1


def test_encryption_context_alone_is_accepted_for_real_aws(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the caller-chosen transport is refused: encryption_context is an API parameter."""
    text = re.sub(r", source_ip: [0-9.]+", "", SCENARIO.read_text())
    text = re.sub(r", secure_transport: false", "", text)
    path = tmp_path / "ctx.yaml"
    path.write_text(text)

    def no_backend(*_args: Any, **_kwargs: Any) -> Any:
        from orchestrator.backends import BackendError
        raise BackendError("no AWS here (test)")

    monkeypatch.setattr("orchestrator.backends.open_backend", no_backend)
    code = main(["plan", str(path), "--target", "aws"])
    err = capsys.readouterr().err
    assert "no AWS here (test)" in err and "can be chosen only" not in err
    assert code != 0


def test_destroy_is_not_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """destroy proves nothing: it may still clean up whatever the scenario owns on AWS."""
    opened: list[Any] = []

    def no_backend(*args: Any, **_kwargs: Any) -> Any:
        from orchestrator.backends import BackendError
        opened.append(args)
        raise BackendError("no AWS here (test)")

    monkeypatch.setattr("orchestrator.backends.open_backend", no_backend)
    main(["destroy", str(SCENARIO), "--target", "aws"])
    assert opened and "can be chosen only" not in capsys.readouterr().err
