"""Fault convergence for table policies: scenarios/table-policy.yaml applied state by state and
interrupted at its k-th mutating call, for every k (PutResourcePolicy and DeleteResourcePolicy
among them), then applied again: the world matches the last state, and destroy leaves no table and
no table policy behind (moto keeps a policy after DeleteTable; the reconciler deletes it first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.base import is_mutating
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.reconcile.observe import plan_state
from orchestrator.resources.context import RunContext

SCENARIO = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "table-policy.yaml")


class Interrupted(Exception):
    pass


def apply_all(backend: EmbeddedBackend) -> None:
    for index, state in enumerate(SCENARIO.scenario.states):
        apply_state(RunContext(backend, SCENARIO.scenario.name), SCENARIO.desired[index], state.name)


def interrupt_at(backend: EmbeddedBackend, k: int, seen: list[str]) -> Any:
    def observer(service: str, operation: str, params: dict[str, Any]) -> None:
        if is_mutating(operation):
            seen.append(operation)
            if len(seen) == k:
                raise Interrupted(operation)

    return backend.observe(observer)


def clean_apply_calls() -> list[str]:
    backend = EmbeddedBackend(SCENARIO.scenario.region)
    try:
        apply_all(backend)
        return [operation for _, operation, _ in backend.log.mutating()]
    finally:
        backend.close()


CALLS = clean_apply_calls()


def moto_table_policies(region: str) -> dict[str, Any]:
    from moto.backends import get_backend

    return {arn: policy for per_account in dict.values(get_backend("dynamodb"))
            for backend in [dict.get(per_account, region)] if backend is not None
            for arn, policy in backend.resource_policies.items()}


def test_the_clean_apply_puts_and_changes_table_policies() -> None:
    assert CALLS.count("PutResourcePolicy") == 4  # orders in three states, ledger once


@pytest.mark.parametrize("k", range(1, len(CALLS) + 1), ids=lambda k: f"{k}-{CALLS[k - 1]}")
def test_interrupted_apply_converges_then_destroys_cleanly(k: int) -> None:
    backend = EmbeddedBackend(SCENARIO.scenario.region)
    try:
        undo = interrupt_at(backend, k, [])
        with pytest.raises(Interrupted):
            apply_all(backend)
        undo()
        apply_all(backend)
        last = SCENARIO.desired[-1]
        assert plan_state(RunContext(backend, SCENARIO.scenario.name), last, "check").pending == []
        destroy(RunContext(backend, SCENARIO.scenario.name), last)
        assert backend.client("dynamodb").list_tables()["TableNames"] == []
        assert moto_table_policies(SCENARIO.scenario.region) == {}
    finally:
        backend.close()
