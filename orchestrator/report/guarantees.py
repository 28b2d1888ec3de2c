"""A state's guarantees in the run report: each proved, violated (with its witness: the caller, its
account, the action, the context values, the statements that let it in, and the witness made as a
real call where the backend could) or unknown (with the reason). A guarantee decided otherwise
than it expects (`expect`) fails the run; unknown neither passes nor fails it (prove/guarantees.py)."""

from __future__ import annotations

from typing import Any

from orchestrator.model.scenario import Guarantee
from orchestrator.prove.guarantees import PROVED, UNKNOWN, VIOLATED, GuaranteeResult
from orchestrator.report.style import Style

__all__ = ["guarantee_words", "guarantee_json", "render_guarantees", "guarantee_counts", "witness_json", "guarantee_case_name", "PROVED",
           "VIOLATED", "UNKNOWN"]


def guarantee_words(guarantee: Guarantee) -> str:
    """`only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders`."""
    return guarantee.words()


def guarantee_case_name(state: str, guarantee: dict[str, Any]) -> str:
    """A guarantee's JUnit testcase name, from its JSON: `STATE / guarantee WORDS`."""
    return f"{state} / guarantee {guarantee_words(Guarantee.model_validate(_declared_fields(guarantee)))}"


def _declared_fields(guarantee: dict[str, Any]) -> dict[str, Any]:
    return {key: guarantee[key] for key in ("resource", "actions", "only", "no_access_from") if guarantee.get(key) is not None}


def witness_json(witness: Any) -> dict[str, Any]:
    return {"caller": witness.caller_arn, "account": witness.caller_account, "principal_type": witness.principal_type,
            "action": witness.action, "context": {k: list(v) for k, v in witness.context.items()},
            "tags": dict(witness.tags), "org_id": witness.org_id, "vpc_endpoint": witness.vpc_endpoint,
            "statements": [statement_words(ref) for ref in witness.statements]}


def statement_words(ref: Any) -> str:
    """`statement "Sid" (#1) of key policy arn:...`, as the explanation names a statement."""
    sid = f'"{ref.sid}" (#{ref.index + 1})' if ref.sid else f"#{ref.index + 1}"
    return f"statement {sid} of {ref.policy_name}"


def guarantee_json(result: GuaranteeResult) -> dict[str, Any]:
    g = result.guarantee
    replay = result.replay
    return {"resource": g.resource, "actions": list(g.actions), "only": g.only, "no_access_from": g.no_access_from,
            "expect": g.expect, "verdict": result.status, "passed": result.passed, "reason": result.reason,
            "per_action": dict(result.actions), "seconds": round(result.seconds, 3), "line": result.line or None,
            "col": result.col or None,
            "witness": None if result.witness is None else witness_json(result.witness),
            "replay": None if replay is None else {"outcome": replay.outcome, "reason": replay.reason, "code": replay.code}}


def _mark(result: GuaranteeResult, style: Style) -> str:
    if result.unknown:
        return style("UNKNOWN", "yellow", "bold")
    if not result.passed:
        return style("FAIL", "red", "bold") + f" ({result.status}, expected {result.expected})"
    if result.status == VIOLATED:
        return style("VIOLATED", "yellow", "bold") + " (as intended)"
    return style("PROVED", "green", "bold")


def render_guarantee(result: GuaranteeResult, style: Style) -> list[str]:
    lines = [f"  {_mark(result, style)} guarantee: {guarantee_words(result.guarantee)}"]
    if result.witness is not None:
        w = result.witness
        context = ", ".join(f"{k}={'|'.join(v)}" for k, v in w.context.items()) or "none"
        tags = "".join(f"; tag {k}={v}" for k, v in w.tags.items())
        lines.append(f"       witness: {w.caller_arn} (account {w.caller_account or 'none'}) {w.action}; context: {context}{tags}")
        lines += [f"       let in by: {statement_words(ref)}" for ref in w.statements]
    if result.replay is not None:
        lines.append(f"       real call: {result.replay.outcome}" + (f": {result.replay.reason}" if result.replay.reason else ""))
    if result.reason:
        lines.append(f"       reason: {result.reason}")
    return lines


def render_guarantees(results: list[GuaranteeResult], style: Style) -> list[str]:
    return [line for result in results for line in render_guarantee(result, style)]


def guarantee_counts(results: list[GuaranteeResult]) -> dict[str, int]:
    """Proved, violated, unknown (the verdicts), and failed (decided against `expect`)."""
    return {"guarantees": len(results), PROVED: sum(r.status == PROVED for r in results),
            VIOLATED: sum(r.status == VIOLATED for r in results), UNKNOWN: sum(r.unknown for r in results),
            "failed": sum(r.failed for r in results)}
