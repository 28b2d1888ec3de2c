"""The engine's prediction for an expectation's request, with the reason it gives.

On the embedded backend the gate reads moto's world, the same world the call meets. Other
backends have no local copy of the world, so they get no prediction (see README).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from orchestrator.prove.assertions import Prediction
from orchestrator.prove.calls import CallSpec

LAYER_WORDS = {
    "key-policy": "the key policy",
    "identity-policy": "identity policies",
    "explicit-deny": "an explicit deny",
    "resource-policy": "the resource policy",
    "trust-policy": "the role trust policy",
    "permissions-boundary": "the permissions boundary",
    "session-policy": "the session policies",
    "grant": "a KMS grant",
    "block-public-access": "S3 Block Public Access",
    "key-state": "the key's state",
    "administrator": "administrator credentials",
}


def predict(gate: Any, principal_arn: str, spec: CallSpec) -> Prediction:
    return prediction_of(gate_verdict(gate, principal_arn, spec))


def gate_verdict(gate: Any, principal_arn: str, spec: CallSpec) -> Any:
    """The gate's CallVerdict for the call, with the same per-call transport the real call
    carries (calls.py, CallSpec.transport)."""
    if spec.transport is not None:
        gate = gate.for_call(spec.transport)
    if spec.grant is not None:
        gate = copy.copy(gate)
        gate.world = WithGrant(gate.world, spec.grant)
    return gate.predict(principal_arn, spec.service, spec.operation, spec.params)


class WithGrant:
    """A world that also holds ``grant`` on its key: the throwaway grant a kms:RetireGrant
    expectation retires (prove/key_management.py), which the prediction, made once the call is
    judged, no longer finds. Its answers are not fixed (no memo: ``answers_version`` None)."""

    answers_version = None

    def __init__(self, world: Any, grant: Any) -> None:
        self._world, self._grant = world, grant

    def __getattr__(self, name: str) -> Any:
        return getattr(self._world, name)

    def kms_key(self, key_ref: str | None, region: str, account: str) -> Any:
        key = self._world.kms_key(key_ref, region, account)
        if key is None or key.arn != self._grant.key_arn:
            return key
        others = tuple(g for g in key.grants if g.grant_id != self._grant.grant_id)
        return replace(key, grants=(*others, self._grant))

    def kms_grant_by_token(self, token: str | None, region: str, account: str) -> Any:
        finder = getattr(self._world, "kms_grant_by_token", None)
        return None if finder is None else finder(token, region, account)


def prediction_of(verdict: Any) -> Prediction:
    if verdict.allowed:
        return Prediction(True, None, allowed_reason(verdict.steps))
    step, decision = verdict.steps[-1]
    layer = verdict.layer  # a guardrail's explicit deny is its own layer (gate/errors.py, _layer)
    if layer == "key-state":
        reason = f"{step.action} on {step.resource}: {verdict.error.message if verdict.error else 'the key cannot be used in its state'}"
    elif decision.decision == "explicitDeny":
        reason = decision.reason      # names the action, the resource and the deny statement(s) once
    else:
        # The engine's reason names the resource and the principal.
        reason = f"{step.action} denied by {LAYER_WORDS.get(layer or '', layer)}: {decision.reason}"
    return Prediction(False, layer, reason, verdict.error.code if verdict.error else None)


def allowed_reason(steps: list[Any]) -> str:
    """The engine's reason for each step, which names the statements and policies that allowed."""
    return "; ".join(decision.reason for _, decision in steps) or "allowed"
