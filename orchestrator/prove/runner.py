"""apply's main job: for each policy state in order, reconcile to it, then prove each expectation
with a real call as its principal, beside the engine's prediction; report the access changes
between states. Access keys made for principals are deleted at the end, pass or fail.

Before anything is changed, preflight refuses every conflict at once. Expectations are isolated:
what orchestrate does to prepare a call (a principal's key, a probe ciphertext) that fails is
that expectation's error verdict. A failure of the run itself (a conflict, a reconcile that AWS
refused, an endpoint that stopped answering) ends it as `RunResult.error`, and the verdicts of
the states before stand and are reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.backends.base import BackendError
from orchestrator.backends.failures import describe_aws_error, is_aws_failure
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.preflight import refuse_conflicts
from orchestrator.prove.assertions import CallFailed, Outcome, Prediction, Verdict, deciding_layer, perform, settle, undo_for
from orchestrator.prove.asymmetric_calls import Unprepared, VerificationFailed, verify_offline
from orchestrator.prove.calls import CallSpec, PreparationFailed, Probes, call_for, probed_keys
from orchestrator.loader import LoadedScenario
from orchestrator.model.scenario import DesiredState, Expectation, Settle
from orchestrator.reconcile.plan import Plan
from orchestrator.prove.prediction import predict
from orchestrator.prove.principals import PrincipalKeys, scenario_users
from orchestrator.prove.sessions import Callers, RoleSessions
from orchestrator.resources.context import ConflictError, Context
from orchestrator.resources.lockout import LockoutError


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
    #: Why the run ended early (one message); the states before it keep their verdicts.
    error: str | None = None

    @property
    def verdicts(self) -> list[Verdict]:
        return [v for state in self.states for v in state.verdicts]

    @property
    def passed(self) -> bool:
        return self.error is None and all(v.passed for v in self.verdicts)


Progress = Callable[[str], None]


def run_states(ctx: Context, loaded: LoadedScenario, last: int, progress: Progress | None = None) -> RunResult:
    """Preflight, then states 0..last in order. Infrastructure failures end the run as
    `result.error`; anything else (a bug, an interruption) propagates, keys still deleted."""
    result = RunResult(loaded.scenario.name, ctx.backend.kind)
    stage = "preflight"
    try:
        refuse_conflicts(ctx, [(loaded.scenario.states[i].name, loaded.desired[i]) for i in range(last + 1)])
        with PrincipalKeys(ctx, scenario_users(loaded.desired)) as keys:
            callers = Callers(keys, RoleSessions(ctx, keys))
            probes = Probes(ctx)
            try:
                for index in range(last + 1):
                    stage = f"state {loaded.scenario.states[index].name}"
                    run_state(ctx, loaded, index, last, callers, probes, result, progress)
            finally:
                callers.sessions.forget_all()
    except Exception as error:
        message = describe_failure(ctx, error)
        if message is None:
            raise
        result.error = message if stage == "preflight" else f"{stage}: {message}"
    return result


def run_state(ctx: Context, loaded: LoadedScenario, index: int, last: int, keys: Callers, probes: Probes,
              result: RunResult, progress: Progress | None = None) -> None:
    """Reconcile to one state, make the probe ciphertexts this and later states decrypt while
    its keys are as it leaves them, then prove each of its expectations."""
    state = loaded.scenario.states[index]
    desired = loaded.desired[index]
    if progress:
        progress(f"state {state.name}: reconciling")
    outcome = StateResult(state.name, apply_state(ctx, desired, state.name))
    result.states.append(outcome)  # its verdicts so far stand if a later call cannot be made
    probes.prepare(desired, probed_keys(e for later in loaded.scenario.states[index:last + 1] for e in later.expectations))
    gate = predictor(ctx, desired, probes.blobs, probes.contextual)
    for number, expectation in enumerate(state.expectations):
        settle_config = expectation.settle or loaded.scenario.settle or Settle()
        verdict = check(ctx, keys, desired, expectation, state.name, number, settle_config, probes, gate)
        outcome.verdicts.append(verdict)
        if progress:
            progress(f"state {state.name}: {verdict.principal} {verdict.action} {verdict.resource} -> {verdict.actual.word}")
    outcome.settle_seconds = max((v.settle_seconds for v in outcome.verdicts), default=0.0)


def describe_failure(ctx: Context, error: Exception) -> str | None:
    """One line for a failure of the run itself; None for anything else (a bug of ours)."""
    if isinstance(error, (ConflictError, LockoutError, BackendError)):
        return str(error)
    explained = ctx.backend.failure(error)
    if explained is not None:
        return str(explained)
    return describe_aws_error(error) if is_aws_failure(error) else None


def predictor(ctx: Context, desired: DesiredState, ciphertexts: dict[str, bytes],
              contextual: dict[tuple[str, Any], bytes] | None = None) -> Any:
    """The gate that predicts: the embedded backend's own (moto's world), else one that reads the
    desired state (endpoint, real AWS), where the ciphertexts are filled in as expectations run."""
    gate = getattr(ctx.backend, "gate", None)
    if gate is not None:
        return gate
    from orchestrator.authz.gate import Gate
    from orchestrator.prove.desired_world import DesiredWorld

    return Gate(ctx.region, world=DesiredWorld(ctx, desired, ciphertexts, contextual))


def check(ctx: Context, keys: Callers, desired: DesiredState, expectation: Expectation, state: str,
          number: int, settle_config: Settle, probes: Probes, gate: Any = None) -> Verdict:
    if expectation.offline:
        return offline(ctx, desired, expectation, state, number)
    try:
        spec, client = prepare(ctx, keys, desired, expectation, probes)
    except PreparationFailed as error:
        return errored(expectation, state, number, "PreparationFailed", str(error))
    wanted = expectation.expect == "allowed"
    try:
        actual, attempts, seconds = settle(lambda: perform(client, spec, undo_for(ctx, spec)), wanted, settle_config.timeout_seconds,
                                           settle_config.consecutive, ctx.backend.eventually_consistent)
    except VerificationFailed as error:
        return errored(expectation, state, number, error.code, f"failed verification: {error}")
    except CallFailed as error:
        return errored(expectation, state, number, "CallFailed", f"the call failed: {error}")
    predicted = predict(gate, keys.arn(expectation.principal), spec) if gate is not None else None
    layer = deciding_layer(actual, predicted)
    reason = predicted.reason if predicted else (actual.message or "allowed")
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource, expectation.expect,
                      actual, predicted, layer, reason, expectation.error, expectation.layer, attempts, seconds)
    verdict.problems = judge(verdict)
    return verdict


def offline(ctx: Context, desired: DesiredState, expectation: Expectation, state: str, number: int) -> Verdict:
    """`offline: true`: verified with the public key alone (asymmetric_calls.verify_offline); no call
    is made as the principal, so no policy is asked: the engine's prediction is allowed, by no
    authorization at all."""
    try:
        reason = verify_offline(ctx, desired, expectation)
    except Unprepared as error:
        return errored(expectation, state, number, "PreparationFailed", f"could not prepare the offline check: {error}")
    except VerificationFailed as error:
        return errored(expectation, state, number, error.code, f"failed verification: {error}")
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource, expectation.expect,
                      Outcome(True), Prediction(True, None, "no authorization: an offline check with the public key makes"
                                                " no AWS request"), None, reason, expectation.error, expectation.layer)
    verdict.problems = judge(verdict)
    return verdict


def prepare(ctx: Context, keys: Callers, desired: DesiredState, expectation: Expectation,
            probes: Probes) -> tuple[CallSpec, Any]:
    """The call and the principal's client. What AWS refuses on the way (a probe Encrypt, the
    principal's CreateAccessKey) is PreparationFailed; no answer at all ends the run."""
    try:
        spec = call_for(ctx, desired, expectation, probes)
        return spec, ctx.backend.client(spec.service, keys.credentials(expectation.principal, expectation.via))
    except Exception as error:
        answer = getattr(error, "response", None)
        if not isinstance(answer, dict) or "Error" not in answer:
            raise
        operation = getattr(error, "operation_name", "call")
        who = expectation.principal if expectation.role else f"user:{expectation.principal}"
        via = f" via user:{expectation.via}" if expectation.via else ""
        raise PreparationFailed(f"could not prepare {expectation.action}: orchestrate's {operation} for {who}{via}"
                                f" failed with {answer['Error'].get('Code')}: "
                                f"{answer['Error'].get('Message', '')}") from None


def errored(expectation: Expectation, state: str, number: int, code: str, message: str) -> Verdict:
    """The verdict of an expectation whose call could not be made or answered a non-decision."""
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource,
                      expectation.expect, Outcome(False, code, message, errored=True), None, None, message)
    verdict.problems = [message]
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
        # an error verdict decided nothing: it neither gains nor loses access
        current = {(v.principal, v.action, v.resource): v.actual for v in state.verdicts if not v.actual.errored}
        if position > 0:
            for request, outcome in sorted(current.items()):
                before = previous.get(request)
                if before is not None and before.allowed != outcome.allowed:
                    principal, action, resource = request
                    changes.append({"state": state.name, "principal": principal, "action": action, "resource": resource,
                                    "change": "gained" if outcome.allowed else "lost"})
        previous.update(current)
    return changes
