"""Why a witness is not made as a real call (prove/witness_replay.py), case by case."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.analysis.offline import OfflineBackend
from orchestrator.prove.witness_replay import not_replayable
from orchestrator.resources.context import RunContext
from orchestrator.whoelse import Witness


@dataclass(frozen=True)
class Backend(OfflineBackend):
    kind: str = "embedded"


def ctx(kind: str = "embedded") -> RunContext:
    return RunContext(Backend("us-east-1", kind=kind), "replay")  # type: ignore[arg-type]


USER = Witness("arn:aws:iam::210987654321:user/someone", "210987654321", "User", "kms:Decrypt", {})


@pytest.mark.parametrize("witness, kind, said", [
    (USER, "aws", "on real AWS orchestrate makes no principal"),
    (Witness("logs.amazonaws.com", "", "Service", "kms:Decrypt", {}), "embedded", "service principal"),
    (Witness("arn:aws:iam::210987654321:root", "210987654321", "Account", "kms:Decrypt", {}), "embedded", "root user"),
    (Witness(USER.caller_arn, USER.caller_account, "User", "kms:Decrypt", {}, vpc_endpoint="vpce-1a"), "embedded",
     "VPC endpoint vpce-1a"),
    (Witness(USER.caller_arn, USER.caller_account, "User", "kms:Decrypt", {"aws:SourceVpc": ("vpc-1",)}), "embedded",
     "carries aws:SourceVpc"),
    (Witness(USER.caller_arn, USER.caller_account, "User", "kms:Decrypt", {}, org_id="o-abcdefghij"), "endpoint",
     "organization o-abcdefghij"),
])
def test_what_cannot_be_replayed_says_why(witness: Witness, kind: str, said: str) -> None:
    reason = not_replayable(ctx(kind), witness)
    assert reason is not None and said in reason


def test_a_user_of_any_account_and_an_encryption_context_can_be() -> None:
    witness = Witness(USER.caller_arn, USER.caller_account, "User", "kms:Decrypt",
                      {"kms:EncryptionContext:purpose": ("orders",)})
    assert not_replayable(ctx(), witness) is None


def _applied(name: str, state: int) -> tuple[Any, Any, Any]:
    from orchestrator.backends.embedded import EmbeddedBackend
    from orchestrator.loader import load_scenario
    from orchestrator.reconcile.apply import apply_state

    loaded = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.yaml")
    backend = EmbeddedBackend(loaded.scenario.region)
    context = RunContext(backend, loaded.scenario.name)
    context.declare(loaded.desired)
    apply_state(context, loaded.desired[state], loaded.scenario.states[state].name)
    return backend, context, loaded


def test_a_partner_witness_is_made_called_and_deleted_and_a_leftover_swept_first() -> None:
    """role-trust-account's partner state: a throwaway partner user assumes the role (allowed),
    and is gone afterwards; a user of that name an earlier replay left (tagged so) is deleted
    first, one that is not orchestrate's witness is left alone and the replay says why."""
    from orchestrator.constants import TAG_SCENARIO, TAG_WITNESS
    from orchestrator.prove.witness_replay import replay_witness

    backend, context, loaded = _applied("role-trust-account", 3)
    try:
        guarantee = loaded.scenario.states[3].guarantees[-1]
        witness = Witness("arn:aws:iam::210987654321:user/someone", "210987654321", "User", "sts:AssumeRole", {})
        partner = backend.client("iam", None, "210987654321")
        partner.create_user(UserName="someone", Tags=[{"Key": TAG_SCENARIO, "Value": "role-trust-account"},
                                                      {"Key": TAG_WITNESS, "Value": "true"}])
        assert replay_witness(context, loaded.desired[3], guarantee, witness).outcome == "allowed"
        assert partner.list_users()["Users"] == []
        partner.create_user(UserName="someone")  # not orchestrate's: never deleted
        replay = replay_witness(context, loaded.desired[3], guarantee, witness)
        assert (replay.outcome, replay.code) == ("error", "EntityAlreadyExists")
        assert [u["UserName"] for u in partner.list_users()["Users"]] == ["someone"]
    finally:
        backend.close()


def test_a_solver_failure_is_unknown_and_the_run_goes_on(monkeypatch: Any) -> None:
    import z3

    from orchestrator.analysis.offline import offline_context
    from orchestrator.loader import load_scenario
    from orchestrator.prove import guarantees

    def failing(*_: Any, **__: Any) -> Any:
        raise z3.Z3Exception("out of memory")

    monkeypatch.setattr(guarantees, "decide", failing)
    loaded = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "kms-grant.yaml")
    context = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    [found] = guarantees.decide_guarantees(context, loaded.desired[0], loaded.scenario.states[0].guarantees)
    assert (found.status, found.failed, found.passed) == ("unknown", False, False)
    assert "out of memory" in found.reason


def test_a_stop_while_z3_converts_arguments_is_the_stop_again(monkeypatch: Any) -> None:
    """ctypes re-raises a signal handler's Terminated as an ArgumentError naming it; it is
    raised again as the stop it was, so the command ends 143 (commands/signals.py)."""
    import ctypes

    from orchestrator.analysis.offline import offline_context
    from orchestrator.commands.signals import Terminated
    from orchestrator.loader import load_scenario
    from orchestrator.prove import guarantees

    def stopped(*_: Any, **__: Any) -> Any:
        raise ctypes.ArgumentError("argument 1: Terminated: SIGTERM")

    monkeypatch.setattr(guarantees, "decide", stopped)
    loaded = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "kms-grant.yaml")
    context = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    with pytest.raises(Terminated):
        guarantees.decide_guarantees(context, loaded.desired[0], loaded.scenario.states[0].guarantees)


def test_a_session_witness_makes_a_throwaway_role_and_a_leftover_role_is_swept_first() -> None:
    """A witness that is a session of another account's role: the role is made, assumed, called
    as and deleted; one an earlier replay left (tagged so) is deleted first, one that is not
    orchestrate's witness is left alone and the replay says why."""
    import json

    from orchestrator.constants import TAG_SCENARIO, TAG_WITNESS
    from orchestrator.prove.witness_replay import replay_witness

    backend, context, loaded = _applied("role-trust-account", 3)
    try:
        guarantee = loaded.scenario.states[3].guarantees[-1]
        witness = Witness("arn:aws:sts::210987654321:assumed-role/deployer/ci", "210987654321", "AssumedRole",
                          "sts:AssumeRole", {}, role_arn="arn:aws:iam::210987654321:role/deployer")
        partner = backend.client("iam", None, "210987654321")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        partner.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust,
                            Tags=[{"Key": TAG_SCENARIO, "Value": "role-trust-account"}, {"Key": TAG_WITNESS, "Value": "true"}])
        assert replay_witness(context, loaded.desired[3], guarantee, witness).outcome == "allowed"
        assert partner.list_roles()["Roles"] == []
        partner.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust)  # not orchestrate's
        replay = replay_witness(context, loaded.desired[3], guarantee, witness)
        assert (replay.outcome, replay.code) == ("error", "EntityAlreadyExists")
        assert [r["RoleName"] for r in partner.list_roles()["Roles"]] == ["deployer"]
    finally:
        backend.close()
