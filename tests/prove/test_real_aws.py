"""Opt-in: the seed scenario on real AWS. Skipped unless ORCHESTRATE_AWS_TESTS=1 and
ORCHESTRATE_AWS_ACCOUNT name the sandbox account (the credential chain is not even consulted
otherwise, so no metadata endpoint is ever asked)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("ORCHESTRATE_AWS_TESTS") == "1" and bool(os.environ.get("ORCHESTRATE_AWS_ACCOUNT"))

pytestmark = [pytest.mark.aws, pytest.mark.skipif(not ENABLED, reason="real AWS is opt-in: set ORCHESTRATE_AWS_TESTS=1 and ORCHESTRATE_AWS_ACCOUNT")]


def test_seed_scenario_on_real_aws() -> None:
    run_id = f"t{uuid.uuid4().hex[:8]}"
    code = main(["run", str(ROOT / "scenarios" / "kms-dynamodb-access.yaml"), "--target", "aws",
                 "--account", os.environ["ORCHESTRATE_AWS_ACCOUNT"], "--run-id", run_id, "--no-color"])
    assert code == 0
