"""Propagation waits: bounded backoff on real AWS only, never a fixed sleep, never on moto."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.resources.context import RunContext
from orchestrator.resources.propagation import until_propagated


class FakeBackend:
    def __init__(self, eventually_consistent: bool) -> None:
        self.eventually_consistent = eventually_consistent
        self.region = "us-east-1"


def flaky(failures: int, code: str = "MalformedPolicyDocumentException") -> Any:
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ClientError({"Error": {"Code": code, "Message": "Policy contains a statement with one or more invalid principals."}}, "PutKeyPolicy")
        return "done"

    return call, calls


def test_retries_with_growing_bounded_delays_until_the_principal_propagates() -> None:
    slept: list[float] = []
    call, calls = flaky(5)
    ctx = RunContext(FakeBackend(True), "s")  # type: ignore[arg-type]
    assert until_propagated(ctx, call, timeout=300, sleep=slept.append) == "done"
    assert calls["n"] == 6 and slept == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_gives_up_at_the_timeout() -> None:
    slept: list[float] = []
    call, _ = flaky(100)
    ctx = RunContext(FakeBackend(True), "s")  # type: ignore[arg-type]
    with pytest.raises(ClientError):
        until_propagated(ctx, call, timeout=0.5, sleep=slept.append)
    assert slept == []


def test_other_errors_and_consistent_backends_never_wait() -> None:
    slept: list[float] = []
    for backend, code in ((FakeBackend(False), "MalformedPolicyDocumentException"), (FakeBackend(True), "AccessDeniedException")):
        call, calls = flaky(1, code)
        with pytest.raises(ClientError):
            until_propagated(RunContext(backend, "s"), call, sleep=slept.append)  # type: ignore[arg-type]
        assert calls["n"] == 1
    assert slept == []
