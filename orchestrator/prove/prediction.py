"""The engine's prediction for an expectation's request, with the reason it gives.

On the embedded backend the gate reads moto's world, the same world the call meets. Other
backends have no local copy of the world, so they get no prediction (see README).
"""

from __future__ import annotations

from typing import Any

from orchestrator.prove.assertions import Prediction
from orchestrator.prove.calls import CallSpec

LAYER_WORDS = {
    "key-policy": "the key policy",
    "identity-policy": "identity policies",
    "explicit-deny": "an explicit deny",
    "resource-policy": "the resource policy",
    "permissions-boundary": "the permissions boundary",
    "grant": "a KMS grant",
    "key-state": "the key's state",
    "administrator": "administrator credentials",
}


def predict(gate: Any, principal_arn: str, spec: CallSpec) -> Prediction:
    verdict = gate.predict(principal_arn, spec.service, spec.operation, spec.params)
    if verdict.allowed:
        return Prediction(True, None, allowed_reason(verdict.steps))
    step, decision = verdict.steps[-1]
    layer = verdict.layer
    if layer == "key-state":
        reason = f"{step.action} on {step.resource}: {verdict.error.message if verdict.error else 'the key cannot be used in its state'}"
    else:
        where = _where(decision)
        reason = f"{step.action} on {step.resource} denied by {LAYER_WORDS.get(layer or '', layer)}{where}: {decision.reason}"
    return Prediction(False, layer, reason, verdict.error.code if verdict.error else None)


def _where(decision: Any) -> str:
    matched = [ref for ref in decision.matched if ref.effect == "Deny"]
    if not matched:
        return ""
    ref = matched[0]
    statement = f"statement {ref.sid!r}" if ref.sid else f"statement #{ref.index + 1}"
    return f" ({statement} of {ref.policy_name})"


def allowed_reason(steps: list[Any]) -> str:
    parts = []
    for step, decision in steps:
        sids = sorted({ref.sid or f"#{ref.index + 1}" for ref in decision.matched})
        via = f" ({', '.join(sids)})" if sids else ""
        parts.append(f"{step.action} allowed by {LAYER_WORDS.get(decision.layer, decision.layer)}{via}")
    return "; ".join(parts) or "allowed"
