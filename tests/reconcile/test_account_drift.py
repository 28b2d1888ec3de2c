"""Plan and drift of entities in another of the scenario's accounts (scenarios/cross-account-table.yaml):
they are read where they live, so a change made there out of band is drift, and one made to a
same-named entity of the home account is not."""
from __future__ import annotations

import json
from pathlib import Path

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all, plan_state
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
LOADED = load_scenario(ROOT / "scenarios" / "cross-account-table.yaml")
PARTNER = LOADED.desired[0].accounts["partner"]
WIDE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def context(backend: EmbeddedBackend) -> RunContext:
    ctx = RunContext(backend, LOADED.scenario.name)
    ctx.declare(LOADED.desired)
    return ctx


def test_an_out_of_band_change_in_the_partner_account_is_drift_and_apply_repairs_it() -> None:
    backend = EmbeddedBackend(LOADED.scenario.region)
    try:
        apply_state(context(backend), LOADED.desired[0], "first")
        assert plan_state(context(backend), LOADED.desired[0], "check").pending == []
        backend.client("iam", None, PARTNER).put_user_policy(UserName="analyst", PolicyName="wide", PolicyDocument=WIDE)

        found = [d for pair in observe_all(context(backend), LOADED.desired[0]) for d in differences(pair)]

        assert [(d.path, d.widens_access) for d in found] == [("inline_policies.wide", True)]
        apply_state(context(backend), LOADED.desired[0], "repair")
        assert backend.client("iam", None, PARTNER).list_user_policies(UserName="analyst")["PolicyNames"] == ["read-orders"]
    finally:
        backend.close()


def test_a_same_named_user_in_the_home_account_is_neither_read_nor_touched() -> None:
    backend = EmbeddedBackend(LOADED.scenario.region)
    try:
        backend.client("iam").create_user(UserName="analyst")  # home's own, not the scenario's
        apply_state(context(backend), LOADED.desired[0], "first")
        assert plan_state(context(backend), LOADED.desired[0], "check").pending == []
        assert backend.client("iam").list_user_policies(UserName="analyst")["PolicyNames"] == []
    finally:
        backend.close()
