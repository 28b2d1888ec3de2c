"""The one backend-session opener (orchestrator/session.py): the chosen backend, a context that
knows the scenario, the backend closed afterwards, on success and on failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import orchestrator.backends
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.session import BackendChoice, backend_session

SEED = str(Path(__file__).resolve().parents[1] / "scenarios" / "kms-dynamodb-access.yaml")


class Opened:
    """A stand-in backend that says whether it was asked who it is, and closed."""

    kind = "embedded"
    account_id = "123456789012"
    region = "us-east-1"

    def __init__(self) -> None:
        self.identified = self.closed = False

    def identity(self) -> dict[str, str]:
        self.identified = True
        return {"Account": self.account_id, "Arn": f"arn:aws:iam::{self.account_id}:root"}

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> tuple[Opened, list[tuple[Any, ...]]]:
    made, calls = Opened(), []

    def open_backend(*args: Any) -> Opened:
        calls.append(args)
        return made

    monkeypatch.setattr(orchestrator.backends, "open_backend", open_backend)
    return made, calls


def test_the_context_knows_the_scenario_and_the_backend_is_closed_after(opened: Any) -> None:
    made, calls = opened
    loaded = load_scenario(SEED)
    with backend_session(loaded, run_id="r1", adopt=True) as ctx:
        assert (ctx.backend, ctx.scenario, ctx.run_id, ctx.adopt) == (made, loaded.scenario.name, "r1", True)
        assert not made.closed and not made.identified
    assert made.closed
    scenario = loaded.scenario
    assert calls == [(scenario.region, "embedded", None, None, scenario.account, None, {}, scenario.accounts)]


def test_the_options_choose_the_backend_and_the_scenario_fills_in_the_rest(opened: Any) -> None:
    made, calls = opened
    loaded = load_scenario(SEED)
    choice = BackendChoice("aws", None, "prof", "eu-west-1", None, 5.0, {"other": "p2"})
    with backend_session(loaded, choice, identify=True):
        assert made.identified, "a command asks who it is before anything else"
    assert calls == [("eu-west-1", "aws", None, "prof", loaded.scenario.account, 5.0, {"other": "p2"},
                      loaded.scenario.accounts)]


def test_the_backend_is_closed_when_the_body_fails(opened: Any) -> None:
    made, _ = opened
    with pytest.raises(RuntimeError, match="boom"), backend_session(load_scenario(SEED)):
        raise RuntimeError("boom")
    assert made.closed


def test_the_backend_is_closed_when_it_cannot_say_who_it_is(opened: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    made, _ = opened
    monkeypatch.setattr(made, "identity", lambda: (_ for _ in ()).throw(orchestrator.backends.BackendError("no")))
    with pytest.raises(orchestrator.backends.BackendError), backend_session(load_scenario(SEED), identify=True):
        raise AssertionError("the body never runs")
    assert made.closed


def test_embedded_whatever_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """mutate's runs for certainty are moto's even where AWS_ENDPOINT_URL names an endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with backend_session(load_scenario(SEED), BackendChoice(environment=False)) as ctx:
        assert isinstance(ctx.backend, EmbeddedBackend)
