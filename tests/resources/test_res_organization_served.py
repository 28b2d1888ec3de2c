"""The organization scenario and the VPC endpoint scenario against `orchestrate serve` (issue 23,
items 3 and 4): `run` applies, proves and destroys through the gated server; the predictions
(prove/desired_world.py, the organization and the endpoint from the scenario) agree with the
served answers (no model gap), and destroy leaves no organization behind."""
from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))
from serve_support import World, client, served  # noqa: E402

from orchestrator.cli import main  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with served(tmp_path_factory.mktemp("serve") / "serve.log") as running:
        yield running


@pytest.mark.parametrize("scenario", ["org-scp.yaml", "vpce-bucket.yaml", "../../prove/data/expectation-context.yaml"])
def test_run_against_serve_proves_and_destroys(world: World, scenario: str) -> None:
    """vpce-bucket and expectation-context choose an endpoint and a source address: serve honours
    them only because orchestrate's run proves them with its own key pair (transport_proof.py)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", str(DATA / scenario), "--endpoint-url", world.url, "--no-color"])
    text = out.getvalue()
    assert code == 0, text[-3000:]
    assert "0 failed" in text and "model gap" not in text, text[-3000:]
    with pytest.raises(ClientError) as raised:
        client(world.url, "organizations").describe_organization()
    assert raised.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"
