"""Parallel proofs: on an endpoint and on real AWS the expectations of a state are observed at
once in a bounded pool, each with its own settle loop, and judged in file order; an expectation
that changes the world is proved alone; the embedded backend stays serial. Against `orchestrate
serve` as a subprocess, --parallel gives the verdicts serial gives, and with
`serve --propagation-delay` an expectation is retried until the change has propagated."""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.serve import spawned
from orchestrator.cli import main
from orchestrator.model.scenario import Expectation, Settle
from orchestrator.prove import runner
from orchestrator.prove.assertions import Outcome, Settled
from orchestrator.prove.calls import CallSpec
from orchestrator.prove.runner import DEFAULT_PARALLEL, Ready, Stopped, batches, observe_pooled, proof_workers

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")


class FakeBackend:
    kind = "endpoint"
    eventually_consistent = True

    def client(self, *_args: Any) -> None:
        return None


class FakeContext:
    backend = FakeBackend()


def ready(number: int, operation: str = "GetItem", service: str = "dynamodb") -> Ready:
    expectation = Expectation.model_validate({"as": "tester", "action": f"{service}:{operation}",
                                              "resource": "table:orders", "expect": "allowed"})
    spec = CallSpec(service, operation, operation.lower(), {})
    return Ready(expectation, number, spec, None, Settle())


def test_the_embedded_backend_stays_serial_and_endpoints_default_to_eight() -> None:
    embedded = type("Ctx", (), {"backend": type("B", (), {"kind": "embedded"})()})()
    assert proof_workers(embedded, 16) == 1  # type: ignore[arg-type]
    assert proof_workers(FakeContext(), None) == DEFAULT_PARALLEL == 32  # type: ignore[arg-type]
    assert proof_workers(FakeContext(), 3) == 3  # type: ignore[arg-type]


def test_the_pool_observes_up_to_n_expectations_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake slow observe counts the loops under way at once (no timing assertion)."""
    lock, running, most = threading.Lock(), [0], [0]
    all_in = threading.Barrier(4, timeout=10)  # four loops must be under way together

    def slow(ctx: Any, item: Ready, sleep: Any = None) -> tuple[Settled, float]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if item.number < 4:
            all_in.wait()
        with lock:
            running[0] -= 1
        return Settled(Outcome(True), 1, 0.0, True), 0.0

    monkeypatch.setattr(runner, "observe", slow)
    observed = observe_pooled(FakeContext(), [ready(n) for n in range(10)], 4)  # type: ignore[arg-type]
    assert most[0] == 4
    assert sorted(observed) == list(range(10))
    assert all(isinstance(o, tuple) and o[0].outcome.allowed for o in observed.values())


def test_an_expectation_that_changes_the_world_is_proved_alone() -> None:
    items = [ready(0), ready(1), ready(2, "DeleteObject", "s3"), ready(3), ready(4, "CreateGrant", "kms"), ready(5)]
    assert [[i.number for i in batch] for batch in batches(FakeContext(), items)] == [[0, 1], [2], [3], [4], [5]]  # type: ignore[arg-type]


def test_a_failure_of_the_run_stops_the_other_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    def observe(ctx: Any, item: Ready, sleep: Any) -> tuple[Settled, float]:
        if item.number == 0:
            raise ConnectionError("the endpoint stopped answering")
        sleep(600)  # woken at once by the failure: Stopped
        raise AssertionError("not stopped")

    monkeypatch.setattr(runner, "observe", observe)
    observed = observe_pooled(FakeContext(), [ready(n) for n in range(3)], 3)  # type: ignore[arg-type]
    assert isinstance(observed[0], ConnectionError)
    assert all(isinstance(observed[n], Stopped) for n in (1, 2))


# -- against `orchestrate serve` ------------------------------------------------------------------

@contextlib.contextmanager
def serving(log: Path, *options: str) -> Iterator[str]:
    """`orchestrate serve` on a free loopback port, with serve's options."""
    with log.open("w") as stderr, spawned(stderr, *options) as url:
        yield url


def run_json(endpoint: str, scenario: str, *options: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["run", scenario, "--endpoint-url", endpoint, "--output", "json", "--quiet", *options])
    return code, json.loads(out.getvalue())


def verdicts(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(v["state"], v["index"], v["principal"], v["action"], v["actual"], v["passed"], v["error_code"], v["layer"])
            for state in report["states"] for v in state["expectations"]]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One plain `orchestrate serve` for the scenarios below: each run ends with its destroy."""
    with serving(tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield url


@pytest.mark.parametrize("scenario", ["s3-sse-kms", "kms-grant", "role-trust-account"])
def test_parallel_gives_the_verdicts_serial_gives(endpoint: str, scenario: str) -> None:
    path = str(ROOT / "scenarios" / f"{scenario}.yaml")
    serial_code, serial = run_json(endpoint, path, "--parallel", "1")
    parallel_code, parallel = run_json(endpoint, path, "--parallel", "8")
    assert sum(len(s["expectations"]) for s in serial["states"]) >= 4
    assert (serial_code, parallel_code) == (0, 0), [v for v in verdicts(parallel) if not v[5]]
    assert verdicts(parallel) == verdicts(serial)
    assert (serial["parallel"], parallel["parallel"]) == (1, 8)
    for state in parallel["states"]:  # serve answers at once: nothing waited
        assert state["last_to_settle"] is None and state["settle_seconds"] >= 0


def test_the_embedded_backend_reports_serial_proofs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--output", "json", "--quiet", "--parallel", "8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["parallel"] == 1
    assert [s["last_to_settle"] for s in report["states"]] == [None, None]
    assert all(v["settled"] for s in report["states"] for v in s["expectations"])


def test_eventually_consistent_is_refused_on_the_embedded_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--eventually-consistent"]) == 2
    assert "--eventually-consistent applies to an endpoint" in capsys.readouterr().err


def _serve_lags() -> bool:
    """serve's --help has --propagation-delay (read from the parser: no process at collection)."""
    import argparse

    from orchestrator.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "--propagation-delay" in commands.choices["serve"].format_help()


@pytest.mark.skipif(not _serve_lags(), reason="orchestrate serve has no --propagation-delay yet")
def test_an_expectation_is_retried_until_the_change_has_propagated(tmp_path: Path) -> None:
    """serve --propagation-delay 2: the seed's second state grants tester kms:Decrypt in the key
    policy; the gate enforces it 2 s later, so tester's GetItem is denied, then allowed, and holds."""
    with serving(tmp_path / "serve.log", "--propagation-delay", "2") as endpoint:
        serial_code, serial = run_json(endpoint, SEED, "--parallel", "1")
        parallel_code, parallel = run_json(endpoint, SEED, "--parallel", "8")
    assert (serial_code, parallel_code) == (0, 0), [v for v in verdicts(serial) + verdicts(parallel) if not v[5]]
    assert verdicts(parallel) == verdicts(serial)
    for report in (serial, parallel):
        granted = report["states"][1]
        [tester] = granted["expectations"]
        assert tester["attempts"] > 1 and tester["passed"] and tester["settled"]
        assert tester["settle_seconds"] >= 1.5  # the delay, less the time apply took after PutKeyPolicy
        assert granted["last_to_settle"]["index"] == 0
        assert granted["settle_seconds"] >= tester["settle_seconds"] - 0.01


@pytest.mark.skipif(not _serve_lags(), reason="orchestrate serve has no --propagation-delay yet")
def test_the_text_report_says_how_long_a_state_took_to_settle(tmp_path: Path) -> None:
    with serving(tmp_path / "serve.log", "--propagation-delay", "1") as endpoint:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["run", SEED, "--endpoint-url", endpoint, "--no-color", "--quiet"])
    assert code == 0, out.getvalue()
    assert re.search(r"settled in \d+\.\d s; last to settle: #1 tester dynamodb:GetItem table:orders \(\d+ observations",
                     out.getvalue()), out.getvalue()
    assert f"{DEFAULT_PARALLEL} expectations proved at once" in out.getvalue()
