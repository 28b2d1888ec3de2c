"""On an endpoint (no moto world in this process) predictions come from the desired state; against
`orchestrate serve`'s gate they agree with every answer: no model gap on any shipped scenario."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.backends.moto_world import MotoWorld

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from orchestrator.authz.gate.core import Gate
    from orchestrator.authz.gate.wsgi import GatedMotoServer
    from orchestrator.backends.moto_extensions import install_policy_checks_off, served_policy_loader

    install_policy_checks_off()  # as `orchestrate serve` does (backends/serve.py): the gate alone judges
    gate = Gate("us-east-1", MotoWorld())
    server = GatedMotoServer("127.0.0.1", 0, gate, on_verdict=served_policy_loader(gate.world)).start()
    yield server.endpoint_url
    server.stop()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_predictions_from_the_desired_state_match_the_served_answers(endpoint: str, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(path), "--endpoint-url", endpoint, "--run-id", path.stem[:8], "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    verdicts = [v for s in report["states"] for v in s["expectations"]]
    assert code == 0, [v for v in verdicts if not v["passed"]]
    assert report["backend"] == "endpoint"
    assert all(v["predicted"] is not None for v in verdicts)
    assert [v for v in verdicts if v["model_gap"]] == []
    # each violation's witness made a real call on serve: allowed, or not made, saying why
    replays = [g["replay"] for s in report["states"] for g in s["guarantees"] if g["verdict"] == "violated"]
    assert all(r["outcome"] == "allowed" or (r["outcome"] == "not replayed" and r["reason"]) for r in replays), replays
