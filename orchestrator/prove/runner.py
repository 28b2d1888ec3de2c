"""apply's main job: for each policy state in order, reconcile to it, then prove each expectation
with a real call as its principal, beside the engine's prediction; report the access changes
between states. Access keys made for principals are deleted at the end, pass or fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.reconcile.apply import apply_state
from orchestrator.prove.assertions import CallFailed, Outcome, Verdict, deciding_layer, perform, settle
from orchestrator.prove.calls import call_for
from orchestrator.loader import LoadedScenario
from orchestrator.model.scenario import DesiredState, Expectation, Settle
from orchestrator.reconcile.plan import Plan
from orchestrator.prove.prediction import predict
from orchestrator.prove.principals import PrincipalKeys
from orchestrator.resources.context import Context


@dataclass
class StateResult:
    name: str
    plan: Plan
    verdicts: list[Verdict] = field(default_factory=list)
    settle_seconds: float = 0.0


@dataclass
class RunResult:
    scenario: str
    backend: str
    states: list[StateResult] = field(default_factory=list)

    @property
    def verdicts(self) -> list[Verdict]:
        return [v for state in self.states for v in state.verdicts]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


Progress = Callable[[str], None]


def run_states(ctx: Context, loaded: LoadedScenario, last: int, progress: Progress | None = None) -> RunResult:
    result = RunResult(loaded.scenario.name, ctx.backend.kind)
    ciphertexts: dict[str, bytes] = {}
    with PrincipalKeys(ctx) as keys:
        for index in range(last + 1):
            state = loaded.scenario.states[index]
            desired = loaded.desired[index]
            if progress:
                progress(f"state {state.name}: reconciling")
            plan = apply_state(ctx, desired, state.name)
            outcome = StateResult(state.name, plan)
            gate = predictor(ctx, desired, ciphertexts)
            for number, expectation in enumerate(state.expectations):
                settle_config = expectation.settle or loaded.scenario.settle or Settle()
                verdict = check(ctx, keys, desired, expectation, state.name, number, settle_config, ciphertexts, gate)
                outcome.verdicts.append(verdict)
                if progress:
                    progress(f"state {state.name}: {verdict.principal} {verdict.action} {verdict.resource} -> {verdict.actual.word}")
            outcome.settle_seconds = max((v.settle_seconds for v in outcome.verdicts), default=0.0)
            result.states.append(outcome)
    return result


def predictor(ctx: Context, desired: DesiredState, ciphertexts: dict[str, bytes]) -> Any:
    """The gate that predicts: the embedded backend's own (moto's world), else one that reads the
    desired state (endpoint, real AWS), where the ciphertexts are filled in as expectations run."""
    gate = getattr(ctx.backend, "gate", None)
    if gate is not None:
        return gate
    from orchestrator.authz.gate import Gate
    from orchestrator.prove.desired_world import DesiredWorld

    return Gate(ctx.region, world=DesiredWorld(ctx, desired, ciphertexts))


def check(ctx: Context, keys: PrincipalKeys, desired: DesiredState, expectation: Expectation, state: str,
          number: int, settle_config: Settle, ciphertexts: dict[str, bytes], gate: Any = None) -> Verdict:
    spec = call_for(ctx, desired, expectation, ciphertexts)
    service = spec.service
    client = ctx.backend.client(service, keys.credentials(expectation.principal))
    wanted = expectation.expect == "allowed"
    try:
        actual, attempts, seconds = settle(lambda: perform(client, spec), wanted, settle_config.timeout_seconds,
                                           settle_config.consecutive, ctx.backend.eventually_consistent)
    except CallFailed as error:
        failed = Verdict(state, number, expectation.principal, expectation.action, expectation.resource,
                         expectation.expect, Outcome(False, "CallFailed", str(error)), None, None, str(error))
        failed.problems = [f"the call failed: {error}"]
        return failed
    predicted = predict(gate, ctx.arn(f"user:{expectation.principal}"), spec) if gate is not None else None
    layer = deciding_layer(actual, predicted)
    reason = predicted.reason if predicted else (actual.message or "allowed")
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource, expectation.expect,
                      actual, predicted, layer, reason, expectation.error, expectation.layer, attempts, seconds)
    verdict.problems = judge(verdict)
    return verdict


def judge(verdict: Verdict) -> list[str]:
    problems = []
    if verdict.actual.word != verdict.expected:
        problems.append(f"expected {verdict.expected}, was {verdict.actual.word}")
    if verdict.expected_error and not verdict.actual.allowed and verdict.actual.code != verdict.expected_error:
        problems.append(f"expected error {verdict.expected_error}, was {verdict.actual.code}")
    if verdict.expected_layer and not verdict.actual.allowed and verdict.layer != verdict.expected_layer:
        problems.append(f"expected the {verdict.expected_layer} to decide, was {verdict.layer or 'unknown'}")
    return problems


def access_changes(result: RunResult) -> list[dict[str, str]]:
    """Per state after the first: who gained or lost which action on which resource."""
    changes = []
    previous: dict[tuple[str, str, str], Outcome] = {}
    for position, state in enumerate(result.states):
        current = {(v.principal, v.action, v.resource): v.actual for v in state.verdicts}
        if position > 0:
            for request, outcome in sorted(current.items()):
                before = previous.get(request)
                if before is not None and before.allowed != outcome.allowed:
                    principal, action, resource = request
                    changes.append({"state": state.name, "principal": principal, "action": action, "resource": resource,
                                    "change": "gained" if outcome.allowed else "lost"})
        previous.update(current)
    return changes
