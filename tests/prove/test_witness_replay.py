"""Why a witness is not made as a real call (prove/witness_replay.py), case by case."""
from __future__ import annotations

from dataclasses import dataclass

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
